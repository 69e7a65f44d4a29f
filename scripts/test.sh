#!/usr/bin/env bash
# Install everything, then run the whole test suite (SQLite, and PostgreSQL / Redis
# when reachable; with CI=true they are required).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest "$@"
