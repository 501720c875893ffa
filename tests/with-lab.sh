#!/usr/bin/env bash
# Run a command with the lab up: reuse a running lab, or start one and stop it afterwards.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
py=${LAB_PYTHON:-python}
started=0
if ! "$py" -m tests.lab status >/dev/null 2>&1; then
  "$py" -m tests.lab up || exit 1
  started=1
fi
"$@"
rc=$?
if [ "$started" = 1 ] && [ -z "${KEEP_LAB:-}" ]; then
  "$py" -m tests.lab down
fi
exit $rc
