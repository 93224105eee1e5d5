"""The native engine: a batched Newton solver of the same circuit equations that ngspice solves.

Kirchhoff's current law at every hidden and output node, with the netlist's elements: crossbar and
bias conductances, input and rail sources, level-1 diodes with GMIN (ngspice's DC equations, see
:mod:`.diode`), bidirectional amplifiers, and exact or current nudging at the outputs. Layers have no
lateral connections, so the Jacobian is block tridiagonal with diagonal blocks on the hidden layers;
each Newton step eliminates the layers in turn (block Thomas algorithm). A backtracking line search on
the circuit's co-content keeps Newton from overshooting on the diodes' exponentials; near the
solution it takes full steps and converges quadratically. Networks with ideal diodes are solved by
exact block coordinate descent instead (:mod:`.ideal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.base import Phases, Solution
from eqprop_analog.engines.diode import Diode
from eqprop_analog.engines.ideal import coordinate_descent
from eqprop_analog.engines.torch_costs import cost_terms
from eqprop_analog.errors import ConfigError, SolverError

DTYPES = {"float64": torch.float64, "float32": torch.float32}
CLAMPED = 1e30  # S: the small-signal conductance of an ideal diode that conducts


@dataclass(frozen=True)
class NativeOptions:
    """Newton settings: stop once the applied step moved no node by more than ``tolerance`` volts
    (Newton converges quadratically there, so the error left is far smaller than the last step)."""

    dtype: str = "float64"
    tolerance: float = 1e-9
    max_iterations: int = 100
    line_search_above: float = 0.05  # V: smaller Newton steps are taken whole

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ConfigError(f"native dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not (0 < self.tolerance < 1) or self.max_iterations < 1:
            raise ConfigError("native tolerance must be in (0, 1) V and max_iterations >= 1")


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
    """The clamped inputs of a batch and what they contribute to the first crossbar, computed once
    per batch: the current they push into each first-layer node (for zero node voltages) and their
    share of the co-content."""

    voltages: torch.Tensor  # (B, 2 n_inputs)
    current: torch.Tensor  # (B, C_1)
    energy: torch.Tensor  # (B,)


class NativeCircuit:
    """The KCL equations of one network with fixed conductances, batched over samples."""

    def __init__(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                 dtype: torch.dtype = torch.float64) -> None:
        spec = network.spec
        if spec.diode.series_resistance != 0.0 and not spec.ideal_diodes:
            raise ConfigError("the native engine models diodes without series resistance; set "
                              "diode RS to 0 or use the ngspice engine")
        self.network = network
        self.dtype = dtype
        self.gain = spec.amplifier_gain or 1.0
        self.g = [torch.as_tensor(c, dtype=dtype) for c in network.check_conductances(conductances)]
        self.n_layers = len(self.g)
        self.column_sums = [g.sum(0) for g in self.g]
        # coupling blocks between consecutive layers: U_l = a G_{l+1} without the rail rows
        self.couplings = [self.gain * g[:-2] for g in self.g[1:]]
        self.coupling_row_sums = [u.sum(1) for u in self.couplings]
        self.rails = torch.tensor([spec.bias_rail, -spec.bias_rail], dtype=dtype)
        self.diode = Diode(spec.diode.saturation_current, spec.diode.emission_coefficient)
        self.diagonal_base = []
        for l in range(self.n_layers):
            d = self.column_sums[l].clone()
            if l + 1 < self.n_layers:
                d += self.gain * self.couplings[l].sum(1)  # a^2 times the row sums above
            self.diagonal_base.append(d)
        n_out = spec.n_outputs
        if spec.differential_outputs:
            readout = torch.zeros(n_out, 2 * n_out, dtype=dtype)
            readout[torch.arange(n_out), 2 * torch.arange(n_out)] = 1.0
            readout[torch.arange(n_out), 2 * torch.arange(n_out) + 1] = -1.0
        else:
            readout = torch.eye(n_out, dtype=dtype)
        self.readout_matrix = readout  # readout = V_out @ R^T
        self.sizes = [len(network.column_nets(l)) for l in range(1, self.n_layers + 1)]
        # relu units: even ones held up by a diode from +bias, odd ones down by a diode to -bias
        self.relu_signs = []
        self.lower, self.upper = [], []  # the voltage range ideal diodes allow each hidden node
        inf = float("inf")
        for size in self.sizes[:-1]:
            sign = torch.ones(size, dtype=dtype)
            sign[1::2] = -1.0
            self.relu_signs.append(sign)
            if spec.neuron == "relu":
                self.lower.append(torch.where(sign > 0, spec.relu_bias, -inf).to(dtype))
                self.upper.append(torch.where(sign > 0, inf, -spec.relu_bias).to(dtype))
            else:
                self.lower.append(torch.full((size,), spec.clamp_low, dtype=dtype))
                self.upper.append(torch.full((size,), spec.clamp_high, dtype=dtype))

    # -- pieces ---------------------------------------------------------------------------------------
    def split(self, v: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(v, self.sizes, dim=-1))

    def rows(self, layer: int, inputs: torch.Tensor, cols: list[torch.Tensor]) -> torch.Tensor:
        """Row voltages of crossbar ``layer`` (0-based), rails included."""
        base = inputs if layer == 0 else self.gain * cols[layer - 1]
        return torch.cat([base, self.rails.expand(len(base), 2)], dim=1)

    def _diode_current(self, layer: int, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(current into the nodes, its derivative in the node voltage) of the neuron diodes of
        hidden layer ``layer``. An ideal diode that holds its node at a bound acts, for small
        changes, as an infinite conductance to that bound (used by the adjoint); its current is
        whatever KCL needs and is not part of the residual."""
        spec = self.network.spec
        if spec.ideal_diodes:
            held = (c <= self.lower[layer] + 1e-12) | (c >= self.upper[layer] - 1e-12)
            return torch.zeros_like(c), torch.where(held, -CLAMPED, 0.0).to(c.dtype)
        if spec.neuron == "relu":
            sign = self.relu_signs[layer]
            i, g = self.diode.current(spec.relu_bias - sign * c)  # junction voltage, either way
            return sign * i, -g
        i_low, g_low = self.diode.current(spec.clamp_low - c)
        i_high, g_high = self.diode.current(c - spec.clamp_high)
        return i_low - i_high, -g_low - g_high

    def _diode_energy(self, layer: int, c: torch.Tensor) -> torch.Tensor:
        spec = self.network.spec
        if spec.neuron == "relu":
            return self.diode.co_content(spec.relu_bias - self.relu_signs[layer] * c)
        return self.diode.co_content(spec.clamp_low - c) + self.diode.co_content(c - spec.clamp_high)

    def drive(self, input_voltages: torch.Tensor) -> Drive:
        r, g = self.rows(0, input_voltages, []), self.g[0]
        return Drive(input_voltages, r @ g, 0.5 * (r * r) @ g.sum(1))

    # -- equations ----------------------------------------------------------------------------------
    def linearize(self, v: torch.Tensor, drive: Drive, nudge: Nudge):
        """KCL residual (current into each node, (B, N)), the diagonal of each layer's Jacobian block
        and the dense output block of the nudging (or None)."""
        cols = self.split(v)
        residual, diagonals = [], []
        for l in range(self.n_layers):
            c = cols[l]
            below = drive.current if l == 0 else self.rows(l, drive.voltages, cols) @ self.g[l]
            f = below - c * self.column_sums[l]
            if l + 1 < self.n_layers:
                # current drawn by the amplifier: a times what its output sends up the crossbar
                f = f - self.gain * c * self.coupling_row_sums[l] + cols[l + 1] @ self.couplings[l].T
                i, g = self._diode_current(l, c)
                f = f + i
                diagonals.append(-self.diagonal_base[l] + g)
            else:
                diagonals.append(-self.diagonal_base[l].expand_as(c))
            residual.append(f)
        dense = None
        if nudge.currents is not None:
            residual[-1] = residual[-1] + nudge.currents
        elif nudge.beta is not None:
            r = cols[-1] @ self.readout_matrix.T
            _, grad, hessian = cost_terms(nudge.cost, r, nudge.targets)
            residual[-1] = residual[-1] - nudge.beta[:, None] * grad @ self.readout_matrix
            dense = (-nudge.beta[:, None, None]
                     * self.readout_matrix.T @ hessian @ self.readout_matrix)
        return torch.cat(residual, dim=1), diagonals, dense

    def energy(self, v: torch.Tensor, drive: Drive, nudge: Nudge) -> torch.Tensor:
        """Co-content of the circuit plus the nudging term, per sample: the residual is minus its
        gradient, so Newton steps that raise it are shortened."""
        cols = self.split(v)
        total = drive.energy.clone()
        for l in range(self.n_layers):
            # sum_ij G_ij (r_i - c_j)^2 / 2, expanded into products (no batch x rows x cols array)
            c, g = cols[l], self.g[l]
            if l == 0:
                below = drive.current
            else:
                r = self.rows(l, drive.voltages, cols)
                total = total + 0.5 * (r * r) @ g.sum(1)
                below = r @ g
            total = total + 0.5 * (c * c) @ self.column_sums[l] - (below * c).sum(1)
            if l + 1 < self.n_layers:
                total = total + self._diode_energy(l, cols[l]).sum(1)
        if nudge.currents is not None:
            total = total - (nudge.currents * cols[-1]).sum(1)
        elif nudge.beta is not None:
            value, _, _ = cost_terms(nudge.cost, cols[-1] @ self.readout_matrix.T, nudge.targets)
            total = total + nudge.beta * value
        return total

    def solve_linear(self, diagonals: list[torch.Tensor], dense: torch.Tensor | None,
                     rhs: torch.Tensor) -> torch.Tensor:
        """Solve J x = rhs for the block-tridiagonal Jacobian (block Thomas algorithm)."""
        b = self.split(rhs)
        factors, y = [], []
        for l in range(self.n_layers):
            block = diagonals[l]
            if l == self.n_layers - 1 and dense is not None:
                block = torch.diag_embed(block) + dense
            if l > 0:
                u = self.couplings[l - 1]  # (C_{l-1}, C_l)
                inv_u = _apply_inverse(factors[-1], u.expand(len(rhs), -1, -1))
                inv_y = _apply_inverse(factors[-1], y[-1][:, :, None])[:, :, 0]
                if block.dim() == 2:
                    block = torch.diag_embed(block)
                block = block - u.T @ inv_u
                y.append(b[l] - inv_y @ u)
            else:
                y.append(b[0])
            factors.append(_factor(block))
        x = [None] * self.n_layers
        x[-1] = _apply_inverse(factors[-1], y[-1][:, :, None])[:, :, 0]
        for l in range(self.n_layers - 2, -1, -1):
            x[l] = _apply_inverse(factors[l], (y[l] - x[l + 1] @ self.couplings[l].T)[:, :, None]
                                  )[:, :, 0]
        return torch.cat(x, dim=1)

    def newton(self, v: torch.Tensor, drive: Drive, nudge: Nudge,
               options: NativeOptions) -> tuple[torch.Tensor, int]:
        """Steady state from the starting voltages ``v``; returns it and the iterations used."""
        for iteration in range(1, options.max_iterations + 1):
            residual, diagonals, dense = self.linearize(v, drive, nudge)
            step = self.solve_linear(diagonals, dense, -residual)
            # A negative nudge can make the energy non-convex (|beta| times the cost's curvature
            # above the output conductance); where Newton's step then goes uphill, take a Jacobi
            # step instead, which always goes down.
            uphill = (residual * step).sum(1) < 0
            if uphill.any():
                jacobi = residual / torch.cat([d.abs() if d.dim() == 2 else d.abs().expand(len(v), -1)
                                               for d in diagonals], dim=1)
                step = torch.where(uphill[:, None], jacobi, step)
            size = step.abs().amax(dim=1)
            if size.max() > options.line_search_above or uphill.any():
                step = step * self._step_lengths(v, step, drive, nudge, residual)[:, None]
            v = v + step
            if not torch.isfinite(v).all():
                raise SolverError("the native Newton iteration diverged (non-finite voltages)")
            if size.max() <= options.tolerance:
                return v, iteration
        raise SolverError(f"the native Newton iteration did not converge in "
                          f"{options.max_iterations} iterations (last step {size.max():.3g} V)")

    def _step_lengths(self, v, step, drive, nudge, residual) -> torch.Tensor:
        """Per-sample step lengths 1, 1/2, 1/4 ... until the co-content decreases (Armijo)."""
        e0 = self.energy(v, drive, nudge)
        slope = -(residual * step).sum(1)  # directional derivative of the co-content
        rounding = 1e-12 * e0.abs()  # energy changes below this are noise, not an ascent
        t = torch.ones(len(v), dtype=self.dtype)
        for _ in range(40):
            e1 = self.energy(v + t[:, None] * step, drive, nudge)
            bad = ~(e1 <= e0 + 1e-4 * t * slope + rounding)
            if not bad.any():
                break
            t = torch.where(bad, 0.5 * t, t)
        return t


def _factor(block: torch.Tensor):
    if block.dim() == 2:  # a diagonal, stored as a vector per sample
        return ("diagonal", block)
    return ("lu", torch.linalg.lu_factor(block))


def _apply_inverse(factor, rhs: torch.Tensor) -> torch.Tensor:
    kind, data = factor
    if kind == "diagonal":
        return rhs / data[:, :, None]
    return torch.linalg.lu_solve(*data, rhs)


class NativeEngine:
    """Solves the free and nudged steady states with :class:`NativeCircuit` (torch, one thread by
    default); nudged phases start from the free solution."""

    name = "native"

    def __init__(self, options: NativeOptions = NativeOptions(), threads: int | None = None
                 ) -> None:
        from eqprop_analog import THREADS

        self.options = options
        self.dtype = DTYPES[options.dtype]
        torch.set_num_threads(threads or THREADS)
        # Newton iterations of the last solve: the free phase, then all nudged phases together
        self.iterations: list[int] = []

    def circuit(self, network: LayeredNetwork, conductances) -> NativeCircuit:
        return NativeCircuit(network, conductances, self.dtype)

    def solve(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
              features: np.ndarray, phases: Phases = Phases(), *,
              batch_index: int | None = None) -> Solution:
        x = network.check_features(features)
        phases.check_targets(len(x), network.spec.n_outputs)
        circuit = self.circuit(network, conductances)
        drive = circuit.drive(torch.as_tensor(network.input_voltages(x), dtype=self.dtype))
        start = torch.zeros(len(x), sum(circuit.sizes), dtype=self.dtype)
        solver = (partial(coordinate_descent, circuit) if network.spec.ideal_diodes
                  else circuit.newton)
        free, n = solver(start, drive, Nudge(), self.options)
        self.iterations = [n]
        nudged_betas = [b for b in phases.betas if b != 0.0]
        states = {0.0: free}
        if nudged_betas:
            # all nudged phases in one Newton solve: the batch repeated once per phase
            k, batch = len(nudged_betas), len(x)
            beta = torch.tensor(nudged_betas, dtype=self.dtype).repeat_interleave(batch)
            targets = torch.as_tensor(phases.targets, dtype=self.dtype).repeat(k, 1)
            stacked = Drive(drive.voltages.repeat(k, 1), drive.current.repeat(k, 1),
                            drive.energy.repeat(k))
            start = free.repeat(k, 1)
            if phases.mode == "current":
                readout = circuit.split(start)[-1] @ circuit.readout_matrix.T
                grad = cost_terms(phases.cost, readout, targets)[1] @ circuit.readout_matrix
                nudge = Nudge(currents=-beta[:, None] * grad)
            else:
                nudge = Nudge(beta, phases.cost, targets)
            nudged, n = solver(start, stacked, nudge, self.options)
            self.iterations.append(n)
            states.update(zip(nudged_betas, nudged.split(batch)))
        voltages = torch.stack([states[b] for b in phases.betas]).to(torch.float64).numpy()
        return Solution(phases.betas, voltages)

    def close(self) -> None:
        pass
