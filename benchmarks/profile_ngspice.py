"""Where ngspice spends an operating point: python benchmarks/profile_ngspice.py [--layers 784-100-10]
[--batch 64] [--solver klu|sparse]

One free sweep of the engine's own netlist, timed in parts (netlist text, loading, the sweep, reading
back) and broken down by ngspice's ``rusage everything`` (Newton iterations, matrix load,
factorisation, solves); then the same sweep with DC input sources in place of the behavioural pwl
ones, without the first crossbar's resistors, and the Newton iterations of nudged points (3-phase
sweeps at beta 1e-6 and at 1e-15, where the nudged points are the free state). Every device of
the first crossbar is in the netlist (``input_crossbar = "full"``). The sweeps run in one ngspice
session in this process (the engine's child process only tells the library's version and solver),
so run nothing else beside it.
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines import Phases, SquaredError
from eqprop_analog.engines.ngspice import SWEEP_SOURCE, NgspiceEngine, SpiceOptions
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.session import NgspiceSession

RUSAGE = ("Netlist loading time", "Subckt and Param expansion time", "Netlist parsing time",
          "Total iterations", "Matrix load time", "Matrix factor time", "Matrix solve time",
          "Matrix reorder time")


def sweep_netlist(engine: NgspiceEngine, network: LayeredNetwork, g, x: np.ndarray,
                  betas: tuple[float, ...], targets: np.ndarray) -> str:
    phases = Phases(betas, SquaredError(), targets) if len(betas) > 1 else Phases()
    norton = engine.norton_inputs(network)
    stimulus = engine._stimulus(network, g, x, betas, phases, None, norton)
    return netlist_text(network, g, title="profile", stimulus=stimulus,
                        options=engine.sweep_options(), save=network.free_nets, annotate=False,
                        first_crossbar=2 if norton else 1)


def run_sweep(session: NgspiceSession, text: str, points: int) -> dict[str, float]:
    """Load and sweep; seconds of each part and ngspice's own figures."""
    t0 = time.perf_counter()
    session.load(text)
    t1 = time.perf_counter()
    session._command(f"dc {SWEEP_SOURCE.lower()} 0 {points - 1} 1", "dc")
    t2 = time.perf_counter()
    session._ng.clear_output()
    session._lib.ngSpice_Command(b"rusage everything")
    figures = {"load": t1 - t0, "sweep": t2 - t1}
    for line in session._ng._stdout:
        name, _, value = line.partition("=")
        if name.strip() in RUSAGE:
            figures[name.strip()] = float(value)
    session._forget()
    return figures


def dc_inputs(text: str) -> str:
    """The netlist with each behavioural input source replaced by a DC source at its first value."""
    pattern = re.compile(r"B_IN_(\S+) (\S+) (\S+) V=pwl\(V\(sweep\),0,([^,]+),.*")
    return "\n".join(pattern.sub(r"V_IN_\1 \2 \3 DC \4", line) for line in text.splitlines())


def without_first_crossbar(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("R_L1_"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="784-100-10")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--solver", default="klu", choices=("klu", "sparse"))
    args = parser.parse_args()
    layers = tuple(int(n) for n in args.layers.split("-"))
    rng = np.random.default_rng(0)
    network = LayeredNetwork(CircuitSpec(layers, amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (args.batch, layers[0]))
    targets = rng.uniform(-0.2, 0.2, (args.batch, layers[-1]))
    # every device of the first crossbar: the profile is of what its Norton form removes
    engine = NgspiceEngine(SpiceOptions(matrix_solver=args.solver, input_crossbar="full"))
    try:
        profile(engine, network, g, x, targets, args.batch, args.layers)
    finally:
        engine.close()


def profile(engine: NgspiceEngine, network: LayeredNetwork, g, x: np.ndarray,
            targets: np.ndarray, batch: int, layers: str) -> None:
    print(f"{layers}, batch {batch}, ngspice {engine.describe()['ngspice_version']}, "
          f"{engine.matrix_solver}")
    t0 = time.perf_counter()
    text = sweep_netlist(engine, network, g, x, (0.0,), targets)
    print(f"netlist text: {time.perf_counter() - t0:.3f} s, {text.count(chr(10))} lines")
    session = NgspiceSession()
    free = run_sweep(session, text, batch)
    print(f"load {free['load']:.3f} s (ngspice: reading {free[RUSAGE[0]]:.3f}, subcircuit and "
          f"parameter expansion {free[RUSAGE[1]]:.3f}, parsing {free[RUSAGE[2]]:.3f})")
    print("| sweep | s | iterations per point | per iteration, ms: load | factor | solve | "
          "reorder |")
    print("|---|---|---|---|---|---|---|")
    variants = [("free, pwl inputs", free, batch),
                ("free, DC inputs", run_sweep(session, dc_inputs(text), batch), batch),
                ("free, no first crossbar", run_sweep(session, without_first_crossbar(text),
                                                      batch), batch)]
    for beta in (1e-6, 1e-15):
        nudged = sweep_netlist(engine, network, g, x, (0.0, beta, -beta), targets)
        variants.append((f"3 phases, beta {beta:g}", run_sweep(session, nudged, 3 * batch),
                         3 * batch))
    for name, figures, points in variants:
        n = figures["Total iterations"]
        per = [1e3 * figures[k] / n for k in ("Matrix load time", "Matrix factor time",
                                                "Matrix solve time", "Matrix reorder time")]
        print(f"| {name} | {figures['sweep']:.2f} | {n / points:.2f} | "
              + " | ".join(f"{p:.2f}" for p in per) + " |", flush=True)

if __name__ == "__main__":
    main()
