"""Continual EP (thesis part V, ch. 1-2): the parameters move at every step of the second phase.

From s_0 = s_* and theta_0 = theta (thesis part V eq. 1.3):

    s_{t+1}     = dPhi/ds(s_t, theta_t) - beta_eff dl/ds(s_t),
    theta_{t+1} = theta_t + (eta / beta_eff) (dPhi/dtheta(s_{t+1}) - dPhi/dtheta(s_t)),

with the normalised updates Delta_theta^C-EP(t) = (theta_{t+1} - theta_t) / eta (eq. 2.1, 2.3).
As eta -> 0 they become EP's updates at fixed theta (eq. 1.2, a telescoping sum), hence, with
Theorem 10 (GDD), the gradients of BPTT / recurrent backprop step by step. The models here have
dPhi/dtheta independent of theta (Phi is linear in the parameters), as
:meth:`~eqprop_analog.theory.discrete.DiscreteModel.primitive_gradient_difference` assumes.
"""

from __future__ import annotations

import numpy as np
import torch

from eqprop_analog.errors import SolverError
from eqprop_analog.theory.discrete import DiscreteModel, State


def cep_processes(model: DiscreteModel, s_star: State, steps: int, beta: float, eta: float
                  ) -> dict[str, np.ndarray]:
    """Delta_theta^C-EP(t) for t = 0 .. steps-1, one array (steps, *shape) per parameter.

    Raises SolverError where the updates diverge: each one moves the state as a nudge would, and
    the next update divides that move by beta, so above some eta (about beta G / V^2) the
    parameters and the neurons drive each other without bound."""
    beta_eff = beta * model.beta_scale
    parameters = [p.detach().clone() for p in model.parameters]
    updates: list[list[np.ndarray]] = [[] for _ in parameters]
    s = [v.detach() for v in s_star]
    with torch.no_grad():
        for _ in range(steps):
            moved = model.step(s, parameters, beta)
            differences = model.primitive_gradient_difference(moved, s)
            if not all(bool(torch.isfinite(d).all()) for d in differences):
                raise SolverError(f"C-EP diverged at step {len(updates[0])} (eta {eta:.3g} too "
                                  "large for this beta)")
            for j, d in enumerate(differences):
                change = (eta / beta_eff) * d
                parameters[j] = parameters[j] + change
                updates[j].append((change / eta).numpy())
            s = moved
    return {name: np.stack(u) for name, u in zip(model.parameter_names, updates)}


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / ||b||."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))
