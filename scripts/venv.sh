#!/usr/bin/env bash
# Make .venv (once) and install the project into it, editable, with the extras given as $1.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
log=.venv-install.log
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
       .venv/bin/python -m pip install --disable-pip-version-check -e ".${extras:+[$extras]}"; } >"$log" 2>&1; then
    grep -v "is ignored" "$log" | tail -40 >&2
    echo "scripts/venv.sh: installing the project failed (full log: $log)" >&2
    exit 1
fi
.venv/bin/python -c "import dbwarden_nb"
