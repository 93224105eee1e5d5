"""Milliseconds per operating point and per training sample of the ngspice engine.

    python benchmarks/bench_engine.py [--repeats N] [--batch N] [--workers 1,2]
        [--solvers klu,sparse] [--input-crossbars auto,full] [--libraries PATH,PATH]
        [--networks 784-100-10,...] [--columns LIBRARY:SOLVER:WORKERS:CROSSBAR,...]

Per operating point: free-phase sweeps of a batch (64 points by default), everything included
(netlist text, load, sweep, read-back), wall-clock. Per training sample: one symmetric-EP step
(free, +beta and -beta phases in one sweep, gradient and conductance update) divided by the batch
size. Every combination of ``--libraries`` (libngspice files; default the system's), matrix
``--solvers``, numbers of ngspice processes (``--workers``) and forms of the first crossbar
(``--input-crossbars``: auto, its Norton equivalent; full, every device) is a column pair, all
measured in the same run so that their ratios stand; KLU is left out for a library without it.
``--columns`` names the columns one by one instead (``system`` for the system's library). Prints
a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import platform

from _timing import time_engine

from eqprop_analog.engines.ngspice import NgspiceEngine, SpiceOptions
from eqprop_analog.spice.library import find_library
from eqprop_analog.spice.worker import NgspiceProcess

NETWORKS = "20-30-10,64-100-10,784-100-10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", default="1", help="ngspice processes, e.g. 1,2")
    parser.add_argument("--solvers", default="klu", help="matrix solvers, e.g. klu,sparse")
    parser.add_argument("--input-crossbars", default="auto",
                        help="forms of the first crossbar, e.g. auto,full")
    parser.add_argument("--libraries", default=None, help="libngspice files, comma-separated")
    parser.add_argument("--networks", default=NETWORKS, help="layer sizes, comma-separated")
    parser.add_argument("--columns", default=None,
                        help="LIBRARY:SOLVER:WORKERS:CROSSBAR, comma-separated")
    args = parser.parse_args()
    libraries = args.libraries.split(",") if args.libraries else [find_library()]
    if args.columns:
        wanted = [column.rsplit(":", 3) for column in args.columns.split(",")]
        combinations = [(find_library() if library == "system" else library, solver, int(workers),
                         crossbar) for library, solver, workers, crossbar in wanted]
    else:
        combinations = list(itertools.product(libraries, args.solvers.split(","),
                                              [int(w) for w in args.workers.split(",")],
                                              args.input_crossbars.split(",")))
    columns = []
    for library, solver, workers, crossbar in combinations:
        with NgspiceProcess(library) as probe:
            version, klu = probe.library()
        if solver != "klu" or klu:
            columns.append((library, version, solver, workers, crossbar))
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"batch {args.batch}, {args.repeats} repeats")
    print("| network | " + " | ".join(
        f"ngspice {version} {solver.upper()}, {workers} process{'es' if workers > 1 else ''}, "
        f"{'Norton' if crossbar == 'auto' else 'full'} input crossbar: ms per operating point | "
        "ms per training sample (3 phases)"
        for _, version, solver, workers, crossbar in columns) + " |")
    print("|---|" + "---|---|" * len(columns))
    for network in args.networks.split(","):
        layers = tuple(int(n) for n in network.split("-"))
        repeats = max(1, args.repeats // 5) if layers[0] > 500 else args.repeats
        cells = []
        for library, _, solver, workers, crossbar in columns:
            engine = NgspiceEngine(SpiceOptions(matrix_solver=solver, input_crossbar=crossbar),
                                   workers=workers, library=library)
            try:
                point, sample, _ = time_engine(engine, layers, args.batch, repeats)
            finally:
                engine.close()
            cells += [f"{point:.2f}", f"{sample:.2f}"]
        print(f"| {network} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
