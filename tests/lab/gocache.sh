# shellcheck shell=bash
# Sourced by the lab's single-binary Go builds (build-helm.sh, build-kubectl.sh): the Go environment,
# a cache directory outside the repository keyed by the calling script, its module's pins and the Go
# version (so one binary's bump never rebuilds another), a lock so parallel callers build once, and
# the binary's path on stdout. The caller defines build_binary <module-dir> <output-file> and calls
#   cached_go_binary <name> <module-dir>
set -euo pipefail
cache_root=${DEVSECOPS_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/devsecops-multicluster}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$cache_root/gomod}
export GOCACHE=${GOCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/go-build}

cached_go_binary() {
  local name=$1 moddir=$2 script key bin start
  script=$(basename "$0")
  command -v go >/dev/null || { echo "$script: Go is required to build the lab's $name (apt-get install golang or use the machine's Go)" >&2; exit 2; }
  key=$(cat "$0" "$moddir/go.mod" "$moddir/go.sum" | sha256sum | cut -c1-16)-$(go env GOVERSION)
  bin=$cache_root/bin/$name-$key
  if [ ! -x "$bin/$name" ]; then
    mkdir -p "$bin"
    exec 9>"$bin/.lock"
    flock 9
    if [ ! -x "$bin/$name" ]; then
      echo "$script: building $name into $bin" >&2
      start=$(date +%s)
      build_binary "$moddir" "$bin/$name.tmp"
      mv "$bin/$name.tmp" "$bin/$name"
      echo "$script: $name built in $(( $(date +%s) - start ))s" >&2
    fi
    flock -u 9
  fi
  echo "$bin/$name"
}
