"""``verify rbp``: EP's second phase in time is recurrent backprop (seed 003, Theorems 1-3).

Every free node gets the capacitance ``node_capacitance`` (a circuit option, 100 pF by default:
time constants of tens of ns to a few us on the default circuits). An ngspice transient starts at the
free operating point with the nudge switched on at t = 0; its node voltages and capacitor
currents give EP's temporal derivatives, which are compared at every t, by RelMSE over the whole
second phase, with recurrent backprop's error derivatives solved exactly from the circuit's
Jacobian at the free state (:mod:`.recurrent_backprop`). The same comparison is made with the
nudged phase integrated by the native engine's equations, where only beta's own bias remains.
"""

from __future__ import annotations

import numpy as np

from eqprop_analog.engines.nudging import SquaredError
from eqprop_analog.engines.transient import nudged_transient
from eqprop_analog.spice.worker import NgspiceProcess
from eqprop_analog.theory.circuit_dynamics import CircuitEuler
from eqprop_analog.theory.recurrent_backprop import (
    LinearisedCircuit,
    Processes,
    integrate_nudged_phase,
    temporal_derivatives,
)
from eqprop_analog.theory.relmse import relmse
from eqprop_analog.theory.verify import Verdict, VerifyRequest, layer_table

BATCH = 4
BETA = 1e-8  # S, for the ngspice transient
NATIVE_BETA = 1e-10  # S: the integration resolves a smaller nudge
SETTLING = 5.0  # the phase lasts this many of the slowest time constants
TIME_POINTS = 1000
RISE = 1e-3  # of the fastest time constant: how long the nudge takes to switch on


def run(request: VerifyRequest) -> Verdict:
    engines = request.engines("rbp", ("ngspice", "native"))
    network = request.network(engines[0])
    conductances, x, targets = request.batch(network, BATCH)
    capacitance = request.config.node_capacitance
    model = CircuitEuler(network, conductances, x, targets, SquaredError())
    linear = LinearisedCircuit(model, capacitance)
    fastest, slowest = linear.time_constants()
    t_end = SETTLING * slowest
    points = TIME_POINTS // 4 if request.quick else TIME_POINTS
    times = np.linspace(0.0, t_end, points + 1)[1:]
    request.log(f"rbp: {'-'.join(map(str, request.layers))}, C = {capacitance:g} F on every "
                f"node, time constants {fastest:.3g} to {slowest:.3g} s; exact recurrent backprop")
    rbp = linear.error_derivatives(times)
    phases = {}
    for engine in engines:
        beta = request.beta or (BETA if engine == "ngspice" else NATIVE_BETA)
        request.log(f"rbp: {engine} nudged phase to {t_end:.3g} s, beta {beta:g} S")
        if engine == "ngspice":
            phase = _ngspice_phase(model, linear, times, beta, RISE * fastest,
                                   request.config.spice_timeout)
        else:
            phase = _native_phase(model, linear, times, beta)
        phases[engine] = (beta, phase)
    first, (beta, ep) = engines[0], phases[engines[0]]
    result = {"engine": first, "beta": beta, "t_end": t_end, "node_capacitance": capacitance,
              "time_constants": [fastest, slowest], "time_points": points, **_compare(ep, rbp)}
    for engine in engines[1:]:
        result[engine] = {"beta": phases[engine][0], **_compare(phases[engine][1], rbp)}
    result["truncation"] = _truncation(ep, rbp, linear.gradient())
    table = []
    for engine in engines:
        row = result if engine == first else result[engine]
        table += layer_table(f"rbp: RelMSE over the second phase (0 to {t_end:.3g} s), {engine}, "
                             f"beta {row['beta']:g} S", {"neurons": row["relmse_neurons"]})
        table += layer_table("", {"conductances": row["relmse_parameters"]})[1:]
    return Verdict(result, table, _figures(request, first, ep, rbp, result["truncation"]))


def _ngspice_phase(model: CircuitEuler, linear: LinearisedCircuit, times: np.ndarray,
                   beta: float, rise: float, timeout: float | None) -> Processes:
    """One ngspice transient per sample, the nudge switched on over ``rise`` seconds, read on
    the time grid."""
    t_end = float(times[-1])
    with NgspiceProcess() as process:
        runs = [nudged_transient(process, model.network, model.conductances, model.features[b],
                                 model.cost, model.targets[b].numpy(), beta,
                                 linear.capacitance, t_end, t_end / len(times), rise, timeout)
                for b in range(len(model.features))]
    start = np.stack([r.voltages[0] for r in runs])  # ngspice's own free operating point
    on_grid = [r.on(times) for r in runs]
    return temporal_derivatives(model, times, np.stack([r.voltages for r in on_grid]),
                                np.stack([r.capacitor_currents for r in on_grid]), beta, start)


def _native_phase(model: CircuitEuler, linear: LinearisedCircuit, times: np.ndarray,
                  beta: float) -> Processes:
    """The nudged phase integrated with the native equations."""
    voltages, flows = integrate_nudged_phase(model, linear.capacitance, beta, times,
                                             linear.motion(beta))
    return temporal_derivatives(model, times, voltages, flows, beta, linear.voltages)


def _compare(ep: Processes, rbp: Processes) -> dict:
    return {"relmse_neurons": {k: relmse(ep.neurons[k], rbp.neurons[k]) for k in ep.neurons},
            "relmse_parameters": {k: relmse(ep.parameters[k], rbp.parameters[k])
                                  for k in ep.parameters}}


def _truncation(ep: Processes, rbp: Processes, gradient: tuple[np.ndarray, ...]) -> dict:
    """Relative error of truncated EP and truncated RBP against dJ/dG at each time."""
    full = np.concatenate([g.ravel() for g in gradient])

    def error(process: Processes) -> list[float]:
        stacked = np.concatenate([p.reshape(len(ep.times), -1) for p in
                                  process.parameters.values()], axis=1)
        return list(np.linalg.norm(stacked - full, axis=1) / np.linalg.norm(full))

    return {"times": list(ep.times), "ep": error(ep), "rbp": error(rbp)}


def _figures(request: VerifyRequest, engine: str, phase: Processes, rbp: Processes,
             truncation: dict) -> list:
    from eqprop_analog.report.verify_plots import plot_processes, plot_truncation

    return [plot_processes({**phase.neurons, **phase.parameters}, {**rbp.neurons, **rbp.parameters},
                           request.out / "rbp_processes.png",
                           f"temporal derivatives of EP ({engine}, dashed) and error derivatives "
                           "of recurrent backprop (solid)", labels=("EP", "RBP"),
                           times=rbp.times, time_label="t (s)"),
            plot_truncation(truncation, request.out / "rbp_truncation.png",
                            f"gradient error against truncation time (EP: {engine})")]
