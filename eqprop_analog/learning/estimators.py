"""Equilibrium Propagation estimators of the loss gradient with respect to every conductance.

Each resistor measures its own dE/dG = 1/2 (V_i - V_j)^2. The estimators difference that quantity
between two steady states and divide by the difference of their nudging strengths:
one-sided (0, beta), bias O(beta); symmetric (-beta, +beta), bias O(beta^2); random sign: one-sided
with the sign of beta drawn per mini-batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Solution
from eqprop_analog.errors import ConfigError

EstimatorKind = Literal["symmetric", "one-sided", "random-sign"]
ESTIMATORS = ("symmetric", "one-sided", "random-sign")


def energy_gradient_difference(network: LayeredNetwork, features: np.ndarray, free_a: np.ndarray,
                               free_b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Batch mean of dE/dG(state a) - dE/dG(state b) for every crossbar.

    Uses (a^2 - b^2) = (a - b)(a + b) on the resistor voltages so that the small difference between
    two nearby states is formed before any squaring (no cancellation)."""
    out = []
    batch = features.shape[0]
    for l in range(1, network.n_crossbars + 1):
        ca, cb = network.column_voltages(l, free_a), network.column_voltages(l, free_b)
        dc, sc = ca - cb, ca + cb
        if l == 1:  # rows are the clamped inputs and rails: the same in both states (dr = 0)
            r = network.row_voltages(1, features, free_a)
            total = (dc * sc).sum(0)[None, :] - 2.0 * (r.T @ dc)
        else:
            ra = network.row_voltages(l, features, free_a)
            rb = network.row_voltages(l, features, free_b)
            dr, sr = ra - rb, ra + rb
            # sum_b (dr_i - dc_j)(sr_i - sc_j), expanded into matrix products
            total = ((dr * sr).sum(0)[:, None] - dr.T @ sc - sr.T @ dc + (dc * sc).sum(0)[None, :])
        out.append(0.5 * total / batch)
    return tuple(out)


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

    def gradient(self, network: LayeredNetwork, features: np.ndarray,
                 solution: Solution) -> tuple[np.ndarray, ...]:
        x = np.asarray(features, dtype=np.float64)
        if self.kind == "symmetric":
            plus, minus = solution.phase(self.beta), solution.phase(-self.beta)
            scale = 2.0 * self.beta
        else:
            beta = solution.betas[1]
            plus, minus, scale = solution.phase(beta), solution.phase(0.0), beta
        return tuple(d / scale for d in energy_gradient_difference(network, x, plus, minus))
