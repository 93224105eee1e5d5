"""The engine protocol: which steady states to solve, and what comes back; and what every engine
does alike (checking its inputs, the fixed currents of current nudging)."""

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

    @property
    def nudged_betas(self) -> tuple[float, ...]:
        """The nudged phases' strengths, in order: solved after the free phase, from its state."""
        return tuple(b for b in self.betas if b != 0)

    def check_targets(self, n_samples: int, n_outputs: int) -> None:
        """Raise DataError unless the targets have one row per sample and one column per output."""
        if self.targets is not None and np.shape(self.targets) != (n_samples, n_outputs):
            raise DataError(f"targets must have shape {(n_samples, n_outputs)} (samples, outputs), "
                            f"got {np.shape(self.targets)}")


@dataclass(frozen=True)
class SolveStats:
    """How a solve went: the iterations of each solve it made (the free phase, then the nudged
    phases; Newton steps or coordinate-descent sweeps), and the largest estimated error left in a
    node voltage (V). An engine that does not report them (ngspice) gives none."""

    iterations: tuple[int, ...]
    voltage_error: float


@dataclass(frozen=True)
class Solution:
    """Voltages of the network's free nets, shape (n_phases, batch, n_free), for ``betas``."""

    betas: tuple[float, ...]
    voltages: np.ndarray
    stats: SolveStats | None = None

    def phase(self, beta: float) -> np.ndarray:
        return self.voltages[self.betas.index(beta)]


class Engine(Protocol):
    """Solves the steady states of a network for a batch of inputs."""

    name: str

    def solve(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
              features: np.ndarray, phases: Phases = Phases(), *,
              batch_index: int | None = None) -> Solution: ...

    def resolution(self, voltages: np.ndarray) -> float:
        """The smallest change of these node voltages (V) that the engine's tolerances resolve:
        differences between two of its solutions below it are solver noise."""
        ...

    def describe(self, network: LayeredNetwork | None = None) -> dict[str, object]:
        """What a run's summary should say about the engine beyond its name (versions, solver;
        with ``network``, how it solves that circuit)."""
        ...

    def close(self) -> None: ...


def checked_inputs(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                   features: np.ndarray, phases: Phases
                   ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The conductances and features as float64 arrays, after every check an engine needs: shapes,
    ranges, finite values, and targets of one row per sample."""
    x = network.check_features(features)
    conductances = network.check_conductances(conductances)
    phases.check_targets(len(x), network.spec.n_outputs)
    return conductances, x


def fixed_nudging_currents(network: LayeredNetwork, phases: Phases, free: np.ndarray
                           ) -> np.ndarray:
    """Current nudging: the currents -beta dC/dr into each output signal r, fixed at the free
    state ``free`` (batch, n_free), for every nudged phase: shape (n_nudged, batch, n_outputs).
    A differential output's current enters its + node and leaves its - node."""
    assert phases.cost is not None and phases.targets is not None  # checked by Phases
    grad = phases.cost.gradient(network.readout(free), phases.targets)
    return -np.asarray(phases.nudged_betas)[:, None, None] * grad[None]
