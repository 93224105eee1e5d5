"""The energy of a training step's phases on the circuit.

A step takes each sample of its mini-batch through the free phase and then each nudged phase,
holding the circuit ``phase_time`` in each. A phase's energy is the power its sources supply in
that phase's steady state, the nudging sources' included, times ``phase_time``. The energy moved
into and out of the node capacitances between one state and the next is not counted: it is of the
order of (1/2) C sum V^2 per phase, far below the static energy at the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.analysis.inference import finite_number
from eqprop_analog.analysis.power import static_power
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Phases, Solution, fixed_nudging_currents


@dataclass(frozen=True)
class PhaseEnergy:
    """The energy (J) of one training step's free phase and of its nudged phases together, over
    every sample of its mini-batch."""

    free: float
    nudged: float


def output_net_currents(network: LayeredNetwork, signal_currents: np.ndarray) -> np.ndarray:
    """(..., output nets) currents into the output nets from (..., output signals) currents
    into the signals: a differential output's current enters its + net and leaves its - net."""
    if not network.spec.paired_outputs:
        return signal_currents
    nets = np.zeros(signal_currents.shape[:-1] + (2 * signal_currents.shape[-1],))
    nets[..., 0::2], nets[..., 1::2] = signal_currents, -signal_currents
    return nets


def nudging_currents(network: LayeredNetwork, phases: Phases, solution: Solution) -> np.ndarray:
    """(nudged phases, samples, output signals) currents -beta dC/dr that nudged the outputs:
    at each nudged state's outputs (exact nudging) or fixed at the free state's (current)."""
    if phases.mode == "current":
        return fixed_nudging_currents(network, phases, solution.phase(0.0))
    assert phases.cost is not None and phases.targets is not None  # checked by Phases
    return np.stack([-beta * phases.cost.gradient(network.readout(solution.phase(beta)),
                                                  phases.targets)
                     for beta in phases.nudged_betas])


def phase_power(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                features: np.ndarray, solution: Solution, phases: Phases) -> np.ndarray:
    """(phases, samples) power (W) that the sources supply in each steady state of ``solution``,
    in the order of its ``betas`` (the free phase first)."""
    n_phases, n_samples = solution.voltages.shape[:2]
    currents = np.zeros((n_phases, n_samples, len(network.output_nets)))
    nudged = [k for k, beta in enumerate(solution.betas) if beta != 0]
    if nudged:
        currents[nudged] = output_net_currents(network, nudging_currents(network, phases,
                                                                         solution))
    # the phases side by side as one batch: one pass over the crossbars
    budget = static_power(network, conductances, np.tile(features, (n_phases, 1)),
                          solution.voltages.reshape(n_phases * n_samples, -1),
                          currents.reshape(n_phases * n_samples, -1))
    return budget.supplied.reshape(n_phases, n_samples)


def phase_energy(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                 features: np.ndarray, solution: Solution, phases: Phases,
                 phase_time: float) -> PhaseEnergy:
    """The energy of a training step whose steady states are ``solution``, each held
    ``phase_time`` seconds."""
    power = phase_power(network, conductances, features, solution, phases)
    free = np.asarray(solution.betas) == 0
    return PhaseEnergy(float(power[free].sum()) * phase_time,
                       float(power[~free].sum()) * phase_time)


@dataclass
class StepEnergies:
    """The running totals of an epoch's training steps: their count, and the energy (J) of their
    free phases, their nudged phases and their programming (None for a device model that knows
    no programming energy)."""

    steps: int = 0
    free: float = 0.0
    nudged: float = 0.0
    programming: float | None = None

    def add(self, phases: PhaseEnergy, programmed: list[float | None]) -> None:
        """Count one step: its phases' energy, and each crossbar's programming energy."""
        self.steps += 1
        self.free += phases.free
        self.nudged += phases.nudged
        energies = [e for e in programmed if e is not None]
        if programmed and len(energies) == len(programmed):
            self.programming = (self.programming or 0.0) + sum(energies)

    def per_step(self) -> dict[str, float]:
        """The steps and the mean energy of a step (J), as an epoch's row of metrics holds them
        (empty where no step was taken)."""
        if not self.steps:
            return {}
        row = {"steps": self.steps, "step_free_phase_j": self.free / self.steps,
               "step_nudged_phases_j": self.nudged / self.steps}
        if self.programming is not None:
            row["step_programming_j"] = self.programming / self.steps
        return row


STEP_KEYS = {"free_phase": "step_free_phase_j", "nudged_phases": "step_nudged_phases_j",
             "programming": "step_programming_j"}


def training_energy(history: list[dict], phase_time: float) -> dict:
    """The energy of training, JSON-ready, from a run's rows of metrics: the mean energy (J) of
    a step in the last epoch, and the total over the epochs whose rows have it (``epochs``
    of each, which are all the run's epochs unless it was resumed from a run that did not
    record them)."""
    last = history[-1] if history else {}
    totals: dict[str, float] = {}
    epochs: dict[str, int] = {}
    for name, key in STEP_KEYS.items():
        rows = [h for h in history if finite_number(h.get(key)) and finite_number(h.get("steps"))]
        if rows:
            totals[name] = float(sum(h[key] * h["steps"] for h in rows))
            epochs[name] = len(rows)
    return {"phase_time_s": phase_time,
            "per_step_j": {name: last[key] for name, key in STEP_KEYS.items()
                           if finite_number(last.get(key))},
            "total_j": totals, "epochs": epochs}
