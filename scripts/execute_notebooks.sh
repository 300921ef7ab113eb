#!/usr/bin/env bash
# Re-execute the example notebooks (notebooks/*.ipynb, or the ones given) in the project's .venv and store
# their outputs; run it after a change that alters what they show, then commit the notebooks.
# Outputs are deterministic: running it twice gives identical files. PostgreSQL, MySQL, MariaDB: the server named
# by DBWARDEN_NB_{POSTGRESQL,MYSQL,MARIADB}_URL, else the test suite's (tests/servers.py: DBWARDEN_TEST_*_URL, else a
# throwaway one), as in the notebooks themselves (notebooks/_support.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
exec .venv/bin/python scripts/execute_notebooks.py "$@"
