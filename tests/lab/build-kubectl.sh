#!/usr/bin/env bash
# Build kubectl from the lab's pinned Kubernetes module (tests/lab/go/kube, the same pins as the lab's
# kube-apiserver) into a cache outside the repository. Only `make bench` needs it (its baseline is one
# `kubectl apply --server-side` per cluster), so it has a script and a cache key of its own: the lab's
# binaries are never rebuilt for it. Prints the path of the kubectl binary on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DEVSECOPS_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/devsecops-multicluster}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/gomod}
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}
command -v go >/dev/null || { echo "build-kubectl.sh: Go is required to build kubectl (apt-get install golang or use the machine's Go)" >&2; exit 2; }
goversion=$(go env GOVERSION)
key=$(cat "$here/build-kubectl.sh" "$here/go/kube/go.mod" "$here/go/kube/go.sum" | sha256sum | cut -c1-16)-$goversion
bin=$cache_root/bin/kubectl-$key
if [ -x "$bin/kubectl" ]; then
  echo "$bin/kubectl"
  exit 0
fi
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9
if [ ! -x "$bin/kubectl" ]; then
  kube_version=$(awk '{ for (i = 1; i < NF; i++) if ($i == "k8s.io/kubernetes" && $(i+1) ~ /^v1\./) { print $(i+1); exit } }' "$here/go/kube/go.mod")
  [ -n "$kube_version" ] || { echo "build-kubectl.sh: cannot read the k8s.io/kubernetes version from go/kube/go.mod" >&2; exit 2; }
  minor=$(echo "$kube_version" | cut -d. -f2)
  ldflags="-s -w -buildid="
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  done
  echo "build-kubectl.sh: building kubectl $kube_version into $bin" >&2
  start=$(date +%s)
  (cd "$here/go/kube" && go build -trimpath -ldflags "$ldflags" -o "$bin/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl)
  mv "$bin/kubectl.tmp" "$bin/kubectl"
  echo "build-kubectl.sh: kubectl built in $(( $(date +%s) - start ))s" >&2
fi
flock -u 9
echo "$bin/kubectl"
