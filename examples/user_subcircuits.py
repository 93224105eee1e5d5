"""Train iris through your own subcircuits, with ngspice: python examples/user_subcircuits.py [DIR]

Two examples under circuits/examples/: a neuron made of diode-connected MOSFETs and an amplifier
built around an op-amp macro-model. For each, the script trains the network (config beside this
file) and then asks how good EP's estimate is for that circuit: EP's gradient against central
finite differences through ngspice, on a batch of 4 samples at the trained conductances. The runs
go to DIR/<config> (default runs/example-<config>); run it again to resume them.
"""

import sys
from pathlib import Path

import numpy as np
from _common import CONFIGS, run_example

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config_files import load_config
from eqprop_analog.data import load_dataset
from eqprop_analog.learning import gradcheck as gc
from eqprop_analog.learning.checkpoint import load_checkpoint


def ep_against_finite_differences(name: str, run_dir: str) -> gc.Comparison:
    config = load_config(CONFIGS / f"{name}.toml")
    data = load_dataset(config.dataset, config.seed, config.test_fraction)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    conductances = load_checkpoint(Path(run_dir))[1]
    cost = config.cost_model()
    x, labels = data.x_test[:4], data.y_test[:4]
    targets = cost.targets(labels, data.n_classes)
    engine = config.engine_for(precise=True)
    try:
        reference = gc.finite_difference_gradient(engine, network, conductances, x, cost, targets)
        estimate = gc.ep_gradient(engine, network, conductances, x, cost, targets,
                                  config.ep_estimator(), config.nudging, np.random.default_rng(0))
    finally:
        engine.close()
    return gc.Comparison.of(estimate, reference)


if __name__ == "__main__":
    for name in ("iris-mosfet-neuron", "iris-opamp-amplifier"):
        summary = run_example(name, Path(sys.argv[1]) / name if len(sys.argv) > 1 else None)
        comparison = ep_against_finite_differences(name, summary["run_dir"])
        print(f"{name}: EP against finite differences through ngspice: cosine "
              f"{comparison.cosine:.8f}, relative error {comparison.relative_error:.2e}")
