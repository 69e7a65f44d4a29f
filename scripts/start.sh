#!/usr/bin/env bash
# Quick start: install everything, then run the service with the sample data on
# http://127.0.0.1:5000 (SQLite in instance/, in-process job worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/noicutru serve --demo "$@"
