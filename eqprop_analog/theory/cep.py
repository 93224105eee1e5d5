"""``verify cep``: continual EP on the circuit's discretised dynamics (thesis part V).

On :class:`~eqprop_analog.theory.circuit_dynamics.CircuitEuler` (the native engine's equations,
explicit Euler with node capacitances): the total C-EP update over the second phase against EP's
at fixed conductances as the learning rate eta shrinks, with the fitted order of their difference
(1 expected: C-EP's states differ from EP's by O(eta)), and C-EP's per-step updates against
recurrent backprop (BPTT from the steady state, which is discrete-time recurrent backprop) by
RelMSE (Theorem 10, the GDD property).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eqprop_analog.errors import SolverError
from eqprop_analog.learning.gradcheck import log_log_slope
from eqprop_analog.theory.circuit_dynamics import CircuitEuler
from eqprop_analog.theory.continual import cep_processes, relative_difference
from eqprop_analog.theory.discrete import bptt_processes, ep_processes
from eqprop_analog.theory.relmse import relmse
from eqprop_analog.theory.verify import Verdict, VerifyRequest, layer_table

BATCH = 20
BETA = 1e-8  # S: small, so that EP's own bias (O(beta)) stays below C-EP's effect of eta
STEPS = 200
# eta set by how far the whole second phase moves the most changed device, as a share of beta:
# C-EP's own moves of the conductances shift the state as a nudge of that size would, and EP's
# update divides every shift by beta, so C-EP follows EP only where this share is small
RELATIVE_CHANGES = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
ASYMPTOTIC = 0.1  # differences below this are fitted for the order


def run(request: VerifyRequest) -> Verdict:
    request.engines("cep", ("native",))
    network = request.network()
    conductances, x, targets = request.batch(network, BATCH)
    model = CircuitEuler(network, conductances, x, targets)
    beta = request.beta or BETA
    steps = STEPS // 4 if request.quick else STEPS
    changes = RELATIVE_CHANGES[::2] if request.quick else RELATIVE_CHANGES
    request.log(f"cep: circuit {'-'.join(map(str, request.layers))}, beta {beta:g} S, "
                f"{steps} steps of dt/C = {model.time_step:.3g} ohm")
    s_star = model.free_state()
    ep = {k: v for k, v in ep_processes(model, s_star, steps, beta).items()
          if k in model.parameter_names}
    rbp = {k: v for k, v in bptt_processes(model, s_star, steps).items()
           if k in model.parameter_names}
    ep_total = {k: v.sum(0) for k, v in ep.items()}
    largest = max(np.abs(v).max() for v in ep_total.values())
    rows, diverged, processes = [], [], {}
    for change in changes:
        eta = change * beta / largest
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                cep = cep_processes(model, s_star, steps, beta, eta)
        except SolverError as exc:
            request.log(f"  {exc}")
            diverged.append(eta)
            continue
        processes[eta] = cep
        rows.append({"eta": eta, "relative_change": change,
                     "total_difference": {k: relative_difference(cep[k].sum(0), ep_total[k])
                                          for k in cep}})
    if len(rows) < 2:
        raise SolverError("C-EP diverged at almost every eta: use a larger --beta")
    orders = {}
    for k in model.parameter_names:  # the leading order: where C-EP is within 10 % of EP
        kept = [(r["eta"], r["total_difference"][k]) for r in rows
                if r["total_difference"][k] < ASYMPTOTIC]
        orders[k] = log_log_slope(*zip(*kept)) if len(kept) >= 2 else None
    result: dict = {
        "beta": beta, "K": steps, "time_step": model.time_step, "diverged_at_eta": diverged,
        "ep_relmse_to_rbp": {k: relmse(ep[k], rbp[k]) for k in ep}, "by_eta": rows,
        "orders": orders,
        "relmse_to_rbp": {f"{eta:.3g}": {k: relmse(cep[k], rbp[k]) for k in cep}
                          for eta, cep in processes.items()}}
    figures = _figures(request, result, processes, rbp)
    table = layer_table(f"cep: ||C-EP total - EP total|| / ||EP total|| (K {steps}, beta {beta:g})",
                        {f"eta {r['eta']:.2e}": r["total_difference"] for r in rows})
    table += ["  fitted order in eta: " + ", ".join(
        f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in orders.items())]
    if diverged:
        table.append(f"  diverged at eta {', '.join(f'{e:.2e}' for e in diverged)}")
    table += layer_table("  RelMSE(C-EP per step, -grad RBP)",
                         {f"eta {float(eta):.2e}": v for eta, v in result["relmse_to_rbp"].items()}
                         | {"EP (eta -> 0)": result["ep_relmse_to_rbp"]})
    return Verdict(result, table, figures)


def _figures(request: VerifyRequest, result: dict, processes: dict[float, dict],
             rbp: dict[str, np.ndarray]) -> list[Path]:
    from eqprop_analog.report.verify_plots import plot_orders, plot_processes

    rows = result["by_eta"]
    to_rbp = list(result["relmse_to_rbp"].values())
    figures = [plot_orders({"C-EP total against EP total":
                            [{"x": r["eta"], "values": r["total_difference"]} for r in rows],
                            "C-EP per step against RBP":
                            [{"x": r["eta"], "values": v} for r, v in zip(rows, to_rbp)]},
                           request.out / "cep_eta.png", "eta", "relative error",
                           "continual EP: convergence as eta -> 0")]
    middle = rows[len(rows) // 2]["eta"]
    figures.append(plot_processes(processes[middle], rbp, request.out / "cep_processes.png",
                                  f"C-EP (dashed, eta {middle:.2g}) and -grad RBP (solid)",
                                  labels=("C-EP", "RBP")))
    return figures
