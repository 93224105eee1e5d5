"""Milliseconds per operating point and per training sample of the ngspice engine.

    python benchmarks/bench_engine.py [--repeats N]

Per operating point: free-phase sweeps of a batch (64 points by default), everything included
(netlist text, load, sweep, read-back). Per training sample: one symmetric-EP step (free, +beta and
-beta phases in one sweep, gradient and conductance update) divided by the batch size.
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.devices import ClippedDevice
from eqprop_analog.engines import CrossEntropy, Phases
from eqprop_analog.engines.ngspice import NgspiceEngine
from eqprop_analog.learning.estimators import EPEstimator

NETWORKS = [(20, 30, 10), (64, 100, 10), (784, 100, 10)]


def bench(layers, batch: int, repeats: int, engine: NgspiceEngine) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec(layers, input_gain=4.0, relu_bias=0.45,
                                         amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (batch, layers[0]))
    targets = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    estimator, cost, device = EPEstimator("symmetric", 1e-6), CrossEntropy(20.0), ClippedDevice(1e-7, 1e-4)
    engine.solve(network, g, x)  # start the ngspice process outside the timing
    t0 = time.perf_counter()
    for _ in range(repeats):
        engine.solve(network, g, x)
    per_point = (time.perf_counter() - t0) / (repeats * batch)
    t0 = time.perf_counter()
    for _ in range(repeats):
        solution = engine.solve(network, g, x, Phases(estimator.betas(), cost, targets))
        grads = estimator.gradient(network, x, solution)
        g = tuple(device.program(a, -1e-8 * d) for a, d in zip(g, grads))
    per_sample = (time.perf_counter() - t0) / (repeats * batch)
    return 1e3 * per_point, 1e3 * per_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    engine = NgspiceEngine()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"batch {args.batch}, {args.repeats} repeats")
    print("| network | ms per operating point | ms per training sample (3 phases) |")
    print("|---|---|---|")
    try:
        for layers in NETWORKS:
            repeats = max(1, args.repeats // 5) if layers[0] > 500 else args.repeats
            point, sample = bench(layers, args.batch, repeats, engine)
            print(f"| {'-'.join(map(str, layers))} | {point:.2f} | {sample:.2f} |", flush=True)
    finally:
        engine.close()


if __name__ == "__main__":
    main()
