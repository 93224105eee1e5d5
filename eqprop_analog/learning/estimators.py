"""Equilibrium Propagation estimators of the loss gradient with respect to every conductance.

Each resistor measures its own dE/dG = 1/2 (V_i - V_j)^2. The estimators difference that quantity
between two steady states and divide by the difference of their nudging strengths:
one-sided (0, beta), bias O(beta); symmetric (-beta, +beta), bias O(beta^2); random sign: one-sided
with the sign of beta drawn per mini-batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Solution
from eqprop_analog.errors import ConfigError

EstimatorKind = Literal["symmetric", "one-sided", "random-sign"]
ESTIMATORS: tuple[EstimatorKind, ...] = ("symmetric", "one-sided", "random-sign")


def energy_gradient_difference(network: LayeredNetwork, features: np.ndarray, free_a: np.ndarray,
                               free_b: np.ndarray, scales: Sequence[float] | None = None,
                               out: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
    """Batch mean of dE/dG(state a) - dE/dG(state b) for every crossbar, times ``scales[l]``,
    written into ``out`` when given (arrays of the crossbars' shapes).

    Uses (a^2 - b^2) = (a - b)(a + b) on the resistor voltages so that the small difference between
    two nearby states is formed before any squaring (no cancellation). The scale goes into the
    small per-sample factors, so each crossbar's result is written by one matrix product and one
    broadcast addition (at MNIST size these passes over the conductances cost more than the
    products themselves)."""
    results = []
    for l in range(1, network.n_crossbars + 1):
        k = 0.5 * (1.0 if scales is None else scales[l - 1]) / features.shape[0]
        target = None if out is None else out[l - 1]
        if network.spec.wire_resistance:  # each device's own drop, between its crossing points
            da = network.device_drops(l, features, free_a)
            db = network.device_drops(l, features, free_b)
            results.append(np.einsum("bij,bij->ij", k * (da - db), da + db, out=target))
            continue
        ca, cb = network.column_voltages(l, free_a), network.column_voltages(l, free_b)
        dc, sc = ca - cb, ca + cb
        if l == 1:  # rows are the clamped inputs and rails: the same in both states (dr = 0)
            r = network.row_voltages(1, features, free_a)
            total = np.matmul(r.T, -2.0 * k * dc, out=target)
        else:
            ra = network.row_voltages(l, features, free_a)
            rb = network.row_voltages(l, features, free_b)
            dr, sr = ra - rb, ra + rb
            # sum_b (dr_i - dc_j)(sr_i - sc_j), expanded into matrix products
            total = np.matmul(np.vstack([dr, sr]).T, -k * np.vstack([sc, dc]), out=target)
            total += (k * np.einsum("bi,bi->i", dr, sr))[:, None]
        total += k * np.einsum("bj,bj->j", dc, sc)
        results.append(total)
    return tuple(results)


@dataclass(frozen=True)
class EPEstimator:
    """An EP estimator of dL/dG (L: the batch-mean cost) from steady states."""

    kind: EstimatorKind = "symmetric"
    beta: float = 1e-5  # siemens

    def __post_init__(self) -> None:
        if self.kind not in ESTIMATORS:
            raise ConfigError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {self.kind!r}")
        if not (np.isfinite(self.beta) and self.beta > 0):
            raise ConfigError(f"beta must be a positive conductance in S, got {self.beta!r}")

    def betas(self, rng: np.random.Generator | None = None) -> tuple[float, ...]:
        """Nudging strengths of the phases to solve, the free phase first."""
        if self.kind == "symmetric":
            return (0.0, self.beta, -self.beta)
        if self.kind == "one-sided":
            return (0.0, self.beta)
        sign = 1.0 if rng is None or rng.random() < 0.5 else -1.0
        return (0.0, sign * self.beta)

    def gradient(self, network: LayeredNetwork, features: np.ndarray, solution: Solution,
                 scales: Sequence[float] | None = None, out: Sequence[np.ndarray] | None = None
                 ) -> tuple[np.ndarray, ...]:
        """dL/dG of every crossbar, each times ``scales[l]`` (e.g. minus its learning rate, which
        gives the requested update) and written into ``out`` when given."""
        x = np.asarray(features, dtype=np.float64)
        if self.kind == "symmetric":
            plus, minus = solution.phase(self.beta), solution.phase(-self.beta)
            span = 2.0 * self.beta
        else:
            span = solution.betas[1]
            plus, minus = solution.phase(span), solution.phase(0.0)
        scales = [(1.0 if scales is None else scales[l]) / span for l in range(network.n_crossbars)]
        return energy_gradient_difference(network, x, plus, minus, scales, out)
