#!/usr/bin/env bash
# The benchmark suite: install the project (.venv) and run benchmarks/run.py with the given arguments
# (--quick for N = 50, 200 on PostgreSQL only). Peers are installed into benchmarks/.venvs/ on first use.
# Servers: DBWARDEN_TEST_{POSTGRESQL,MARIADB}_URL name existing ones, else throwaway servers (tests/servers.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh all
exec .venv/bin/python benchmarks/run.py "$@"
