"""The example netlists kept in netlists/: seeded networks of the XOR, iris and digits sizes, and
the iris network with its weights as differential pairs.

A test regenerates them and fails if the files drift from what the compiler writes now;
``python -m eqprop_analog.netlist_examples`` rewrites them after an intended change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config import RunConfig
from eqprop_analog.config_files import apply_overrides
from eqprop_analog.spice.netlist import write_netlist

NETLISTS_DIR = Path(__file__).resolve().parents[1] / "netlists"
EXAMPLES = {"xor": (2, 8, 2), "iris": (4, 16, 3), "digits": (64, 64, 10),
            "iris-pairs": (4, 16, 3)}
OPTIONS: dict[str, dict[str, Any]] = {"iris-pairs": {"signed_weights": "differential-pairs"}}


def example_network(name: str) -> tuple[LayeredNetwork, tuple[np.ndarray, ...]]:
    """The network of the example ``name`` with the default options (and those in
    :data:`OPTIONS`), conductances from seed 0."""
    config = apply_overrides(RunConfig(), OPTIONS.get(name, {}))  # beyond the defaults
    network = LayeredNetwork(config.spec_for(EXAMPLES[name]))
    g = network.initial_conductances(np.random.default_rng(0), config.init_low, config.init_high)
    return network, g


def write_examples(folder: Path = NETLISTS_DIR) -> list[Path]:
    paths: list[Path] = []
    for name, layers in EXAMPLES.items():
        network, g = example_network(name)
        paths += write_netlist(folder / f"{name}.cir", network, g,
                               title=f"eqprop-analog example {'-'.join(map(str, layers))} ({name})")
    return paths


if __name__ == "__main__":
    for path in write_examples():
        print(path)
