"""Resident memory of the ngspice process over many mini-batches (default 10,000).

    python benchmarks/bench_memory.py [--batches N]

Each batch is a full symmetric-EP solve (free, +beta, -beta) of a 20-30-10 network on 4 samples with
fresh conductances, so every batch loads a new netlist. Prints the child's VmRSS every 1,000 batches.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines import CrossEntropy, Phases
from eqprop_analog.engines.ngspice import NgspiceEngine


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec((20, 30, 10), input_gain=4.0, relu_bias=0.45,
                                         amplifier_gain=4.0))
    engine = NgspiceEngine()
    targets = np.eye(10)[[1, 2, 3, 4]]
    phases = Phases((0.0, 1e-6, -1e-6), CrossEntropy(20.0), targets)
    t0 = time.perf_counter()
    print("| batches | child VmRSS (MB) | seconds |")
    print("|---|---|---|")
    try:
        for b in range(1, args.batches + 1):
            g = network.initial_conductances(rng, 1e-6, 2e-5)
            engine.solve(network, g, rng.uniform(0, 1, (4, 20)), phases, batch_index=b)
            if b == 1 or b % 1000 == 0:
                print(f"| {b} | {rss_mb(engine.process.pid):.1f} | {time.perf_counter() - t0:.0f} |",
                      flush=True)
    finally:
        engine.close()


if __name__ == "__main__":
    main()
