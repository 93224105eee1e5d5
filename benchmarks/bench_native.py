"""The native engine: milliseconds per operating point and per training sample, Newton iterations.

    python benchmarks/bench_native.py [--repeats N]

Same networks and circuit options as bench_engine.py (input doubling, relu diodes, amplifiers of
gain 4), free-phase solves and symmetric-EP steps (free, +beta, -beta; gradient; update), at
batch 4 and 64. Layer sizes name the features; the circuit has twice as many input sources
(784 features = the 1568 sources of the papers' 1568-100-10). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.devices import ClippedDevice
from eqprop_analog.engines import CrossEntropy, Phases
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.learning.estimators import EPEstimator

NETWORKS = [(20, 30, 10), (64, 100, 10), (784, 100, 10), (784, 1024, 10)]


def bench(layers, batch: int, repeats: int, engine: NativeEngine) -> tuple[float, float, list]:
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec(layers, amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (batch, layers[0]))
    targets = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    estimator, cost = EPEstimator("symmetric", 1e-6), CrossEntropy(20.0)
    device = ClippedDevice(1e-7, 1e-4)
    engine.solve(network, g, x)
    t0 = time.process_time()
    for _ in range(repeats):
        engine.solve(network, g, x)
    per_point = (time.process_time() - t0) / (repeats * batch)
    t0 = time.process_time()
    for _ in range(repeats):
        solution = engine.solve(network, g, x, Phases(estimator.betas(), cost, targets))
        grads = estimator.gradient(network, x, solution)
        g = tuple(device.program(a, -1e-8 * d) for a, d in zip(g, grads))
    per_sample = (time.process_time() - t0) / (repeats * batch)
    return 1e3 * per_point, 1e3 * per_sample, engine.iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    engine = NativeEngine()
    print("| network | batch | CPU ms per operating point | CPU ms per training sample (3 phases) "
          "| Newton iterations (free, nudged) |")
    print("|---|---|---|---|---|")
    for layers in NETWORKS:
        for batch in (4, 64):
            repeats = max(2, args.repeats // 10) if layers[1] > 500 else args.repeats
            point, sample, iterations = bench(layers, batch, repeats, engine)
            print(f"| {'-'.join(map(str, layers))} | {batch} | {point:.3f} | {sample:.3f} | "
                  f"{iterations[0]}, {iterations[1]} |", flush=True)


if __name__ == "__main__":
    main()
