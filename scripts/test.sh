#!/usr/bin/env bash
# Install everything, then run the whole test suite (SQLite, and PostgreSQL / Redis
# when reachable; with CI=true they are required).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# Two workers by default (one per core of the reference machine; NOICUTRU_TEST_WORKERS to change); each test file runs whole on one worker, so
# its module fixtures are made once.
exec .venv/bin/python -m pytest -n "${NOICUTRU_TEST_WORKERS:-2}" --dist loadfile "$@"
