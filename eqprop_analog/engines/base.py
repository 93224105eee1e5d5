"""The engine protocol: which steady states to solve, and what comes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.nudging import Cost
from eqprop_analog.errors import ConfigError, DataError

NudgingMode = Literal["exact", "current"]
NUDGING_MODES = ("exact", "current")


@dataclass(frozen=True)
class Phases:
    """Steady states to solve for each sample: one per nudging strength in ``betas`` (siemens for
    squared error, watts for cross-entropy; 0 is the free phase, which comes first). ``targets`` has
    one row per sample."""

    betas: tuple[float, ...] = (0.0,)
    cost: Cost | None = None
    targets: np.ndarray | None = None
    mode: NudgingMode = "exact"

    def __post_init__(self) -> None:
        if self.mode not in NUDGING_MODES:
            raise ConfigError(f"nudging must be one of {', '.join(NUDGING_MODES)}, got {self.mode!r}")
        if any(b != 0 for b in self.betas) and (self.cost is None or self.targets is None):
            raise ConfigError("nudged phases need a cost and targets")
        if self.betas[0] != 0.0 and self.mode == "current":
            raise ConfigError("current nudging needs the free phase (beta = 0) first")

    @property
    def nudged(self) -> bool:
        return any(b != 0 for b in self.betas)

    def check_targets(self, n_samples: int, n_outputs: int) -> None:
        """Raise DataError unless the targets have one row per sample and one column per output."""
        if self.targets is not None and np.shape(self.targets) != (n_samples, n_outputs):
            raise DataError(f"targets must have shape {(n_samples, n_outputs)} (samples, outputs), "
                            f"got {np.shape(self.targets)}")


@dataclass(frozen=True)
class Solution:
    """Voltages of the network's free nets, shape (n_phases, batch, n_free), for ``betas``."""

    betas: tuple[float, ...]
    voltages: np.ndarray

    def phase(self, beta: float) -> np.ndarray:
        return self.voltages[self.betas.index(beta)]


class Engine(Protocol):
    """Solves the steady states of a network for a batch of inputs."""

    name: str

    def solve(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
              features: np.ndarray, phases: Phases = Phases(), *,
              batch_index: int | None = None) -> Solution: ...

    def close(self) -> None: ...
