#!/usr/bin/env bash
# The main job: set everything up, then train the bundled default (sklearn digits, ngspice in the
# loop). Extra arguments go to `eqprop-analog train`, e.g. --out DIR or --resume DIR (a resumed
# run keeps its own config, so the default's is not passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
config=(--config examples/configs/digits.toml)
for arg in "$@"; do
    case "$arg" in --res | --res=* | --resu*) config=() ;; esac  # argparse takes --res too
done
exec .venv/bin/eqprop-analog train ${config[@]+"${config[@]}"} "$@"
