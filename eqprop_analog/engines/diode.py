"""The SPICE level-1 diode as ngspice evaluates it in a DC analysis, without and with its series
resistance.

Forward and mildly reversed (u >= -3 N Vt): I = IS (exp(u / (N Vt)) - 1).
Further reversed: I = -IS (1 + (3 N Vt / (e u))^3), the SPICE3 smooth approach to -IS.
ngspice adds GMIN (1e-12 S) across every junction. Vt = kT/q at 27 C with the CODATA 2014
constants that ngspice 39 uses.
"""

from __future__ import annotations

import math

import torch

from eqprop_analog.errors import SolverError

BOLTZMANN = 1.38064852e-23
CHARGE = 1.6021766208e-19
NOMINAL_TEMPERATURE = 300.15  # 27 C
THERMAL_VOLTAGE = BOLTZMANN * NOMINAL_TEMPERATURE / CHARGE
GMIN = 1e-12


class Diode:
    """Current, conductance and co-content (the integral of the current) of one diode model."""

    def __init__(self, saturation_current: float | torch.Tensor, emission_coefficient: float
                 ) -> None:
        self.csat = saturation_current  # one IS, or one per node
        self.vte = emission_coefficient * THERMAL_VOLTAGE
        self.knee = -3.0 * self.vte
        k = 3.0 * self.vte / math.e
        self._k3 = k ** 3
        # constant that makes the reverse co-content continue the forward one at the knee
        u0 = self.knee
        forward = self.csat * (self.vte * math.expm1(u0 / self.vte) - u0)
        reverse = -self.csat * (u0 - self._k3 / (2.0 * u0 * u0))
        self._reverse_offset = forward - reverse

    def current(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(I, dI/du) at junction voltages ``u``."""
        forward = u >= self.knee
        if bool(forward.all()):  # the usual case in these circuits: one branch, fewer operations
            e = torch.exp(u / self.vte)
            return self.csat * (e - 1.0) + GMIN * u, self.csat * e / self.vte + GMIN
        uf = torch.where(forward, u, torch.zeros_like(u))
        ur = torch.where(forward, torch.full_like(u, self.knee), u)
        e = torch.exp(uf / self.vte)
        arg = self._k3 / ur ** 3
        i = torch.where(forward, self.csat * (e - 1.0), -self.csat * (1.0 + arg))
        g = torch.where(forward, self.csat * e / self.vte, self.csat * 3.0 * arg / ur)
        return i + GMIN * u, g + GMIN

    def co_content(self, u: torch.Tensor) -> torch.Tensor:
        """P(u) with dP/du = I(u) and P(0) = 0."""
        forward = u >= self.knee
        uf = torch.where(forward, u, torch.zeros_like(u))
        ur = torch.where(forward, torch.full_like(u, self.knee), u)
        p_forward = self.csat * (self.vte * torch.expm1(uf / self.vte) - uf)
        p_reverse = -self.csat * (ur - self._k3 / (2.0 * ur * ur)) + self._reverse_offset
        return torch.where(forward, p_forward, p_reverse) + 0.5 * GMIN * u * u


class SeriesDiode:
    """A diode in series with its resistance RS, seen from its two terminals: the same interface
    as :class:`Diode`, in the branch voltage w. The internal node is eliminated exactly: the
    junction voltage u solves u + RS I_d(u) = w, the branch carries I_d(u) with small-signal
    conductance g_d / (1 + RS g_d), and its co-content is P_d(u) + RS I^2 / 2."""

    def __init__(self, diode: Diode, series_resistance: float) -> None:
        self.diode = diode
        self.resistance = series_resistance
        self.csat, self.vte = diode.csat, diode.vte

    def junction_voltage(self, w: torch.Tensor) -> torch.Tensor:
        """u with u + RS I_d(u) = w, by Newton from an upper bound of the root (where w > 0 the
        junction takes at most the voltage that would pass w / RS), so that on this convex,
        increasing function every step stays to the right of the root and none overshoots."""
        bound = self.vte * torch.log1p(torch.clamp(w, min=0.0) / (self.resistance * self.csat))
        u = torch.minimum(w, bound)
        resolution = 8.0 * torch.finfo(w.dtype).eps * max(1.0, float(w.abs().max()))
        for _ in range(100):
            i, g = self.diode.current(u)
            step = (w - u - self.resistance * i) / (1.0 + self.resistance * g)
            u = u + step
            if float(step.abs().max()) <= resolution:
                return u
        raise SolverError("the junction voltage of a diode with series resistance did not converge")

    def current(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(I, dI/dw) at branch voltages ``w``."""
        i, g = self.diode.current(self.junction_voltage(w))
        return i, g / (1.0 + self.resistance * g)

    def co_content(self, w: torch.Tensor) -> torch.Tensor:
        u = self.junction_voltage(w)
        i, _ = self.diode.current(u)
        return self.diode.co_content(u) + 0.5 * self.resistance * i * i
