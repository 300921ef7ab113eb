#!/usr/bin/env bash
# Install everything (into .venv) and run the whole test suite against real databases.
# Servers: DBWARDEN_TEST_{POSTGRESQL,MARIADB,MYSQL}_URL point at existing ones; unset, the tests start
# throwaway servers themselves (see tests/servers.py), and so do the notebooks (DBWARDEN_NB_{POSTGRESQL,MYSQL,MARIADB}_URL).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
# tests/notebook/test_browser.py needs Chromium (it must run in CI); install it when we are root and it is missing.
command -v chromium >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && { apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; }; } || true
# Lint and type-check first; either failing stops the run with its own report (pyproject's [tool.ruff], [tool.mypy]).
.venv/bin/ruff check .
.venv/bin/mypy dbwarden_nb
# One pytest run: tests/ and, through nbval, the example notebooks (notebooks/*.ipynb; pyproject's testpaths),
# each re-executed in a kernel of this venv's Python and compared with its stored outputs, text/plain and
# stdout only (notebooks/conftest.py). Paths given as arguments narrow the run as usual.
exec .venv/bin/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
    --nbval-cell-timeout 600 "$@"
