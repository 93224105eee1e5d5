"""The replica checked in the loop: a second engine solves a fixed mini-batch beside the training
engine every few epochs, and the largest difference of their node voltages is recorded.

A native run checked against ngspice this way shows that the fast model still is the circuit as
SPICE sees it, at the conductances the training has reached, not only at the start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Engine, Phases
from eqprop_analog.errors import ConfigError, EngineMismatchError


@dataclass
class EngineCheck:
    """Every ``every`` epochs, ``replica`` solves the check batch too; a largest difference above
    ``tolerance`` volts stops the run."""

    replica: Engine
    every: int = 1
    tolerance: float = 1e-6

    def __post_init__(self) -> None:
        if not isinstance(self.every, int) or isinstance(self.every, bool) or self.every < 1:
            raise ConfigError(f"check_every must be an integer >= 1, got {self.every!r}")
        if not (isinstance(self.tolerance, (int, float)) and 0 < self.tolerance < np.inf):
            raise ConfigError(f"check_tolerance must be a number of volts > 0, got "
                              f"{self.tolerance!r}")

    def due(self, epoch: int) -> bool:
        return epoch % self.every == 0

    def difference(self, engine: Engine, network: LayeredNetwork,
                   conductances: tuple[np.ndarray, ...], x: np.ndarray, phases: Phases) -> float:
        """The largest |V| difference (V) between the two engines' states, over every free net,
        sample and phase of the check batch."""
        ours = engine.solve(network, conductances, x, phases).voltages
        theirs = self.replica.solve(network, conductances, x, phases).voltages
        return float(np.max(np.abs(ours - theirs)))

    def verify(self, difference: float, epoch: int, engine: str) -> None:
        """Stop the run where the engines disagree by more than the tolerance."""
        if not difference <= self.tolerance:  # NaN too
            raise EngineMismatchError(
                f"epoch {epoch}: {engine} and {self.replica.name} differ by {difference:.3g} V on "
                f"the check batch, more than check_tolerance {self.tolerance:g} V: {engine} does "
                f"not solve this circuit as {self.replica.name} does (the epoch is saved)")
