"""CPU seconds of one training epoch of Fashion-MNIST on 1568-100-10 at batch 4 (native engine).

    python benchmarks/bench_epoch.py [--samples N] [--ideal-diodes] [--no-step-energy]

The setting of issue 3's speed target (the fast deep-resistive-network code: 60,000 samples,
batch 4, centered (symmetric) EP, 1568-100-10): the package's own trainer, symmetric EP,
cross-entropy, the default circuit (relu diodes, amplifiers of gain 4). Times the training pass
alone, no evaluation, with ``time.process_time``; prints the Newton iterations (or coordinate-descent
sweeps) of the free and of the nudged phases, averaged over the mini-batches. The trainer records
each step's energy unless ``--no-step-energy`` (``step_energy = false``).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import replace

import numpy as np

from eqprop_analog.config import RunConfig
from eqprop_analog.data.datasets import load_dataset
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.run import build_trainer


class CountingEngine(NativeEngine):
    """The native engine, keeping the iteration counts of every solve."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter = Counter()
        self.solves = 0

    def solve(self, *args, **kwargs):
        solution = super().solve(*args, **kwargs)
        self.counts.update(dict(enumerate(solution.stats.iterations)))
        self.solves += 1
        return solution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000, help="training samples to run")
    parser.add_argument("--ideal-diodes", action="store_true")
    parser.add_argument("--no-step-energy", action="store_true")
    args = parser.parse_args()
    circuit = {"ideal_diodes": True, "relu_bias": 0.0} if args.ideal_diodes else {}
    config = RunConfig(hidden=(100,), dataset="fashion-mnist", batch_size=4, engine="native",
                       step_energy=not args.no_step_energy, **circuit)
    data = load_dataset("fashion-mnist")
    data = replace(data, x_train=data.x_train[:args.samples], y_train=data.y_train[:args.samples])
    engine = CountingEngine()
    trainer = build_trainer(config, data, engine, "/tmp/eqprop-bench-epoch", progress=False)
    conductances = trainer.network.initial_conductances(np.random.default_rng(0), config.init_low,
                                                        config.init_high)
    start = time.process_time()
    trainer.train_epoch(conductances, 1)
    seconds = time.process_time() - start
    free, nudged = (engine.counts[i] / engine.solves for i in (0, 1))
    kind = "ideal diodes" if args.ideal_diodes else "Shockley diodes"
    energy = "without" if args.no_step_energy else "with"
    print(f"1568-100-10, {kind}, batch 4, {energy} step energy, {len(data.x_train)} samples: "
          f"{seconds:.1f} s CPU "
          f"({seconds / len(data.x_train) * 60_000:.1f} s per 60,000); iterations per phase: "
          f"free {free:.2f}, nudged {nudged:.2f}")


if __name__ == "__main__":
    main()
