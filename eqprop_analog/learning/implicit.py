"""The exact gradient of the loss at a steady state, by implicit differentiation (adjoint method).

At the free state the KCL residual F(V, G) vanishes, so dV/dG = -J^-1 dF/dG with J = dF/dV, the
circuit's Jacobian (nodal conductances plus the diodes' small-signal conductances). Solving
J^T mu = dL/dV once gives every dL/dG = -mu^T dF/dG. For a resistor G between row net i and column
node j that is dL/dG_ij = -(V_i - V_j)(mu_j - a mu_h), with mu_h the adjoint of the hidden node h that
drives row i through an amplifier of gain a (zero for clamped inputs and rails; for a unit that is a
differential pair, the difference of its two nodes' adjoints).

It needs only the free node voltages, so it applies to the native engine's states and to ngspice's.
"""

from __future__ import annotations

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.equations import NativeCircuit, Nudge
from eqprop_analog.engines.nudging import Cost


def implicit_gradient(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                      features: np.ndarray, free_voltages: np.ndarray, cost: Cost,
                      targets: np.ndarray) -> tuple[np.ndarray, ...]:
    """dL/dG for every crossbar, L the batch mean of the cost at the given free states."""
    x = network.check_features(features)
    circuit = NativeCircuit(network, network.check_conductances(conductances))
    cols = circuit.split(torch.as_tensor(np.asarray(free_voltages), dtype=torch.float64))
    inputs = torch.as_tensor(network.input_voltages(x), dtype=torch.float64)
    lin = circuit.linearize(cols, circuit.drive(inputs), Nudge())
    dl_dv = [torch.zeros_like(c) for c in cols]
    dl_dv[-1] = circuit.output_gradient(cost, cols[-1], torch.as_tensor(targets,
                                                                        dtype=torch.float64))
    # J mu = dL/dV with J = -A symmetric (L the batch mean, hence the division)
    adjoint, _ = circuit.nodal.solve(lin, [-d / len(x) for d in dl_dv])
    grads = []
    for l in range(circuit.n_layers):
        rows, c, mu = circuit.rows(l, inputs, cols), cols[l], adjoint[l]
        mu_rows = torch.zeros_like(rows)
        if l > 0:
            mu_rows[:, :-2] = circuit.gain * circuit.unit_signals(adjoint[l - 1])
        # sum over the batch of (r_i - c_j)(mu_j - m_i), expanded into matrix products
        total = (rows.T @ mu - (rows * mu_rows).sum(0)[:, None] - (c * mu).sum(0)[None, :]
                 + mu_rows.T @ c)
        grads.append((-total).numpy())
    return tuple(grads)
