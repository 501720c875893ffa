#!/usr/bin/env bash
# Build the lab's helm binary from the pinned Go module in tests/lab/go/helm, into a cache outside the
# repository (gocache.sh), as build.sh does for kube-apiserver and etcd. Its own cache key, so adding or
# bumping helm never rebuilds the Kubernetes binaries. Prints the path of the helm binary on stdout.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/gocache.sh
. "$here/gocache.sh"

build_binary() {
  local moddir=$1 out=$2 version client_go k8s_major k8s_minor ldflags pkg
  # the version variables helm's Makefile sets: without them `helm version` says only "v3.<minor>",
  # and kubernetes.core.helm reads the full version to decide which flags it may pass
  version=$(awk '$1 == "helm.sh/helm/v3" && $2 ~ /^v3\./ { print $2; exit }' "$moddir/go.mod")
  client_go=$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v0\./ { print $2; exit }' "$moddir/go.mod")
  if [ -z "$version" ] || [ -z "$client_go" ]; then
    echo "build-helm.sh: cannot read the helm and client-go versions from go/helm/go.mod" >&2
    exit 2
  fi
  k8s_major=$(( $(echo "$client_go" | cut -d. -f1 | tr -d v) + 1 ))
  k8s_minor=$(echo "$client_go" | cut -d. -f2)
  ldflags="-s -w -buildid= -X helm.sh/helm/v3/internal/version.version=$version"
  ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/internal/version.gitCommit=unknown"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=$k8s_major -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  (cd "$moddir" && go build -trimpath -ldflags "$ldflags" -o "$out" helm.sh/helm/v3/cmd/helm)
}

cached_go_binary helm "$here/go/helm"
