"""What the energy accounting of training costs: a step's phase energy against the EP solve it
accounts for, and the static power against another version of it.

    python benchmarks/bench_step_energy.py [--repeats N]
    python benchmarks/bench_step_energy.py --against OLD_POWER.py
        (e.g. git show 414b41d:eqprop_analog/analysis/power.py > /tmp/old_power.py)

The first: for each setting (network, batch), one run times the symmetric-EP solve of a
mini-batch on the native engine and the energy of its three phases
(``analysis.step_energy.phase_energy``, which the trainer computes after every step), both with
``time.process_time``, and prints their ratio. The second: ``static_power`` of the free states
of a batch from this checkout and from ``OLD_POWER.py``, timed in the same run, with the largest
difference of a group relative to the supplied power.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.analysis.power import static_power
from eqprop_analog.analysis.step_energy import phase_energy
from eqprop_analog.engines import CrossEntropy, Phases
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.learning.estimators import EPEstimator

SETTINGS = (((64, 64, 10), 16), ((784, 100, 10), 4), ((784, 100, 10), 16))


def network_and_batch(layers: tuple[int, ...], batch: int):
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec(layers, amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (batch, layers[0]))
    labels = rng.integers(0, layers[-1], batch)
    return network, g, x, labels


def seconds_per_call(function: Callable[..., object], args: tuple, repeats: int) -> float:
    function(*args)  # warm-up
    t0 = time.process_time()
    for _ in range(repeats):
        function(*args)
    return (time.process_time() - t0) / repeats


def against_the_solve(repeats: int) -> None:
    print("| network | batch | EP solve (ms) | phase energy (ms) | energy / solve |")
    print("|---|---|---|---|---|")
    for layers, batch in SETTINGS:
        network, g, x, labels = network_and_batch(layers, batch)
        cost = CrossEntropy(20.0)
        phases = Phases(EPEstimator("symmetric", 1e-6).betas(), cost, np.eye(layers[-1])[labels])
        engine = NativeEngine()
        solution = engine.solve(network, g, x, phases)
        solve = seconds_per_call(engine.solve, (network, g, x, phases), repeats)
        energy = seconds_per_call(phase_energy, (network, g, x, solution, phases, 1e-6), repeats)
        print(f"| {'-'.join(map(str, network.spec.layers))} | {batch} | {1e3 * solve:.2f} | "
              f"{1e3 * energy:.2f} | {energy / solve:.2f} |")


def against_another_version(path: str, repeats: int) -> None:
    spec = importlib.util.spec_from_file_location("other_power", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path} is not a Python file")
    other = importlib.util.module_from_spec(spec)
    sys.modules["other_power"] = other  # dataclasses look their module up
    spec.loader.exec_module(other)
    print("| network | batch | other (ms) | this (ms) | other / this | largest difference |")
    print("|---|---|---|---|---|---|")
    for layers, batch in (*SETTINGS, ((784, 100, 10), 359)):
        network, g, x, _ = network_and_batch(layers, batch)
        v = NativeEngine().solve(network, g, x).phase(0.0)
        times = [seconds_per_call(f, (network, g, x, v), repeats)
                 for f in (other.static_power, static_power)]
        theirs, ours = other.static_power(network, g, x, v), static_power(network, g, x, v)
        difference = max(float(np.max(np.abs(theirs.absorbed[k] - ours.absorbed[k])
                                      / np.abs(ours.supplied))) for k in ours.absorbed)
        print(f"| {'-'.join(map(str, network.spec.layers))} | {batch} | {1e3 * times[0]:.2f} | "
              f"{1e3 * times[1]:.2f} | {times[0] / times[1]:.1f} | {difference:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--against", metavar="OLD_POWER.py",
                        help="time static_power against this version of analysis/power.py")
    args = parser.parse_args()
    if args.against:
        against_another_version(args.against, max(1, args.repeats // 10))
    else:
        against_the_solve(args.repeats)


if __name__ == "__main__":
    main()
