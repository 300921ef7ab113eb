#!/usr/bin/env bash
# The quickstart: an example shop on an embedded SQLite database through make-migrations → migrate → status → diff.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh "" >&2
exec .venv/bin/python examples/quickstart/run.py
