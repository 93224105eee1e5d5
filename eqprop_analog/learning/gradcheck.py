"""Checks of EP gradient estimates against central finite differences of the loss, both through the
same engine (ngspice by default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Engine, NudgingMode, Phases
from eqprop_analog.engines.nudging import Cost
from eqprop_analog.learning.estimators import EPEstimator, EstimatorKind


def batch_loss(engine: Engine, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
               features: np.ndarray, cost: Cost, targets: np.ndarray) -> float:
    """Mean cost of the free steady states."""
    free = engine.solve(network, conductances, features).phase(0.0)
    return float(np.mean(cost.value(network.readout(free), targets)))


def finite_difference_gradient(engine: Engine, network: LayeredNetwork,
                               conductances: tuple[np.ndarray, ...], features: np.ndarray,
                               cost: Cost, targets: np.ndarray, relative_step: float = 1e-3
                               ) -> tuple[np.ndarray, ...]:
    """dL/dG by central differences, each conductance moved by +/- relative_step * G."""
    grads = []
    for l, g in enumerate(conductances):
        grad = np.empty_like(g)
        for index in np.ndindex(g.shape):
            h = relative_step * g[index]
            losses = []
            for sign in (1.0, -1.0):
                moved = [c.copy() for c in conductances]
                moved[l][index] += sign * h
                losses.append(batch_loss(engine, network, tuple(moved), features, cost, targets))
            grad[index] = (losses[0] - losses[1]) / (2.0 * h)
        grads.append(grad)
    return tuple(grads)


def ep_gradient(engine: Engine, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                features: np.ndarray, cost: Cost, targets: np.ndarray, estimator: EPEstimator,
                nudging: NudgingMode = "exact", rng: np.random.Generator | None = None
                ) -> tuple[np.ndarray, ...]:
    phases = Phases(estimator.betas(rng), cost, targets, nudging)
    solution = engine.solve(network, conductances, features, phases)
    return estimator.gradient(network, features, solution)


@dataclass(frozen=True)
class Comparison:
    """How close an estimate is to a reference gradient, over all conductances."""

    cosine: float
    relative_error: float

    @staticmethod
    def of(estimate: tuple[np.ndarray, ...], reference: tuple[np.ndarray, ...]) -> Comparison:
        e = np.concatenate([a.ravel() for a in estimate])
        r = np.concatenate([a.ravel() for a in reference])
        cosine = float(e @ r / (np.linalg.norm(e) * np.linalg.norm(r)))
        return Comparison(cosine, float(np.linalg.norm(e - r) / np.linalg.norm(r)))


REFERENCES = ("finite-differences", "implicit")


def reference_gradient(kind: str, engine: Engine, network: LayeredNetwork,
                       conductances: tuple[np.ndarray, ...], features: np.ndarray, cost: Cost,
                       targets: np.ndarray) -> tuple[np.ndarray, ...]:
    """The gradient that EP is checked against: central finite differences of the loss through
    the engine, or implicit differentiation at the engine's free state."""
    if kind == "finite-differences":
        return finite_difference_gradient(engine, network, conductances, features, cost, targets)
    if kind == "implicit":
        from eqprop_analog.learning.implicit import implicit_gradient

        free = engine.solve(network, conductances, features).phase(0.0)
        return implicit_gradient(network, conductances, features, free, cost, targets)
    raise ValueError(f"unknown reference {kind!r}")


def per_layer(estimate: tuple[np.ndarray, ...], reference: tuple[np.ndarray, ...]) -> list[dict]:
    return [{"layer": l, **vars(Comparison.of((e,), (r,)))}
            for l, (e, r) in enumerate(zip(estimate, reference), start=1)]


def bias_against_beta(engine: Engine, network: LayeredNetwork,
                      conductances: tuple[np.ndarray, ...], features: np.ndarray, cost: Cost,
                      targets: np.ndarray, reference: tuple[np.ndarray, ...],
                      betas: list[float], nudging: NudgingMode = "exact",
                      kinds: tuple[EstimatorKind, ...] = ("one-sided", "symmetric"),
                      rng: np.random.Generator | None = None) -> list[dict]:
    """Relative error of each estimator in ``kinds`` at each beta (random sign: one draw of the
    sign per beta from ``rng``)."""
    rows = []
    for beta in betas:
        row = {"beta": beta}
        for kind in kinds:
            estimate = ep_gradient(engine, network, conductances, features, cost, targets,
                                   EPEstimator(kind, beta), nudging, rng)
            row[kind] = Comparison.of(estimate, reference).relative_error
        rows.append(row)
    return rows


def fitted_order(rows: list[dict], kind: str) -> float:
    """Slope of log(error) against log(beta): 1 for one-sided, 2 for symmetric."""
    return log_log_slope([r["beta"] for r in rows], [r[kind] for r in rows])


def log_log_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Slope of the least-squares line through (log x, log y): the order of y in x."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(xs) < 2 or not (np.all(xs > 0) and np.all(ys > 0)):
        raise ValueError("a log-log slope needs at least two points with positive values")
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])
