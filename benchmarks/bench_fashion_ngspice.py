"""A Fashion-MNIST epoch trained with ngspice beside the native engine, same settings and seed.

    python benchmarks/bench_fashion_ngspice.py [--samples N] [--test-samples N] [--batch N]
        [--workers N] [--input-crossbar auto|full] [--out DIR]

Opt-in and long: the full epoch (60,000 samples, the default) takes minutes with ngspice on 2
cores with the first crossbar as its Norton equivalent (``--input-crossbar auto``), hours with
every device of it (``full``).
1568-100-10 (784 pixels doubled), symmetric EP, cross-entropy, the default circuit, batch 64 by
default (one ngspice sweep of 192 points per mini-batch). Each engine trains the same first
``--samples`` training samples from the same initial conductances, then is evaluated on the
first ``--test-samples`` test samples (all 10,000 by default). Prints one Markdown row per engine:
wall seconds of the training pass, its CPU seconds (this process and the ngspice processes), test
accuracy, and the largest difference of their final conductances.
Each engine's result and trained conductances are written to ``--out``, so a finished engine is
not trained again when the script is run again.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eqprop_analog.config import RunConfig
from eqprop_analog.data.datasets import load_dataset
from eqprop_analog.files import atomic_write_bytes, atomic_write_text
from eqprop_analog.run import build_trainer

TRAINED = "trained.npz"  # the conductances after the epoch


def trained_conductances(run_dir: Path) -> list[np.ndarray]:
    with np.load(run_dir / TRAINED) as data:
        return [data[f"arr_{k}"] for k in range(len(data.files))]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def train_one(config: RunConfig, data, run_dir: Path) -> dict:
    """Train one epoch with ``config.engine`` (or read the finished run back) and evaluate it.
    The training engine is closed before the CPU time is read: the ngspice processes' time
    counts once they have ended."""
    result_file = run_dir / "bench.json"
    if result_file.exists() and (run_dir / TRAINED).exists():
        return json.loads(result_file.read_text())
    engine = config.engine_for()
    try:
        trainer = build_trainer(config, data, engine, run_dir, progress=True)
        conductances = trainer.network.initial_conductances(
            np.random.default_rng(config.seed), config.init_low, config.init_high)
        trainer.device.prepare(conductances, config.seed)
        wall, cpu = time.perf_counter(), cpu_seconds()
        conductances, skipped, _ = trainer.train_epoch(conductances, 1)
        about = engine.describe(trainer.network)
    finally:
        engine.close()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    run_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, *conductances)
    atomic_write_bytes(run_dir / TRAINED, buffer.getvalue())
    trainer.engine = config.engine_for()
    try:
        _, accuracy = trainer.evaluate(conductances, data.x_test, data.y_test,
                                       np.random.default_rng([config.seed, 1, 1]), "test")
    finally:
        trainer.engine.close()
    row = {"engine": config.engine, **about, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "test_accuracy": accuracy, "skipped_batches": skipped}
    atomic_write_text(result_file, json.dumps(row) + "\n")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--test-samples", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None, help="ngspice processes")
    parser.add_argument("--input-crossbar", choices=("auto", "full"), default="auto",
                        help="ngspice's first crossbar: its Norton equivalent, or every device")
    parser.add_argument("--out", default="runs/bench-fashion-ngspice")
    args = parser.parse_args()
    data = load_dataset("fashion-mnist")
    data = replace(data, x_train=data.x_train[:args.samples], y_train=data.y_train[:args.samples],
                   x_test=data.x_test[:args.test_samples], y_test=data.y_test[:args.test_samples])
    base = RunConfig(hidden=(100,), dataset="fashion-mnist", batch_size=args.batch,
                     spice_workers=args.workers)
    out = Path(args.out) / f"{args.samples}-{args.test_samples}-{args.batch}"
    spice = f"ngspice-{args.input_crossbar}"
    rows = [train_one(replace(base, engine="native"), data, out / "native"),
            train_one(replace(base, engine="ngspice", input_crossbar=args.input_crossbar), data,
                      out / spice)]
    final = [trained_conductances(out / name) for name in ("native", spice)]
    spread = max(float(np.max(np.abs(a - b))) for a, b in zip(*final))
    print(f"{len(data.x_train)} training samples, batch {args.batch}, "
          f"{len(data.x_test)} test samples")
    print("| engine | wall s | CPU s | test accuracy | skipped mini-batches |")
    print("|---|---|---|---|---|")
    for row in rows:
        engine = row["engine"] + (f" {row['ngspice_version']} ({row['matrix_solver']}, "
                                  f"{row['input_crossbar']} input crossbar)"
                                  if "ngspice_version" in row else "")
        print(f"| {engine} | {row['wall_s']} | {row['cpu_s']} | "
              f"{100 * row['test_accuracy']:.2f} % | {row['skipped_batches']} |")
    print(f"largest difference of the trained conductances: {spread:.3g} S")


if __name__ == "__main__":
    main()
