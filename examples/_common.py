"""Shared by the example scripts: train from one of the configs beside them."""

import sys
from pathlib import Path

from eqprop_analog.config_files import load_config
from eqprop_analog.learning.checkpoint import CHECKPOINT
from eqprop_analog.run import train

CONFIGS = Path(__file__).resolve().parent / "configs"


def run_example(name: str, run_dir: Path | None = None) -> dict:
    """Train (or resume) the config ``name`` in ``run_dir``: by default the folder given on the
    command line, else runs/example-<name>."""
    if run_dir is None:
        run_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs") / f"example-{name}"
    resume = (run_dir / CHECKPOINT).exists()
    summary = train(load_config(CONFIGS / f"{name}.toml"), run_dir, resume=resume)
    print(f"{name}: test accuracy {100 * summary['test_accuracy']:.1f} % "
          f"(train {100 * summary['train_accuracy']:.1f} %) in {summary['seconds']:.0f} s; "
          f"netlist and curves in {run_dir}")
    return summary
