#!/usr/bin/env bash
# Build kubectl from the lab's pinned Kubernetes module (tests/lab/go/kube, the same pins as the lab's
# kube-apiserver) into a cache outside the repository (gocache.sh). Only `make bench` needs it (its
# baseline is one `kubectl apply --server-side` per cluster), so it has a cache key of its own: the
# lab's binaries are never rebuilt for it. Prints the path of the kubectl binary on stdout.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/gocache.sh
. "$here/gocache.sh"

build_binary() {
  local moddir=$1 out=$2 kube_version minor ldflags pkg
  kube_version=$(awk '{ for (i = 1; i < NF; i++) if ($i == "k8s.io/kubernetes" && $(i+1) ~ /^v1\./) { print $(i+1); exit } }' "$moddir/go.mod")
  [ -n "$kube_version" ] || { echo "build-kubectl.sh: cannot read the k8s.io/kubernetes version from go/kube/go.mod" >&2; exit 2; }
  minor=$(echo "$kube_version" | cut -d. -f2)
  ldflags="-s -w -buildid="
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  done
  (cd "$moddir" && go build -trimpath -ldflags "$ldflags" -o "$out" k8s.io/kubernetes/cmd/kubectl)
}

cached_go_binary kubectl "$here/go/kube"
