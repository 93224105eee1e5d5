"""Costs on the output signals and the nudging currents that realise them in the circuit.

The nudged state minimises E + beta C, so the current injected into output node m is
-beta dC/dV_m. With *exact* nudging that current follows the node voltage (a behavioural source);
with *current* nudging it is fixed at its value in the free state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.errors import ConfigError


@dataclass(frozen=True)
class SquaredError:
    """C = 1/2 sum_k (r_k - y_k)^2 with r the output signals and y the targets, in volts: for a
    label, ``target_high`` at its class and ``target_low`` elsewhere."""

    target_high: float = 0.2
    target_low: float = -0.1
    name = "squared-error"

    def targets(self, labels: np.ndarray, n_classes: int) -> np.ndarray:
        """Target voltages of integer ``labels``, shape (len(labels), n_classes)."""
        onehot = np.eye(n_classes)[labels]
        return self.target_low + (self.target_high - self.target_low) * onehot

    def value(self, readout: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum((readout - targets) ** 2, axis=-1)

    def gradient(self, readout: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return readout - targets

    def current_expressions(self, signals: list[str], targets: list[str], beta: str) -> list[str]:
        """SPICE expressions of -beta dC/dr_k, given the expressions of r_k, y_k and beta."""
        return [f"{beta}*({y}-{r})" for r, y in zip(signals, targets)]


@dataclass(frozen=True)
class CrossEntropy:
    """C = -sum_k y_k log p_k with p = softmax(gain * r); ``gain`` in 1/V. Targets y are
    probability distributions (one-hot for labels)."""

    gain: float = 10.0
    name = "cross-entropy"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.gain) and self.gain > 0):
            raise ConfigError(f"softmax gain must be > 0 (1/V), got {self.gain}")

    def targets(self, labels: np.ndarray, n_classes: int) -> np.ndarray:
        """One-hot distributions of integer ``labels``, shape (len(labels), n_classes)."""
        return np.eye(n_classes)[labels]

    def probabilities(self, readout: np.ndarray) -> np.ndarray:
        z = self.gain * readout
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def value(self, readout: np.ndarray, targets: np.ndarray) -> np.ndarray:
        z = self.gain * readout
        m = z.max(axis=-1, keepdims=True)
        log_norm = m[..., 0] + np.log(np.exp(z - m).sum(axis=-1))
        return log_norm - np.sum(targets * z, axis=-1)

    def gradient(self, readout: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return self.gain * (self.probabilities(readout) - targets)

    def current_expressions(self, signals: list[str], targets: list[str], beta: str) -> list[str]:
        g = repr(float(self.gain))
        norm = "+".join(f"exp({g}*{r})" for r in signals)
        return [f"{beta}*{g}*({y}-exp({g}*{r})/({norm}))" for r, y in zip(signals, targets)]


Cost = SquaredError | CrossEntropy
COSTS = ("squared-error", "cross-entropy")


def make_cost(name: str, softmax_gain: float = 10.0, target_high: float = 0.2,
              target_low: float = -0.1) -> Cost:
    """The cost ``name``: cross-entropy with ``softmax_gain``, or squared error with its targets."""
    if name in ("squared-error", "mse"):
        return SquaredError(target_high, target_low)
    if name == "cross-entropy":
        return CrossEntropy(softmax_gain)
    raise ConfigError(f"unknown cost {name!r}; choose one of {', '.join(COSTS)}")
