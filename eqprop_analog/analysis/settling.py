"""How long an inference takes and what energy it draws, from its transient: every free node
with its capacitance, the network at rest with its inputs at 0 V, then a sample's inputs switched
on (:func:`~eqprop_analog.engines.transient.inference_transient`).

The settling time is the first time after which every output stays within ``tolerance`` (1 %) of
the largest final output's magnitude of its final value. The energy of the inference is what the
sources deliver up to then: the integral of the static power's ``supplied``, which holds in time
as well, since no capacitor sits on a source's net. Tellegen's sum without the capacitors is then
minus the power they take, -d/dt of their stored energy (1/2) C sum V^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eqprop_analog.analysis.inference import finite_number
from eqprop_analog.analysis.power import static_power
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.transient import Transient, inference_transient
from eqprop_analog.errors import DataError, SolverError
from eqprop_analog.spice.worker import NgspiceProcess

SETTLED = 0.01  # within 1 % of the final outputs


@dataclass(frozen=True)
class Settling:
    """One inference in time: its settling time (s), the energy the sources delivered up to
    then (J), and the energy dissipated and stored in the node capacitances over that time (J):
    the two sum to the delivered energy."""

    time: float
    energy: float
    dissipated: float
    stored: float


def _integral(times: np.ndarray, values: np.ndarray) -> float:
    """Trapezoidal integral over ngspice's own time points."""
    return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(times)))


def settling(network: LayeredNetwork, conductances: tuple[np.ndarray, ...], features: np.ndarray,
             transient: Transient, final: np.ndarray, capacitance: float,
             tolerance: float = SETTLED) -> Settling:
    """The settling of one sample's inference ``transient`` (inputs ``features``) towards its
    ``final`` outputs (its steady state's readout)."""
    outputs = network.readout(transient.voltages)
    band = tolerance * max(float(np.abs(final).max()), 1e-12)
    outside = np.flatnonzero(np.any(np.abs(outputs - final) > band, axis=1))
    end = 0 if outside.size == 0 else int(outside[-1]) + 1
    if end >= len(transient.times):
        raise SolverError(f"the outputs had not settled within {tolerance:.0%} of their final "
                          f"values after {transient.times[-1]:.3g} s; simulate longer")
    times, voltages = transient.times[:end + 1], transient.voltages[:end + 1]
    x = np.repeat(np.asarray(features, dtype=np.float64)[None], len(times), axis=0)
    budget = static_power(network, conductances, x, voltages)
    stored = 0.5 * capacitance * float(np.sum(voltages[-1] ** 2) - np.sum(voltages[0] ** 2))
    return Settling(float(times[-1]), _integral(times, budget.supplied),
                    _integral(times, budget.supplied + budget.imbalance), stored)


def time_constant(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                  capacitance: float) -> float:
    """The slowest time constant the crossbars alone allow a node: C over the smallest total
    conductance of a crossbar's column (a node's diodes, amplifiers and next crossbar only
    speed it up)."""
    return capacitance / min(float(g.sum(axis=0).min()) for g in conductances)


def simulate_settling(process: NgspiceProcess, network: LayeredNetwork,
                      conductances: tuple[np.ndarray, ...], features: np.ndarray,
                      final: np.ndarray, capacitance: float, timeout: float | None = None
                      ) -> Settling:
    """Simulate one sample's inference long enough to settle (30 of :func:`time_constant`,
    doubled up to three times) in steps of at most 1/200 of it, and measure its settling."""
    tau = time_constant(network, conductances, capacitance)
    for attempt in range(4):
        stop = 30.0 * tau * 2 ** attempt
        transient = inference_transient(process, network, conductances, features, capacitance,
                                        stop, tau / 200, tau / 1000, timeout)
        try:
            return settling(network, conductances, features, transient, final, capacitance)
        except SolverError:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def settling_summary(settled: list[Settling], capacitance: float) -> dict[str, Any]:
    """The settling of some samples' inferences, JSON-ready: each sample's, and the mean and
    the largest settling time (s) and energy (J)."""
    times, energies = [s.time for s in settled], [s.energy for s in settled]
    return {"samples": len(settled), "node_capacitance_f": capacitance,
            "settling_time_s": {"mean": float(np.mean(times)), "max": float(np.max(times))},
            "energy_j": {"mean": float(np.mean(energies)), "max": float(np.max(energies))},
            "per_sample": [{"time_s": s.time, "energy_j": s.energy,
                            "dissipated_j": s.dissipated, "stored_j": s.stored}
                           for s in settled]}


def simulated_settling(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                       features: np.ndarray, final: np.ndarray, capacitance: float
                       ) -> dict[str, Any]:
    """The :func:`settling_summary` of each sample's inference (``features`` and ``final``
    outputs, one row per sample), simulated one after the other in one ngspice process."""
    with NgspiceProcess() as process:
        return settling_summary([simulate_settling(process, network, conductances, features[k],
                                                   final[k], capacitance)
                                 for k in range(len(features))], capacitance)


def checked_settling(value: object, where: str) -> dict[str, Any]:
    """``value`` as :func:`settling_summary` wrote it (read back from a file): its count,
    capacitance, and mean and largest time and energy finite numbers, else a DataError naming
    ``where``."""
    if not (isinstance(value, dict) and isinstance(value.get("samples"), int)
            and not isinstance(value["samples"], bool)
            and finite_number(value.get("node_capacitance_f"))
            and all(isinstance(value.get(k), dict) and finite_number(value[k].get("mean"))
                    and finite_number(value[k].get("max"))
                    for k in ("settling_time_s", "energy_j"))):
        raise DataError(f"{where}: its settling entry is damaged; delete it for a report "
                        "without it (eqprop-analog evaluate RUN --settling N prints it anew)")
    return value
