"""Devices that take the requested change as it is: exactly, clipped to their range, or rounded to
one of a fixed number of levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.devices.base import Device
from eqprop_analog.errors import ConfigError


@dataclass
class IdealDevice(Device):
    """Applies the requested change exactly, without bounds (a conductance that would fall below
    a small positive floor is held there, since the circuit needs G > 0)."""

    g_min: float
    g_max: float

    def __post_init__(self) -> None:
        if not 0 < self.g_min < self.g_max:
            raise ConfigError(f"device range needs 0 < g_min < g_max, got [{self.g_min}, {self.g_max}]")

    def program(self, layer, conductance, change, rng) -> None:
        conductance += change
        np.maximum(conductance, 1e-6 * self.g_min, out=conductance)


@dataclass
class ClippedDevice(IdealDevice):
    """Applies the requested change exactly, then clips to [g_min, g_max]."""

    def program(self, layer, conductance, change, rng) -> None:
        conductance += change
        np.clip(conductance, self.g_min, self.g_max, out=conductance)


@dataclass
class QuantizedDevice(ClippedDevice):
    """Holds one of ``levels`` evenly spaced conductances from g_min to g_max: the requested value
    is clipped and rounded to the nearest level, so changes below half a step are lost."""

    levels: int = 16

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.levels, int) or self.levels < 2:
            raise ConfigError(f"a quantized device needs levels >= 2, got {self.levels!r}")

    @property
    def step(self) -> float:
        return (self.g_max - self.g_min) / (self.levels - 1)

    def prepare(self, conductances, seed) -> None:
        for g in conductances:
            self.program(0, g, np.zeros_like(g), None)

    def program(self, layer, conductance, change, rng) -> None:
        super().program(layer, conductance, change, rng)  # the requested value, clipped
        conductance -= self.g_min
        np.rint(conductance / self.step, out=conductance)
        conductance *= self.step
        conductance += self.g_min
        np.clip(conductance, self.g_min, self.g_max, out=conductance)  # rounding at the top level
