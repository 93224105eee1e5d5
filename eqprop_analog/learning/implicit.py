"""The exact gradient of the loss at a steady state, by implicit differentiation (adjoint method).

At the free state the KCL residual F(V, G) vanishes, so dV/dG = -J^-1 dF/dG with J = dF/dV, the
circuit's Jacobian (nodal conductances plus the diodes' small-signal conductances). Solving
J^T mu = dL/dV once gives every dL/dG = -mu^T dF/dG. For a resistor G between row net i and column
node j that is dL/dG_ij = -(V_i - V_j)(mu_j - a mu_h), with mu_h the adjoint of the hidden node h that
drives row i through an amplifier of gain a (zero for clamped inputs and rails).

It needs only the free node voltages, so it applies to the native engine's states and to ngspice's.
"""

from __future__ import annotations

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.native import NativeCircuit, Nudge
from eqprop_analog.engines.nudging import Cost
from eqprop_analog.engines.torch_costs import cost_terms


def implicit_gradient(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                      features: np.ndarray, free_voltages: np.ndarray, cost: Cost,
                      targets: np.ndarray) -> tuple[np.ndarray, ...]:
    """dL/dG for every crossbar, L the batch mean of the cost at the given free states."""
    x = network.check_features(features)
    circuit = NativeCircuit(network, conductances)
    v = torch.as_tensor(np.asarray(free_voltages), dtype=torch.float64)
    inputs = torch.as_tensor(network.input_voltages(x), dtype=torch.float64)
    _, diagonals, _ = circuit.linearize(v, circuit.drive(inputs), Nudge())
    cols = circuit.split(v)
    readout = cols[-1] @ circuit.readout_matrix.T
    grad_out = cost_terms(cost, readout, torch.as_tensor(targets, dtype=torch.float64))[1]
    dl_dv = torch.zeros_like(v)
    dl_dv[:, -cols[-1].shape[1]:] = grad_out @ circuit.readout_matrix / len(x)
    adjoint = circuit.split(circuit.solve_linear(diagonals, None, dl_dv))  # J is symmetric
    grads = []
    for l in range(circuit.n_layers):
        rows, c, mu = circuit.rows(l, inputs, cols), cols[l], adjoint[l]
        mu_rows = torch.zeros_like(rows)
        if l > 0:
            mu_rows[:, :-2] = circuit.gain * adjoint[l - 1]
        # sum over the batch of (r_i - c_j)(mu_j - m_i), expanded into matrix products
        total = (rows.T @ mu - (rows * mu_rows).sum(0)[:, None] - (c * mu).sum(0)[None, :]
                 + mu_rows.T @ c)
        grads.append((-total).numpy())
    return tuple(grads)
