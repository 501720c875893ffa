#!/usr/bin/env bash
# Debian packages and toolchains that `make` needs: installed only when missing.
set -euo pipefail
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v flock >/dev/null || need+=(util-linux)
command -v git >/dev/null || need+=(git)
command -v shellcheck >/dev/null || need+=(shellcheck)
if ! command -v python3.11 >/dev/null; then need+=(python3 python3-venv); fi
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then need+=(golang-go); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
  else
    echo "system-deps: please install: ${need[*]}" >&2; exit 2
  fi
fi
