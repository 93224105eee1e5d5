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
    network = request.network("ngspice")
    conductances, x, targets = request.batch(network, BATCH)
    cost = SquaredError()
    capacitance = request.config.node_capacitance
    beta = request.beta or BETA
    model = CircuitEuler(network, conductances, x, targets, cost)
    linear = LinearisedCircuit(model, capacitance)
    fastest, slowest = linear.time_constants()
    t_end = SETTLING * slowest
    points = TIME_POINTS // 4 if request.quick else TIME_POINTS
    times = np.linspace(0.0, t_end, points + 1)[1:]
    request.log(f"rbp: {'-'.join(map(str, request.layers))}, C = {capacitance:g} F on every "
                f"node, time constants {fastest:.3g} to {slowest:.3g} s; exact recurrent backprop")
    rbp = linear.error_derivatives(times)
    request.log(f"rbp: ngspice transients to {t_end:.3g} s, beta {beta:g} S")
    with NgspiceProcess() as process:
        runs = [nudged_transient(process, network, conductances, x[b], cost, targets[b], beta,
                                 capacitance, t_end, t_end / points, RISE * fastest,
                                 request.config.spice_timeout)
                for b in range(BATCH)]
    first = np.stack([r.voltages[0] for r in runs])  # the free operating point, t = 0
    on_grid = [r.on(times) for r in runs]
    voltages = np.concatenate([first[:, None], np.stack([r.voltages for r in on_grid])], axis=1)
    flows = np.concatenate([np.zeros_like(first)[:, None],
                            np.stack([r.capacitor_currents for r in on_grid])], axis=1)
    spice = temporal_derivatives(model, np.concatenate([[0.0], times]), voltages, flows, beta)
    spice = Processes(times, {k: v[1:] for k, v in spice.neurons.items()},
                      {k: v[1:] for k, v in spice.parameters.items()})
    request.log(f"rbp: native integration of the nudged phase, beta {NATIVE_BETA:g} S")
    native_v, native_f = integrate_nudged_phase(model, capacitance, NATIVE_BETA,
                                                np.concatenate([[0.0], times]),
                                                linear.motion(NATIVE_BETA))
    native = temporal_derivatives(model, np.concatenate([[0.0], times]), native_v, native_f,
                                  NATIVE_BETA)
    native = Processes(times, {k: v[1:] for k, v in native.neurons.items()},
                       {k: v[1:] for k, v in native.parameters.items()})
    result = {"engine": "ngspice", "beta": beta, "t_end": t_end, "node_capacitance": capacitance,
              "time_constants": [fastest, slowest], "time_points": points,
              "free_state_difference": float(np.abs(first - linear.voltages).max()),
              **_compare(spice, rbp),
              "native": {"beta": NATIVE_BETA, **_compare(native, rbp)}}
    gradient = linear.gradient()
    result["truncation"] = _truncation(spice, rbp, gradient)
    figures = _figures(request, spice, rbp, result["truncation"], times)
    table = layer_table(f"rbp: RelMSE over the second phase (0 to {t_end:.3g} s), ngspice "
                        f"transient, beta {beta:g} S",
                        {"neurons": result["relmse_neurons"]}) + layer_table(
        "", {"conductances": result["relmse_parameters"]})[1:]
    table += layer_table(f"native integration, beta {NATIVE_BETA:g} S",
                         {"neurons": result["native"]["relmse_neurons"]}) + layer_table(
        "", {"conductances": result["native"]["relmse_parameters"]})[1:]
    return Verdict(result, table, figures)


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


def _figures(request, spice: Processes, rbp: Processes, truncation: dict, times) -> list:
    from eqprop_analog.report.verify_plots import plot_processes, plot_truncation

    ep = {**spice.neurons, **spice.parameters}
    reference = {**rbp.neurons, **rbp.parameters}
    return [plot_processes(ep, reference, request.out / "rbp_processes.png",
                           "temporal derivatives of EP (ngspice, dashed) and error derivatives "
                           "of recurrent backprop (solid)", labels=("EP", "RBP"), times=times,
                           time_label="t (s)"),
            plot_truncation(truncation, request.out / "rbp_truncation.png",
                            "gradient error against truncation time")]
