"""Shared by the engine benchmarks: time free solves and symmetric-EP training steps."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.devices import ClippedDevice
from eqprop_analog.engines import CrossEntropy, Phases, Solution
from eqprop_analog.learning.estimators import EPEstimator


def time_engine(engine, layers: tuple[int, ...], batch: int, repeats: int,
                clock: Callable[[], float] = time.perf_counter, **circuit
                ) -> tuple[float, float, Solution]:
    """(ms per operating point of free solves, ms per training sample of symmetric-EP steps, the
    last symmetric-EP solution) on a network with input doubling, relu diodes and amplifiers of
    gain 4 (``circuit`` overrides)."""
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec(layers, **{"amplifier_gain": 4.0, **circuit}))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (batch, layers[0]))
    targets = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    estimator, cost = EPEstimator("symmetric", 1e-6), CrossEntropy(20.0)
    device = ClippedDevice(1e-7, 1e-4)
    engine.solve(network, g, x)  # start-up (the ngspice process) outside the timing
    t0 = clock()
    for _ in range(repeats):
        engine.solve(network, g, x)
    per_point = (clock() - t0) / (repeats * batch)
    changes = [np.empty_like(a) for a in g]
    t0 = clock()
    for _ in range(repeats):
        solution = engine.solve(network, g, x, Phases(estimator.betas(), cost, targets))
        estimator.gradient(network, x, solution, [-1e-8] * len(g), out=changes)
        for layer, (a, change) in enumerate(zip(g, changes)):
            device.program(layer, a, change, None)
    per_sample = (clock() - t0) / (repeats * batch)
    return 1e3 * per_point, 1e3 * per_sample, solution
