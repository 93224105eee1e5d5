"""How far the nudge moves the outputs, against beta: the numbers behind learning/nudge_check.py.

    python benchmarks/bench_nudge.py

For digits (64 hidden, cross-entropy), xor (8 hidden, cross-entropy) and iris (16 hidden, squared
error), on both engines, the first 16 training samples at the initial conductances of seed 0:
the largest change of an output from the free state at +beta or -beta, the engine's
resolution of the outputs, and the asymmetry |d+ + d-| / |d+ - d-| of the two changes.
"""

from __future__ import annotations

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config import RunConfig
from eqprop_analog.data import load_dataset
from eqprop_analog.engines import make_engine
from eqprop_analog.engines.base import Phases
from eqprop_analog.errors import SolverError
from eqprop_analog.learning.nudge_check import NudgeResponse

CASES = (("digits", "cross-entropy", (64,)), ("xor", "cross-entropy", (8,)),
         ("iris", "squared-error", (16,)))
BETAS = (1e-20, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)


def main() -> None:
    print("| dataset | engine | beta | output change (V) | resolution (V) | asymmetry |")
    print("|---|---|---|---|---|---|")
    for name, cost, hidden in CASES:
        data = load_dataset(name)
        for engine_name in ("native", "ngspice"):
            engine = make_engine(engine_name)
            for beta in BETAS:
                config = RunConfig(dataset=name, cost=cost, hidden=hidden, beta=beta)
                network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
                g = network.initial_conductances(np.random.default_rng(0), config.init_low,
                                                 config.init_high)
                model = config.cost_model()
                phases = Phases((0.0, beta, -beta), model,
                                model.targets(data.y_train[:16], data.n_classes))
                try:
                    solution = engine.solve(network, g, data.x_train[:16], phases)
                except SolverError as exc:
                    print(f"| {name} | {engine_name} | {beta:g} | failed: {exc.args[0][:60]} | | |")
                    continue
                r = NudgeResponse.of(network, engine, solution)
                print(f"| {name} | {engine_name} | {beta:g} | {r.signal:.2e} | "
                      f"{r.resolution:.1e} | {r.asymmetry:.2g} |")
            engine.close()


if __name__ == "__main__":
    main()
