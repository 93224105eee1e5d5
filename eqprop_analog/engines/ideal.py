"""Steady states with ideal diodes: exact block coordinate descent (the deep-resistive-network limit).

With ideal diodes the co-content is a convex quadratic and each diode is a box constraint on its
node. Layers have no lateral connections, so given its two neighbours every node of a layer has a
closed-form minimiser: the conductance-weighted mean of its neighbours, clipped to its box. Updating
the even and the odd layers in turn is exact block coordinate descent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from eqprop_analog.engines.torch_costs import cost_terms
from eqprop_analog.errors import SolverError

if TYPE_CHECKING:
    from eqprop_analog.engines.native import Drive, NativeCircuit, NativeOptions, Nudge


def coordinate_descent(circuit: "NativeCircuit", v: torch.Tensor, drive: "Drive", nudge: "Nudge",
                       options: "NativeOptions") -> tuple[torch.Tensor, int]:
    """Minimum of the co-content under the diodes' box constraints, from the voltages ``v``;
    returns it and the number of sweeps (one sweep updates the even, then the odd layers)."""
    cols = circuit.split(v)
    for sweep in range(1, options.max_iterations * 100 + 1):
        change = torch.zeros((), dtype=circuit.dtype)
        for parity in (0, 1):
            for l in range(parity, circuit.n_layers, 2):
                new = _layer_minimiser(circuit, l, cols, drive, nudge)
                change = torch.maximum(change, (new - cols[l]).abs().max())
                cols[l] = new
        if change <= options.tolerance:
            return torch.cat(cols, dim=1), sweep
    raise SolverError(f"coordinate descent did not converge (last change {change:.3g} V)")


def _layer_minimiser(circuit: "NativeCircuit", l: int, cols, drive: "Drive", nudge: "Nudge"
                     ) -> torch.Tensor:
    """Exact minimiser of the co-content over the nodes of layer ``l``, the others fixed."""
    below = drive.current if l == 0 else circuit.rows(l, drive.voltages, cols) @ circuit.g[l]
    if l + 1 < circuit.n_layers:
        pull = below + cols[l + 1] @ circuit.couplings[l].T
        return torch.clamp(pull / circuit.diagonal_base[l], circuit.lower[l], circuit.upper[l])
    if nudge.currents is not None:
        return (below + nudge.currents) / circuit.diagonal_base[l]
    c = below / circuit.diagonal_base[l]
    if nudge.beta is None:
        return c
    # outputs under exact nudging: Newton on this layer alone (one step for squared error)
    for _ in range(50):
        r = c @ circuit.readout_matrix.T
        _, grad, hessian = cost_terms(nudge.cost, r, nudge.targets)
        f = (below - c * circuit.diagonal_base[l]
             - nudge.beta[:, None] * grad @ circuit.readout_matrix)
        jac = (-torch.diag_embed(circuit.diagonal_base[l].expand_as(c)) - nudge.beta[:, None, None]
               * circuit.readout_matrix.T @ hessian @ circuit.readout_matrix)
        step = torch.linalg.solve(jac, -f)
        c = c + step
        if step.abs().max() <= 1e-14:
            break
    return c
