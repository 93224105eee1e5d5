#!/usr/bin/env bash
# Set everything up (with chromium, for the report's browser test), lint (ruff) and type-check
# (mypy) the package, then run the test suite.
# Extra arguments go to pytest (e.g. --run-slow, or -m "not ngspice" on a machine without it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --for-tests
.venv/bin/ruff check --quiet .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
