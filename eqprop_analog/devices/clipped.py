"""An ideal programmable conductance whose value saturates at the ends of its range."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.errors import ConfigError


@dataclass(frozen=True)
class ClippedDevice:
    """Applies the requested change exactly, then clips to [g_min, g_max]."""

    g_min: float
    g_max: float

    def __post_init__(self) -> None:
        if not 0 < self.g_min < self.g_max:
            raise ConfigError(f"device range needs 0 < g_min < g_max, got [{self.g_min}, {self.g_max}]")

    def program(self, conductance: np.ndarray, change: np.ndarray) -> None:
        """Apply the requested ``change`` to ``conductance`` in place."""
        conductance += change
        np.clip(conductance, self.g_min, self.g_max, out=conductance)
