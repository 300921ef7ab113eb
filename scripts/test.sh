#!/usr/bin/env bash
# Install everything (into .venv) and run the whole test suite against real databases.
# Servers: DBWARDEN_TEST_{POSTGRESQL,MARIADB,MYSQL}_URL point at existing ones; unset, the tests start
# throwaway servers themselves (see tests/servers.py). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
exec .venv/bin/python -m pytest "$@"
