"""Milliseconds per operating point and per training sample of the ngspice engine.

    python benchmarks/bench_engine.py [--repeats N] [--batch N] [--workers 1,2]

Per operating point: free-phase sweeps of a batch (64 points by default), everything included
(netlist text, load, sweep, read-back), wall-clock. Per training sample: one symmetric-EP step
(free, +beta and -beta phases in one sweep, gradient and conductance update) divided by the batch
size. ``--workers`` lists the numbers of ngspice processes to compare, each a column pair, in
the same run. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform

from _timing import time_engine

from eqprop_analog.engines.ngspice import NgspiceEngine

NETWORKS = [(20, 30, 10), (64, 100, 10), (784, 100, 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", default="1", help="ngspice processes, e.g. 1,2")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"batch {args.batch}, {args.repeats} repeats")
    print("| network | " + " | ".join(f"{w} process{'es' if w > 1 else ''}: ms per operating "
                                      "point | ms per training sample (3 phases)"
                                      for w in workers) + " |")
    print("|---|" + "---|---|" * len(workers))
    for layers in NETWORKS:
        repeats = max(1, args.repeats // 5) if layers[0] > 500 else args.repeats
        cells = []
        for w in workers:
            engine = NgspiceEngine(workers=w)
            try:
                point, sample, _ = time_engine(engine, layers, args.batch, repeats)
            finally:
                engine.close()
            cells += [f"{point:.2f}", f"{sample:.2f}"]
        print(f"| {'-'.join(map(str, layers))} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
