"""The circuit's equations for the native engine: KCL residual, nodal matrix and co-content.

Kirchhoff's current law at every hidden and output node, with the netlist's elements: crossbar and
bias conductances, input and rail sources, level-1 diodes with GMIN and series resistance (ngspice's
DC equations, see :mod:`.diode`), bidirectional amplifiers, and exact or current nudging at the
outputs. The residual is minus the gradient of the co-content (plus the nudging term), and the
nodal matrix (:mod:`.nodal`) minus its Jacobian: the minimisers of :mod:`.minimisers` and
:mod:`.ideal` take them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.native_support import native_refusal
from eqprop_analog.engines.neurons import hidden_neurons
from eqprop_analog.engines.nodal import Linearization, NodalMatrix, interleave, pair_rows
from eqprop_analog.engines.torch_costs import cost_derivatives, cost_value
from eqprop_analog.errors import ConfigError


@dataclass
class Nudge:
    """What acts on the output nodes: nothing, a cost times beta (exact nudging; ``beta`` one value
    per sample, so that several phases can share one Newton solve) or fixed currents (current
    nudging, one per output node)."""

    beta: torch.Tensor | None = None
    cost: object = None
    targets: torch.Tensor | None = None
    currents: torch.Tensor | None = None


@dataclass(frozen=True)
class Drive:
    """What the clamped inputs of a batch contribute to the first crossbar, computed once
    per batch: the current they and the rails push into each first-layer node (for zero node
    voltages) and the inputs' share of the co-content."""

    current: torch.Tensor  # (B, C_1)
    energy: torch.Tensor  # (B,)


class NativeCircuit:
    """The KCL equations of one network with fixed conductances, batched over samples. States are
    lists of per-layer node voltages, (B, C_l) each. The conductances come checked
    (``LayeredNetwork.check_conductances``): the engine checks them once per solve."""

    def __init__(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                 dtype: torch.dtype = torch.float64) -> None:
        spec = network.spec
        refusal = native_refusal(spec)
        if refusal:
            raise ConfigError(refusal)
        self.network = network
        self.dtype = dtype
        self.pairs = spec.pairs
        self.gain = spec.amplifier_gain or 1.0
        self.g = [torch.as_tensor(c, dtype=dtype) for c in conductances]
        self.n_layers = len(self.g)
        self.sizes = [g.shape[1] for g in self.g]
        self.rails = rails = torch.tensor([spec.bias_rail, -spec.bias_rail], dtype=dtype)
        # crossbar l's rows are the previous layer's amplifier outputs (a times each unit's value)
        # and the two rails: it pushes c_{l-1} @ U_{l-1} + rail_current_l into its columns, with
        # U = a G without rails (rows repeated with signs + and - for the two nodes of a pair)
        self.couplings = [self.gain * (pair_rows(g[:-2]) if self.pairs else g[:-2])
                          for g in self.g[1:]]
        self.couplings_t = [u.T.contiguous() for u in self.couplings]
        self.rail_current = [rails @ g[-2:] for g in self.g]
        # total conductance at each node: its column, plus (single-ended units) a^2 times the row
        # it drives above; for a pair that term acts on the difference (``feedback``)
        self.conductance = [g.sum(0) for g in self.g]
        self.feedback = [self.gain ** 2 * g[:-2].sum(1) for g in self.g[1:]]
        if not self.pairs:
            for l, f in enumerate(self.feedback):
                self.conductance[l] = self.conductance[l] + f
        self.half_conductance = [0.5 * c for c in self.conductance]
        # a tensor, differentiable in the conductances (the theory's models differentiate E)
        self.rail_energy = sum(0.5 * ((rails * rails) @ g[-2:].sum(1)) for g in self.g)
        self.output_diagonal = torch.diag(self.conductance[-1])
        first = ((self.gain * self.g[1][:-2] if self.pairs else self.couplings[0])
                 if self.n_layers > 1 else None)
        self.nodal = NodalMatrix(self.couplings, self.couplings_t, first, self.output_diagonal,
                                 self.pairs)
        self.neurons = hidden_neurons(network, dtype)
        self.lower, self.upper = self.neurons.lower, self.neurons.upper
        self.readout_matrix = _readout_matrix(network, dtype)

    # -- pieces ---------------------------------------------------------------------------------------
    def split(self, v: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer views of voltages concatenated over the layers."""
        return list(torch.split(v, self.sizes, dim=-1))

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs if self.readout_matrix is None else outputs @ self.readout_matrix.T

    def unit_signals(self, c: torch.Tensor) -> torch.Tensor:
        """Each unit's value: its node's voltage, or the difference of its pair's."""
        return c[:, 0::2] - c[:, 1::2] if self.pairs else c

    def rows(self, layer: int, inputs: torch.Tensor, cols: list[torch.Tensor]) -> torch.Tensor:
        """Row voltages of crossbar ``layer`` (0-based), rails included."""
        base = inputs if layer == 0 else self.gain * self.unit_signals(cols[layer - 1])
        return torch.cat([base, self.rails.expand(len(base), 2)], dim=1)

    def output_gradient(self, cost, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """dC/dV of the output nodes."""
        grad = cost_derivatives(cost, self.readout(outputs), targets)[0]
        return grad if self.readout_matrix is None else grad @ self.readout_matrix

    def drive(self, input_voltages: torch.Tensor) -> Drive:
        g = self.g[0][:-2]
        return Drive(torch.addmm(self.rail_current[0], input_voltages, g),
                     0.5 * (input_voltages * input_voltages) @ g.sum(1))

    def pushed_current(self, layer: int, cols: list[torch.Tensor], drive: Drive) -> torch.Tensor:
        """Current that crossbar ``layer``'s rows push into its columns at zero column voltage."""
        if layer == 0:
            return drive.current
        return torch.addmm(self.rail_current[layer], cols[layer - 1], self.couplings[layer - 1])

    def starting_point(self, drive: Drive) -> list[torch.Tensor]:
        """A first guess of the free state: one feed-forward pass of the circuit in which each
        diode is ideal and switches where the real one conducts strongly (its small-signal
        conductance e^2 times the node's own). From there Newton needs about a third fewer
        iterations than from 0 V; ideal diodes switch where they do."""
        cols = [torch.zeros(len(drive.current), size, dtype=self.dtype) for size in self.sizes]
        for l in range(self.n_layers):
            free = self.pushed_current(l, cols, drive) / self.conductance[l]
            if l == self.n_layers - 1:
                cols[l] = free
            elif self.pairs:  # clamp each unit's difference, moving its two nodes apart equally
                c = self.conductance[l]
                seen = c[0::2] * c[1::2] / (c[0::2] + c[1::2]) + self.feedback[l]  # by u
                u = self.unit_signals(free)
                shift = torch.clamp(u, *self.neurons.switching(l, seen)) - u
                cols[l] = free + 0.5 * interleave(shift, -shift)
            else:
                cols[l] = torch.clamp(free, *self.neurons.switching(l, self.conductance[l]))
        return cols

    # -- equations ----------------------------------------------------------------------------------
    def linearize(self, cols: list[torch.Tensor], drive: Drive, nudge: Nudge) -> Linearization:
        """KCL residual and nodal matrix at the state ``cols``."""
        residual, diagonals, pair_couplings = [], [], []
        last = self.n_layers - 1
        for l, c in enumerate(cols):
            f = torch.addcmul(self.pushed_current(l, cols, drive), c, self.conductance[l],
                              value=-1.0)
            if l < last:
                f = f.addmm_(cols[l + 1], self.couplings_t[l])  # fed back by the amplifier above
                if self.pairs:
                    # what the neuron pushes into the + node, less the amplifier's a^2 R u,
                    # comes out of the - node
                    u = self.unit_signals(c)
                    i, g = self.neurons.current(l, u)
                    i = i - self.feedback[l] * u
                    h = g + self.feedback[l]
                    f += interleave(i, -i)
                    diagonals.append(interleave(h, h) + self.conductance[l])
                    pair_couplings.append(h)
                else:
                    i, g = self.neurons.current(l, c)
                    f += i
                    diagonals.append(g + self.conductance[l])
            else:
                diagonals.append(self.conductance[l].expand_as(c))
            residual.append(f)
        current, output_block = self.nudging(cols[-1], nudge)
        if current is not None:
            residual[-1] = residual[-1] + current
        return Linearization(residual, diagonals, output_block,
                             pair_couplings if self.pairs else None)

    def nudging(self, outputs: torch.Tensor, nudge: Nudge
                ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Current that the nudge injects into the output nodes, and minus its derivative in the
        output voltages ((B, K, K); None for fixed currents). Both None without a nudge."""
        if nudge.currents is not None:
            return nudge.currents, None
        if nudge.beta is None:
            return None, None
        assert nudge.targets is not None, "exact nudging comes with targets"
        grad, hessian = cost_derivatives(nudge.cost, self.readout(outputs), nudge.targets)
        if self.readout_matrix is not None:
            grad = grad @ self.readout_matrix
            hessian = self.readout_matrix.T @ hessian @ self.readout_matrix
        return -nudge.beta[:, None] * grad, nudge.beta[:, None, None] * hessian

    def energy(self, cols: list[torch.Tensor], drive: Drive, nudge: Nudge) -> torch.Tensor:
        """Co-content of the circuit plus the nudging term, per sample: the residual is minus its
        gradient, so Newton steps that raise it are shortened."""
        total = drive.energy + self.rail_energy
        last = self.n_layers - 1
        for l, c in enumerate(cols):
            # sum_ij G_ij (r_i - c_j)^2 / 2 over the crossbar below, the squares of its rows
            # (c_{l-1}) counted with their own layer's conductance
            pushed = torch.addcmul(self.pushed_current(l, cols, drive), self.half_conductance[l], c,
                                   value=-1.0)
            total = total - (pushed * c).sum(1)
            if l < last and self.pairs:
                u = self.unit_signals(c)
                total = total + (self.neurons.co_content(l, u)
                                 + 0.5 * self.feedback[l] * u * u).sum(1)
            elif l < last:
                total = total + self.neurons.co_content(l, c).sum(1)
        if nudge.currents is not None:
            total = total - (nudge.currents * cols[-1]).sum(1)
        elif nudge.beta is not None:
            assert nudge.targets is not None, "exact nudging comes with targets"
            total = total + nudge.beta * cost_value(nudge.cost, self.readout(cols[-1]),
                                                    nudge.targets)
        return total


@lru_cache(maxsize=16)
def _readout_matrix(network: LayeredNetwork, dtype: torch.dtype) -> torch.Tensor | None:
    """R with readout = V_out @ R^T for differential outputs; None where the outputs are read
    directly."""
    if not network.spec.paired_outputs:
        return None
    n_out = network.spec.n_outputs
    readout = torch.zeros(n_out, 2 * n_out, dtype=dtype)
    readout[torch.arange(n_out), 2 * torch.arange(n_out)] = 1.0
    readout[torch.arange(n_out), 2 * torch.arange(n_out) + 1] = -1.0
    return readout
