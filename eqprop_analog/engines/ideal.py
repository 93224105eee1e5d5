"""Steady states with ideal diodes: exact block coordinate descent (the deep-resistive-network limit).

With ideal diodes the co-content is a convex quadratic and each diode is a box constraint on its
node. Layers have no lateral connections, so given its two neighbours every node of a layer has a
closed-form minimiser: the conductance-weighted mean of its neighbours, clipped to its box. Updating
the even and the odd layers in turn is exact block coordinate descent.
"""

from __future__ import annotations

import torch

from eqprop_analog.engines.equations import Drive, NativeCircuit, Nudge
from eqprop_analog.engines.minimisers import Minimum, NativeOptions
from eqprop_analog.errors import SolverError


def coordinate_descent(circuit: NativeCircuit, cols: list[torch.Tensor], drive: Drive,
                       nudge: Nudge, options: NativeOptions) -> Minimum:
    """Minimum of the co-content under the diodes' box constraints, from the voltages ``cols``
    (its iterations are sweeps: one updates the even, then the odd layers)."""
    cols = list(cols)
    for sweep in range(1, options.max_iterations * 100 + 1):
        change = 0.0
        for parity in (0, 1):
            for l in range(parity, circuit.n_layers, 2):
                new = _layer_minimiser(circuit, l, cols, drive, nudge, options.tolerance)
                change = max(change, float((new - cols[l]).abs().max()))
                cols[l] = new
        if change <= options.tolerance:
            return Minimum(cols, sweep, change)
    raise SolverError(f"coordinate descent did not converge (last change {change:.3g} V)")


def _layer_minimiser(circuit: NativeCircuit, l: int, cols, drive: Drive, nudge: Nudge,
                     tolerance: float) -> torch.Tensor:
    """Exact minimiser of the co-content over the nodes of layer ``l``, the others fixed."""
    pushed = circuit.pushed_current(l, cols, drive)
    conductance = circuit.conductance[l]
    if l + 1 < circuit.n_layers:
        pull = torch.addmm(pushed, cols[l + 1], circuit.couplings_t[l])
        return torch.clamp(pull / conductance, circuit.lower[l], circuit.upper[l])
    if nudge.currents is not None:
        return (pushed + nudge.currents) / conductance
    if nudge.beta is None:
        return pushed / conductance
    # outputs under exact nudging: Newton on this layer alone from where they are (one step for
    # squared error), converged well below the sweeps' tolerance
    c = cols[l]
    for _ in range(50):
        current, block = circuit.nudging(c, nudge)
        assert current is not None and block is not None  # exact nudging has both
        step = torch.linalg.solve(circuit.output_diagonal + block,
                                  torch.addcmul(pushed + current, c, conductance, value=-1.0))
        c = c + step
        if step.abs().max() <= 1e-3 * tolerance:
            break
    return c
