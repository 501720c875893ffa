#!/usr/bin/env bash
# Build the lab's helm binary from the pinned Go module in tests/lab/go/helm, into a cache
# outside the repository, as build.sh does for kube-apiserver and etcd. A script of its own, with
# its own cache key (this script, the pins, the Go version), so adding or bumping helm never
# rebuilds the Kubernetes binaries. Prints the path of the helm binary on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DEVSECOPS_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/devsecops-multicluster}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/gomod}
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}
command -v go >/dev/null || { echo "build-helm.sh: Go is required to build the lab's helm (apt-get install golang or use the machine's Go)" >&2; exit 2; }
goversion=$(go env GOVERSION)
key=$(cat "$here/build-helm.sh" "$here/go/helm/go.mod" "$here/go/helm/go.sum" | sha256sum | cut -c1-16)-$goversion
bin=$cache_root/bin/helm-$key
if [ -x "$bin/helm" ]; then
  echo "$bin/helm"
  exit 0
fi
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9
if [ ! -x "$bin/helm" ]; then
  # the version variables helm's Makefile sets: without them `helm version` says only "v3.<minor>",
  # and kubernetes.core.helm reads the full version to decide which flags it may pass
  version=$(awk '$1 == "helm.sh/helm/v3" && $2 ~ /^v3\./ { print $2; exit }' "$here/go/helm/go.mod")
  client_go=$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v0\./ { print $2; exit }' "$here/go/helm/go.mod")
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
  echo "build-helm.sh: building helm $version into $bin" >&2
  start=$(date +%s)
  (cd "$here/go/helm" && go build -trimpath -ldflags "$ldflags" -o "$bin/helm.tmp" helm.sh/helm/v3/cmd/helm)
  mv "$bin/helm.tmp" "$bin/helm"
  echo "build-helm.sh: helm built in $(( $(date +%s) - start ))s" >&2
fi
flock -u 9
echo "$bin/helm"
