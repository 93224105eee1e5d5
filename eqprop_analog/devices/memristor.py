"""The memristor model of Ernoult's thesis (part II, after Querlioz et al.): conductance changes by
voltage pulses, with a nonlinearity that slows each change near the bound it moves towards.

    potentiation  dG/dt = +C_p exp(-beta_p (G - G_min) / (G_max - G_min))
    depression    dG/dt = -C_d exp(-beta_d (G_max - G) / (G_max - G_min))

Integrated over a pulse of width dt (R = G_max - G_min, r = dt / dt_max):

    potentiation  G' = G_min + (R / beta) ln(exp(beta (G - G_min) / R) + (e^beta - 1) k r)
    depression    G' = G_max - (R / beta) ln(exp(beta (G_max - G) / R) + (e^beta - 1) k r)

with C = k R (e^beta - 1) / (beta dt_max): the nominal device (k = 1) goes from G_min to G_max in
one pulse of dt_max; beta -> 0 is the linear device, dG = k R r. Device-to-device variability draws
k per device from a log-normal of mean 1 and relative spread eps_inter (independently for
potentiation and depression); cycle-to-cycle variability adds Gaussian noise of standard deviation
eps_intra R to every programmed device at every programming step. Conductances stay in
[G_min, G_max].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.devices.base import Device
from eqprop_analog.errors import ConfigError


@dataclass(frozen=True)
class PulseResponse:
    """The closed-form response of a memristor to one pulse (no variability)."""

    g_min: float
    g_max: float
    beta_p: float = 0.0  # nonlinearity of potentiation (0: linear)
    beta_d: float = 0.0  # nonlinearity of depression

    def __post_init__(self) -> None:
        if not 0 < self.g_min < self.g_max:
            raise ConfigError(f"memristor range needs 0 < g_min < g_max, got "
                              f"[{self.g_min}, {self.g_max}]")
        if not (self.beta_p >= 0 and self.beta_d >= 0):
            raise ConfigError(f"memristor nonlinearities must be >= 0, got beta_p={self.beta_p}, "
                              f"beta_d={self.beta_d}")

    @property
    def span(self) -> float:
        return self.g_max - self.g_min

    def potentiate(self, g: np.ndarray, r: np.ndarray, k: np.ndarray | float = 1.0) -> np.ndarray:
        """Conductance after a potentiating pulse of relative width ``r`` = dt / dt_max >= 0."""
        return self.g_min + _rise(g - self.g_min, r * k, self.beta_p, self.span)

    def depress(self, g: np.ndarray, r: np.ndarray, k: np.ndarray | float = 1.0) -> np.ndarray:
        """Conductance after a depressing pulse of relative width ``r`` >= 0."""
        return self.g_max - _rise(self.g_max - g, r * k, self.beta_d, self.span)

    def apply(self, g: np.ndarray, pulse: np.ndarray, k_p: np.ndarray | float = 1.0,
              k_d: np.ndarray | float = 1.0) -> np.ndarray:
        """Signed pulses: potentiation where ``pulse`` > 0, depression where < 0."""
        up = self.potentiate(g, np.maximum(pulse, 0.0), k_p)
        return np.where(pulse < 0, self.depress(g, np.maximum(-pulse, 0.0), k_d), up)

    def widths(self, g: np.ndarray, g_new: np.ndarray, k_p: np.ndarray | float = 1.0,
               k_d: np.ndarray | float = 1.0) -> np.ndarray:
        """The relative widths (>= 0) of the pulses that take ``g`` to ``g_new``: the inverse
        of :meth:`apply`, potentiating where ``g_new`` > ``g``, depressing where it is below."""
        up = _width(g - self.g_min, g_new - self.g_min, self.beta_p, self.span) / k_p
        down = _width(self.g_max - g, self.g_max - g_new, self.beta_d, self.span) / k_d
        return np.where(g_new > g, up, np.where(g_new < g, down, 0.0))


def _rise(x: np.ndarray, r: np.ndarray, beta: float, span: float) -> np.ndarray:
    """x' = (R / beta) ln(exp(beta x / R) + (e^beta - 1) r), written so that it stays exact as
    beta -> 0 (where it becomes x + R r)."""
    if beta == 0.0:
        return x + span * r
    return x + (span / beta) * np.log1p(np.expm1(beta) * r * np.exp(-beta * x / span))


def _width(x: np.ndarray, x_new: np.ndarray, beta: float, span: float) -> np.ndarray:
    """The r that :func:`_rise` needs to take x to x_new >= x (a negative value where x_new < x):
    r = exp(beta x / R) (exp(beta (x_new - x) / R) - 1) / (e^beta - 1), x_new - x over R as
    beta -> 0."""
    if beta == 0.0:
        return (x_new - x) / span
    return np.exp(beta * x / span) * np.expm1(beta * (x_new - x) / span) / np.expm1(beta)


@dataclass(frozen=True)
class Variability:
    """Device-to-device spread of the pulse amplitude C (relative, log-normal) and cycle-to-cycle
    noise of every programming step (relative to G_max - G_min)."""

    inter: float = 0.0
    intra: float = 0.0

    def __post_init__(self) -> None:
        if not (self.inter >= 0 and self.intra >= 0):
            raise ConfigError(f"variabilities must be >= 0, got eps_inter={self.inter}, "
                              f"eps_intra={self.intra}")

    def draw_amplitudes(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """k per device: log-normal with mean 1 and standard deviation ``inter``."""
        if self.inter == 0.0:
            return np.ones(shape)
        sigma = np.sqrt(np.log1p(self.inter ** 2))
        return rng.lognormal(-0.5 * sigma ** 2, sigma, size=shape)


SCHEMES = ("cst", "rprop", "write-verify")


class MemristorDevice(Device):
    """Memristors (one per resistor) programmed by pulses under one of the thesis's schemes:

    - ``cst``: a pulse of fixed relative width ``pulse`` = dt / dt_max in the direction of the
      requested change (only its sign is used);
    - ``rprop``: the width adapts per device, times ``eta`` while the sign holds (up to ``pulse``),
      divided by ``eta`` when it flips; on a flip the previous pulse is first undone by an opposite
      pulse of the same width (weight backtracking) and no new step is taken;
    - ``write-verify``: program-and-read until the conductance equals the requested value, i.e.
      the requested change exactly, clipped to the range (the reference the others are compared to).

    Programming takes ``pulse_energy`` (J) per pulse of width dt_max and in proportion for any
    other width, since the model treats n pulses of width dt / n as one of width dt. A
    write-verify update is counted as the width that makes its change, a lower bound: its reads
    and any overshoot are not.
    """

    def __init__(self, response: PulseResponse, variability: Variability = Variability(),
                 scheme: str = "cst", pulse: float = 1e-3, eta: float = 1.01,
                 pulse_energy: float = 1e-9) -> None:
        if scheme not in SCHEMES:
            raise ConfigError(f"programming scheme must be one of {', '.join(SCHEMES)}, got "
                              f"{scheme!r}")
        if not 0 < pulse <= 1:
            raise ConfigError(f"pulse (dt / dt_max) must be in (0, 1], got {pulse!r}")
        if not eta >= 1:
            raise ConfigError(f"rprop eta must be >= 1, got {eta!r}")
        if not (np.isfinite(pulse_energy) and pulse_energy >= 0):
            raise ConfigError(f"pulse_energy must be a finite energy >= 0 J, got {pulse_energy!r}")
        self.pulse_energy = pulse_energy
        self.response, self.variability = response, variability
        self.g_min, self.g_max = response.g_min, response.g_max
        self.scheme, self.pulse, self.eta = scheme, pulse, eta
        self.amplitudes: list[tuple[np.ndarray, np.ndarray]] = []  # (k_p, k_d) per crossbar
        self.rprop: dict[str, list[np.ndarray]] = {}

    def prepare(self, conductances, seed) -> None:
        rng = np.random.default_rng([seed, 0xD2D])
        self.amplitudes = [(self.variability.draw_amplitudes(rng, g.shape),
                            self.variability.draw_amplitudes(rng, g.shape)) for g in conductances]
        if self.scheme == "rprop":
            self.rprop = {"width": [np.full(g.shape, self.pulse) for g in conductances],
                          "sign": [np.zeros(g.shape) for g in conductances],
                          "last": [np.zeros(g.shape) for g in conductances]}

    def pulses(self, layer: int, change: np.ndarray) -> np.ndarray:
        """Signed relative pulse widths that the scheme applies for a requested change."""
        sign = np.sign(change)
        if self.scheme == "cst":
            return self.pulse * sign
        width, previous, last = (self.rprop[k][layer] for k in ("width", "sign", "last"))
        agreement = sign * previous
        np.copyto(width, np.minimum(self.eta * width, self.pulse), where=agreement > 0)
        flipped = agreement < 0
        pulse = np.where(flipped, -last, sign * width)
        np.copyto(width, width / self.eta, where=flipped)
        np.copyto(previous, np.where(flipped, 0.0, sign))
        np.copyto(last, pulse)
        return pulse

    def program(self, layer, conductance, change, rng) -> float:
        k_p, k_d = self.amplitudes[layer]
        if self.scheme == "write-verify":
            before = conductance.copy()
            conductance += change
            np.clip(conductance, self.g_min, self.g_max, out=conductance)
            return self.pulse_energy * float(
                self.response.widths(before, conductance, k_p, k_d).sum())
        pulse = self.pulses(layer, change)
        conductance[...] = self.response.apply(conductance, pulse, k_p, k_d)
        if self.variability.intra > 0:
            noise = rng.normal(0.0, self.variability.intra * self.response.span,
                               size=conductance.shape)
            conductance += np.where(pulse != 0, noise, 0.0)
        np.clip(conductance, self.g_min, self.g_max, out=conductance)
        return self.pulse_energy * float(np.abs(pulse).sum())

    def state(self) -> dict[str, np.ndarray]:
        return {f"rprop_{key}_{l}": a for key, arrays in self.rprop.items()
                for l, a in enumerate(arrays)}

    def load_state(self, state) -> None:
        for key, arrays in self.rprop.items():
            for l in range(len(arrays)):
                arrays[l][...] = state[f"rprop_{key}_{l}"]
