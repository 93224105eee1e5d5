"""Imperfections that come on top of any device model: read noise (relative to G, and an absolute
floor) and devices stuck at a bound."""

from __future__ import annotations

import numpy as np

from eqprop_analog.devices.base import Device
from eqprop_analog.errors import ConfigError


class FaultyDevice(Device):
    """``device`` with read noise (every solve sees G (1 + read_noise N(0, 1)) + read_noise_floor
    N'(0, 1), drawn afresh; the floor in siemens, e.g. the sense amplifier's) and a fraction
    ``stuck`` of devices stuck at g_min or g_max (half each, chosen per network from the seed):
    programming leaves them where they are."""

    def __init__(self, device: Device, read_noise: float = 0.0, stuck: float = 0.0,
                 read_noise_floor: float = 0.0) -> None:
        if not read_noise >= 0:
            raise ConfigError(f"read_noise must be >= 0 (relative), got {read_noise!r}")
        if not read_noise_floor >= 0:
            raise ConfigError(f"read_noise_floor must be >= 0 S, got {read_noise_floor!r}")
        if not 0 <= stuck < 1:
            raise ConfigError(f"stuck (fraction of stuck devices) must be in [0, 1), got {stuck!r}")
        self.device, self.read_noise, self.stuck = device, read_noise, stuck
        self.read_noise_floor = read_noise_floor
        self.g_min, self.g_max = device.g_min, device.g_max
        self.stuck_at: list[tuple[np.ndarray, np.ndarray]] = []  # (mask, value) per crossbar

    def prepare(self, conductances, seed) -> None:
        self.device.prepare(conductances, seed)
        rng = np.random.default_rng([seed, 0x57C])
        self.stuck_at = []
        for g in conductances:
            mask = rng.random(g.shape) < self.stuck
            value = np.where(rng.random(g.shape) < 0.5, self.g_min, self.g_max)
            g[mask] = value[mask]
            self.stuck_at.append((mask, value))

    def program(self, layer, conductance, change, rng) -> float | None:
        # a pulse sent to a stuck device takes its energy all the same
        energy = self.device.program(layer, conductance, change, rng)
        if self.stuck > 0:
            mask, value = self.stuck_at[layer]
            np.copyto(conductance, value, where=mask)
        return energy

    def read(self, conductances, rng):
        seen = self.device.read(conductances, rng)
        if self.read_noise == 0 and self.read_noise_floor == 0:
            return seen
        noisy = []
        for g in seen:
            g = g.copy()
            if self.read_noise:
                g *= 1.0 + self.read_noise * rng.standard_normal(g.shape)
            if self.read_noise_floor:
                g += self.read_noise_floor * rng.standard_normal(g.shape)
            # a noisy read never reports a non-positive conductance
            noisy.append(np.maximum(g, 1e-3 * self.g_min))
        return tuple(noisy)

    def state(self):
        return self.device.state()

    def load_state(self, state) -> None:
        self.device.load_state(state)
