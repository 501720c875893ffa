#!/usr/bin/env bash
# Build the lab's Kubernetes binaries (kube-apiserver, kube-controller-manager, etcd)
# from the pinned Go modules in tests/lab/go/, into a cache outside the repository.
# The cache is keyed by the module pins and the Go version, so a rebuild happens only
# when a pin changes. Prints the binary directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DEVSECOPS_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/devsecops-multicluster}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/gomod}
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}
command -v go >/dev/null || { echo "build.sh: Go is required to build the lab binaries (apt-get install golang or use the machine's Go)" >&2; exit 2; }
goversion=$(go env GOVERSION)
key=$(cat "$here/build.sh" "$here/go/kube/go.mod" "$here/go/kube/go.sum" "$here/go/etcd/go.mod" "$here/go/etcd/go.sum" | sha256sum | cut -c1-16)-$goversion
bin=$cache_root/bin/$key
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9
kube_version=$(awk '{ for (i = 1; i < NF; i++) if ($i == "k8s.io/kubernetes" && $(i+1) ~ /^v1\./) { print $(i+1); exit } }' "$here/go/kube/go.mod")
[ -n "$kube_version" ] || { echo "build.sh: cannot read the k8s.io/kubernetes version from go/kube/go.mod" >&2; exit 2; }
minor=$(echo "$kube_version" | cut -d. -f2)
ldflags="-s -w -buildid="
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
ldflags="$ldflags -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.gitCommit=unknown -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
build() {  # build <dir> <package> <output>
  if [ ! -x "$bin/$3" ]; then
    echo "build.sh: building $3 ($2) into $bin" >&2
    start=$(date +%s)
    (cd "$here/go/$1" && go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$4" -o "$bin/$3.tmp" "$2")
    mv "$bin/$3.tmp" "$bin/$3"
    echo "build.sh: $3 built in $(( $(date +%s) - start ))s" >&2
  fi
}
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$ldflags"
build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$ldflags"
build etcd go.etcd.io/etcd/server/v3 etcd "-s -w -buildid="
flock -u 9
echo "$bin"
