"""The native engine: CPU milliseconds per operating point and per training sample, Newton
iterations.

    python benchmarks/bench_native.py [--repeats N]

Same networks and circuit options as bench_engine.py (input doubling, relu diodes, amplifiers of
gain 4), free-phase solves and symmetric-EP steps (free, +beta, -beta; gradient; update), at
batch 4 and 64. Layer sizes name the features; the circuit has twice as many input sources
(784 features = the 1568 sources of the papers' 1568-100-10), except with differential pairs (784
sources, twice as many hidden and output nodes). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

from _timing import time_engine

from eqprop_analog.engines.native import NativeEngine

NETWORKS = [(20, 30, 10), (64, 100, 10), (784, 100, 10), (784, 1024, 10)]
IDEAL = {"ideal_diodes": True, "relu_bias": 0.0}
PAIRS = {"signed_weights": "differential-pairs"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    engine = NativeEngine()
    print("| network | batch | CPU ms per operating point | CPU ms per training sample (3 phases) "
          "| Newton iterations or sweeps (free, nudged) |")
    print("|---|---|---|---|---|")
    cases = [(layers, {}, "") for layers in NETWORKS] + [
        ((784, 100, 10), IDEAL, " ideal diodes"), ((784, 100, 10), PAIRS, " differential pairs")]
    for layers, circuit, label in cases:
        for batch in (4, 64):
            repeats = max(2, args.repeats // 10) if layers[1] > 500 else args.repeats
            point, sample, solution = time_engine(engine, layers, batch, repeats,
                                                  time.process_time, **circuit)
            free, nudged = solution.stats.iterations
            name = "-".join(map(str, layers)) + label
            print(f"| {name} | {batch} | {point:.3f} | {sample:.3f} | {free}, {nudged} |",
                  flush=True)


if __name__ == "__main__":
    main()
