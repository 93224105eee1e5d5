"""``verify gdu``: EP's second phase against BPTT step by step (seed 000, Theorem 1).

Settings: the seed's fully connected models (prototypical and energy-based, 1 to 3 hidden layers,
digits inputs, K and beta of thesis part IV Table 2.1) and the energy-based setting built on the
circuit's own co-content (:class:`~eqprop_analog.theory.circuit_dynamics.CircuitEuler`). For each:
RelMSE per layer (thesis eq. 2.14, mini-batch of 20) of the one-sided and symmetric estimators,
and its order in beta where the model has a primitive function.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eqprop_analog.data import load_dataset
from eqprop_analog.learning.gradcheck import log_log_slope
from eqprop_analog.theory.circuit_dynamics import CircuitEuler
from eqprop_analog.theory.discrete import (
    GDU_ESTIMATORS,
    DiscreteModel,
    GDUComparison,
    bptt_processes,
    compare_gdu,
    fixed_point_error,
)
from eqprop_analog.theory.fully_connected import EnergyBased, LayeredModel, Prototypical
from eqprop_analog.theory.verify import Verdict, VerifyRequest, layer_table

BATCH = 20  # the seed's mini-batch (thesis part IV, 2.3.2)
FC_HIDDEN = 32  # units per hidden layer of the fully connected models (digits: 64 inputs)
FC_WEIGHT_SCALE = 0.5  # weights uniform in +/- 0.5 / sqrt(fan-in): first phases converge in < 1000 steps


@dataclass(frozen=True)
class Setting:
    model: type[LayeredModel]
    hidden_layers: int
    steps: int  # K
    beta: float


# thesis part IV, Table 2.1 (T is not taken from it: each first phase runs to convergence)
FC_SETTINGS = {
    "prototypical-1h": Setting(Prototypical, 1, 10, 0.01),
    "prototypical-2h": Setting(Prototypical, 2, 40, 0.01),
    "prototypical-3h": Setting(Prototypical, 3, 40, 0.015),
    "energy-based-1h": Setting(EnergyBased, 1, 80, 0.001),
    "energy-based-2h": Setting(EnergyBased, 2, 150, 0.01),
    "energy-based-3h": Setting(EnergyBased, 3, 200, 0.02),
}
FC_BETAS = (0.1, 0.03, 0.01, 0.003, 0.001)
CIRCUIT_BETA = 1e-7  # S
CIRCUIT_STEPS = 60
CIRCUIT_BETA_FACTORS = (1e2, 1e1, 1.0, 1e-1, 1e-2)
# RelMSE below this is float64 rounding of the differences of two nearby states, not the
# estimator's bias: such points are shown but left out of the fitted orders
ROUNDING_FLOOR = 1e-8
TARGET = 1e-4  # RelMSE: the smallest beta of the circuit's sweep below it is reported per layer


def orders(by_beta: dict) -> dict:
    """Fitted log-log slope of RelMSE against beta, per estimator and layer: over the betas from
    the largest down to the one of least error (below it rounding, growing as 1/beta, takes
    over), leaving out errors under the rounding floor."""
    slopes: dict[str, dict[str, float | None]] = {}
    for estimator, rows in by_beta.items():
        slopes[estimator] = {}
        for layer in rows[0]["relmse"]:
            ordered = sorted(((r["beta"], r["relmse"][layer]) for r in rows), reverse=True)
            least = min(range(len(ordered)), key=lambda k: ordered[k][1])
            kept = [p for p in ordered[:least + 1] if p[1] > ROUNDING_FLOOR]
            slopes[estimator][layer] = log_log_slope(*zip(*kept)) if len(kept) >= 2 else None
    return slopes


def fc_model(setting: Setting, x: np.ndarray, y: np.ndarray, seed: int) -> LayeredModel:
    return setting.model(x, y, [FC_HIDDEN] * setting.hidden_layers, np.random.default_rng(seed),
                         weight_scale=FC_WEIGHT_SCALE)


def run(request: VerifyRequest) -> Verdict:
    request.engines("gdu", ("native",))
    log = request.log
    data = load_dataset("digits", request.config.seed)
    x, y = data.x_train[:BATCH], np.eye(data.n_classes)[data.y_train[:BATCH]]
    settings = {k: v for k, v in FC_SETTINGS.items() if not request.quick or k.endswith("1h")}
    fc_betas = (0.1, 0.01) if request.quick else FC_BETAS
    result: dict = {"relmse": {}, "beta": {}, "K": {}, "by_beta": {}, "orders": {},
                    "first_phase_steps": {}, "fixed_point_error": {}}
    figures = []
    from eqprop_analog.report.verify_plots import plot_orders, plot_relmse_bars

    for name, setting in settings.items():
        log(f"gdu: {name} (digits 64-{'-'.join([str(FC_HIDDEN)] * setting.hidden_layers)}-10, "
            f"K = {setting.steps})")
        model = fc_model(setting, x, y, request.config.seed)
        comparison = _record(result, name, model, setting.steps, setting.beta, fc_betas)
        if name in ("prototypical-1h", "energy-based-1h"):
            figures.append(_processes_figure(request, name, comparison, setting.beta))

    network = request.network()
    conductances, cx, targets = request.batch(network, BATCH)
    beta = request.beta or CIRCUIT_BETA
    circuit = CircuitEuler(network, conductances, cx, targets)
    factors = CIRCUIT_BETA_FACTORS[1:-1] if request.quick else CIRCUIT_BETA_FACTORS
    log(f"gdu: circuit {'-'.join(map(str, request.layers))} (explicit Euler, dt/C = "
        f"{circuit.time_step:.3g} ohm, K = {CIRCUIT_STEPS})")
    comparison = _record(result, "circuit", circuit, CIRCUIT_STEPS, beta,
                         tuple(beta * f for f in factors))
    result["circuit_time_step"] = circuit.time_step
    figures.append(_processes_figure(request, "circuit", comparison, beta))
    result["circuit_below_target_at"] = {
        estimator: {layer: min((r["beta"] for r in rows if r["relmse"][layer] < TARGET),
                               default=None) for layer in rows[0]["relmse"]}
        for estimator, rows in result["by_beta"]["circuit"].items()}

    figures.append(plot_relmse_bars(result["relmse"], request.out / "gdu_relmse.png",
                                    "RelMSE(EP, -BPTT) per layer (seed 000 Fig. 3 protocol)"))
    figures.append(plot_orders(
        {e: [{"x": r["beta"], "values": r["relmse"]} for r in rows]
         for e, rows in result["by_beta"]["circuit"].items()},
        request.out / "gdu_circuit_beta.png", "beta (S)", "RelMSE(EP, -BPTT)",
        "circuit co-content: RelMSE against beta"))
    table = []
    for name in result["relmse"]:
        table += layer_table(f"{name}: RelMSE at beta {result['beta'][name]:g}, K "
                             f"{result['K'][name]}", result["relmse"][name])
        if name in result["orders"]:
            table += layer_table("  fitted order in beta", result["orders"][name], ".2f")
    return Verdict(result, table, figures)


def _record(result: dict, name: str, model: DiscreteModel, steps: int, beta: float,
            betas: tuple[float, ...]) -> GDUComparison:
    """Fill ``result``'s entries for setting ``name``; return its one-sided comparison at
    ``beta`` (for the figure)."""
    s_star = model.free_state()
    bptt = bptt_processes(model, s_star, steps)
    comparisons = {(e, b): compare_gdu(model, steps, b, e, s_star, bptt)
                   for e in GDU_ESTIMATORS for b in {beta, *betas}}
    result["relmse"][name] = {e: comparisons[e, beta].relmse() for e in GDU_ESTIMATORS}
    result["beta"][name], result["K"][name] = beta, steps
    result["by_beta"][name] = {
        e: [{"beta": b, "relmse": comparisons[e, b].relmse()} for b in betas]
        for e in GDU_ESTIMATORS}
    if not name.startswith("prototypical"):  # a primitive function: the error is the bias in beta
        result["orders"][name] = orders(result["by_beta"][name])
    result["first_phase_steps"][name] = getattr(model, "first_phase_steps", None)
    result["fixed_point_error"][name] = fixed_point_error(model, s_star)
    return comparisons["one-sided", beta]


def _processes_figure(request: VerifyRequest, name: str, comparison: GDUComparison,
                      beta: float) -> Path:
    from eqprop_analog.report.verify_plots import plot_processes

    return plot_processes(comparison.ep, comparison.bptt, request.out / f"gdu_{name}.png",
                          f"{name}: Delta EP (dashed) and -grad BPTT (solid), beta {beta:g}")
