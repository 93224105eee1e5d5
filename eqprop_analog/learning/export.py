"""What a finished run leaves in its folder besides the checkpoint: trained netlist, weight map,
curves and a summary."""

from __future__ import annotations

import json
from pathlib import Path

from eqprop_analog.analysis.step_energy import training_energy
from eqprop_analog.files import atomic_write_text
from eqprop_analog.learning.trainer import Trainer, TrainResult
from eqprop_analog.report.plots import plot_curves
from eqprop_analog.spice.netlist import write_netlist, write_weight_map


def write_summary(run_dir: Path, summary: dict) -> None:
    """Write (or rewrite) the run's summary.json."""
    atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")


def export_run(trainer: Trainer, result: TrainResult, extra: dict | None = None) -> dict:
    """Write network.cir (not for ideal diodes, which have no SPICE model), network.weights.csv,
    summary.json (with ``extra`` entries) and curves.png; return the summary."""
    run_dir = result.run_dir
    layers = "-".join(map(str, trainer.network.spec.layers))
    if trainer.network.spec.ideal_diodes:
        write_weight_map(run_dir / "network.weights.csv", trainer.network, result.conductances)
    else:
        write_netlist(run_dir / "network.cir", trainer.network, result.conductances,
                      title=f"eqprop-analog {layers} trained on {trainer.data.name}")
    final = result.final
    summary = {"dataset": trainer.data.name, "engine": trainer.engine.name,
               **trainer.engine.describe(trainer.network),
               "epochs": final["epoch"], "layers": list(trainer.network.spec.layers),
               "train_accuracy": final["train_accuracy"], "test_accuracy": final["test_accuracy"],
               "best_test_accuracy": max(h["test_accuracy"] for h in result.history),
               "train_loss": final["train_loss"], "test_loss": final["test_loss"],
               "seconds": round(result.seconds, 3), "run_dir": str(run_dir),
               "warnings": list(result.warnings)}
    if trainer.options.step_energy:
        summary["training_energy"] = training_energy(result.history, trainer.options.phase_time)
    checked = [h["engine_difference"] for h in result.history
               if h.get("engine_difference") is not None]
    if checked:  # the replica check's largest difference over the run
        summary["engine_difference"] = max(checked)
    summary.update(extra or {})
    write_summary(run_dir, summary)
    plot_curves(result.history, run_dir / "curves.png", f"{layers} on {trainer.data.name}")
    return summary
