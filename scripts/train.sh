#!/usr/bin/env bash
# The main job: set everything up, then train the bundled default (sklearn digits, ngspice in the
# loop). Extra arguments go to `eqprop-analog train`, e.g. --out DIR or --resume DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/eqprop-analog train --config examples/configs/digits.toml "$@"
