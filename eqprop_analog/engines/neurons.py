"""The hidden neurons of a layered network as the native engine sees them: the diodes between each
hidden node and its bias sources, their currents and co-content, and the node voltages at which
they switch on. Built once per network (none of it depends on the conductances)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.diode import Diode, SeriesDiode

CLAMPED = 1e30  # S: the small-signal conductance of an ideal diode that conducts


@dataclass(frozen=True)
class HiddenNeurons:
    """Per hidden layer: relu units (even ones held up by a diode from +bias, odd ones down by a
    diode to -bias) or clamp units (a diode to each of the two clamp sources). For differential
    pairs every relu unit is held up, and the voltages passed in are the pairs' differences."""

    network: LayeredNetwork
    diodes: list[tuple[Diode | SeriesDiode, ...]]  # relu: (one,), clamp: (low, high); IS per node
    vte: float  # N Vt, the same for every diode
    relu_signs: list[torch.Tensor]  # +1 / -1 per node
    relu_bias: list[torch.Tensor]
    lower: list[torch.Tensor]  # the voltage range ideal diodes allow each node
    upper: list[torch.Tensor]

    def current(self, layer: int, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(current into the nodes, minus its derivative in the node voltage) at node voltages
        ``c`` of hidden layer ``layer``. An ideal diode that holds its node at a bound acts, for
        small changes, as an infinite conductance to that bound (used by the adjoint); its current
        is whatever KCL needs and is not part of the residual."""
        spec = self.network.spec
        if spec.ideal_diodes:
            held = (c <= self.lower[layer] + 1e-12) | (c >= self.upper[layer] - 1e-12)
            return torch.zeros_like(c), torch.where(held, CLAMPED, 0.0).to(c.dtype)
        if spec.neuron == "relu":
            sign = self.relu_signs[layer]
            # junction voltage, either way round
            i, g = self.diodes[layer][0].current(
                torch.addcmul(self.relu_bias[layer], sign, c, value=-1.0))
            return sign * i, g
        low, high = self.diodes[layer]
        i_low, g_low = low.current(spec.clamp_low - c)
        i_high, g_high = high.current(c - spec.clamp_high)
        return i_low - i_high, g_low + g_high

    def co_content(self, layer: int, c: torch.Tensor) -> torch.Tensor:
        spec = self.network.spec
        if spec.neuron == "relu":
            return self.diodes[layer][0].co_content(
                torch.addcmul(self.relu_bias[layer], self.relu_signs[layer], c, value=-1.0))
        low, high = self.diodes[layer]
        return low.co_content(spec.clamp_low - c) + high.co_content(c - spec.clamp_high)

    def switching(self, layer: int, conductance: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Node voltages beyond which the diodes of hidden layer ``layer`` conduct strongly: where
        a diode's small-signal conductance reaches e^2 times the node's own ``conductance``."""
        spec = self.network.spec
        if spec.ideal_diodes:
            return self.lower[layer], self.upper[layer]
        on = [self.vte * (torch.log(conductance * (self.vte / d.csat)) + 2.0)
              for d in self.diodes[layer]]
        if spec.neuron == "relu":
            sign = self.relu_signs[layer]
            knee = self.relu_bias[layer] - on[0]
            return torch.where(sign > 0, knee, -math.inf), torch.where(sign > 0, math.inf, -knee)
        return spec.clamp_low - on[0], spec.clamp_high + on[1]


@lru_cache(maxsize=16)  # built once per network, not once per mini-batch
def hidden_neurons(network: LayeredNetwork, dtype: torch.dtype) -> HiddenNeurons:
    spec = network.spec
    signs, biases, lower, upper = [], [], [], []
    for size in spec.hidden:
        sign = torch.ones(size, dtype=dtype)
        if not spec.pairs:  # single-ended relu units alternate; a pair's difference has a sign
            sign[1::2] = -1.0
        signs.append(sign)
        biases.append(torch.full_like(sign, spec.relu_bias))
        if spec.neuron == "relu":
            lower.append(torch.where(sign > 0, spec.relu_bias, -math.inf).to(dtype))
            upper.append(torch.where(sign > 0, math.inf, -spec.relu_bias).to(dtype))
        else:
            lower.append(torch.full_like(sign, spec.clamp_low))
            upper.append(torch.full_like(sign, spec.clamp_high))
    diodes: list[tuple[Diode | SeriesDiode, ...]] = []
    for currents in network.saturation_currents:  # one Diode per kind, IS per node
        plain = [Diode(torch.as_tensor(row, dtype=dtype), spec.diode.emission_coefficient)
                 for row in currents]
        rs = spec.diode.series_resistance
        diodes.append(tuple(SeriesDiode(d, rs) for d in plain) if rs > 0 else tuple(plain))
    vte = Diode(spec.diode.saturation_current, spec.diode.emission_coefficient).vte
    return HiddenNeurons(network, diodes, vte, signs, biases, lower, upper)
