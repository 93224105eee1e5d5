#!/usr/bin/env bash
# Set everything up, then run the test suite. Extra arguments go to pytest (e.g. --run-slow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -q "$@"
