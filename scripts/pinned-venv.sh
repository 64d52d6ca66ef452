#!/usr/bin/env bash
# Usage: pinned-venv.sh DIR PIN...  Makes a Python virtualenv at DIR holding exactly the pinned
# packages; rebuilt only when the pins change (a stamp file in DIR records them). Used by
# setup.sh (the host tests' venv) and bench-venv.sh (the benchmarks' baselines).
set -euo pipefail
dir=$1
shift
stamp="$dir/.sirenade-pins"
if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
  echo "pinned-venv: creating $dir with $*"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  echo "$*" >"$stamp"
fi
