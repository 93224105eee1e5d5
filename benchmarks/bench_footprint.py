"""Peak memory per conductance: what eqprop_analog/circuit/size.py's estimates rest on.

    python benchmarks/bench_footprint.py USE HIDDEN    (USE: netlist, native or ngspice)

Builds a 784-HIDDEN-10 network and either writes its netlist (the compile command's work) or
solves one symmetric-EP mini-batch of 16 samples and forms the update (one training step). Prints
the peak resident memory of this process above what it held before, per conductance, and for
ngspice the peak of its child process too. Run each case in a fresh process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config import RunConfig


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("use", choices=("netlist", "native", "ngspice"))
    parser.add_argument("hidden", type=int)
    args = parser.parse_args()
    config = RunConfig(hidden=(args.hidden,), engine="ngspice" if args.use == "ngspice" else "native")
    before = peak_mb()
    network = LayeredNetwork(config.circuit_spec(784, 10))
    g = network.initial_conductances(np.random.default_rng(0), config.init_low, config.init_high)
    child = ""
    if args.use == "netlist":
        from eqprop_analog.spice.netlist import write_netlist

        with tempfile.TemporaryDirectory() as folder:
            write_netlist(Path(folder) / "net.cir", network, g)
    else:
        from eqprop_analog.engines import make_engine
        from eqprop_analog.engines.base import Phases

        engine = make_engine(args.use)
        cost = config.cost_model()
        x = np.random.default_rng(1).uniform(0, 1, (16, 784))
        phases = Phases((0.0, 1e-6, -1e-6), cost, cost.targets(np.arange(16) % 10, 10))
        solution = engine.solve(network, g, x, phases)
        config.ep_estimator().gradient(network, x, solution, [-1e-8, -1e-8])
        if args.use == "ngspice":
            status = Path(f"/proc/{engine.process.pid}/status").read_text()  # type: ignore[attr-defined]
            peak = next(int(line.split()[1]) for line in status.splitlines()
                        if line.startswith("VmHWM"))
            child = f", ngspice child peak {peak / 1024:.0f} MB " \
                    f"({peak * 1024 / network.n_parameters:.0f} bytes per conductance)"
        engine.close()
    grown = peak_mb() - before
    print(f"{args.use} 784-{args.hidden}-10: {network.n_parameters} conductances, peak +{grown:.0f} "
          f"MB ({grown * 2**20 / network.n_parameters:.0f} bytes per conductance){child}")


if __name__ == "__main__":
    main()
