"""Recurrent backprop in continuous time on a circuit, and the temporal derivatives of EP's
second phase it equals (seed 003, Theorems 1-3).

With a capacitance C on every free node the circuit's dynamics are C dV/dt = -dE/dV. In the
variables u = C^{1/2} V they are the seed's gradient dynamics, so its theorems read, in V:

- error derivatives (Theorem 1, eqs. 8-11): S_0 = dl/dV, dS/dt = -H C^-1 S, Theta_0 = 0,
  dTheta/dt = -d2E/dGdV C^-1 S, with H = d2E/dV2 at the free state. With one C for all nodes
  and H = Q diag(lambda) Q^T this is solved exactly:
  S_t = Q exp(-lambda t / C) Q^T S_0 and Theta_t = -D[Q diag((1 - exp(-lambda t / C)) / lambda)
  Q^T S_0], D[d] the change of dE/dG = 1/2 (V_i - V_j)^2 along d (linear in d);
  Theta_t -> dJ/dG as t -> infinity.
- temporal derivatives (eqs. 18, 19): S~_t = -(1/beta) C dV/dt and
  Theta~_t = (1/beta) (dE/dG(V(t)) - dE/dG(V(0))) along the nudged phase from the free state.

Theorem 3 (eqs. 20, 21): S~_t = S_t and Theta~_t = Theta_t as beta -> 0, at every t: EP stopped
at time t is recurrent backprop truncated at t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from eqprop_analog.errors import SolverError
from eqprop_analog.learning.estimators import energy_gradient_difference
from eqprop_analog.theory.circuit_dynamics import CircuitEuler


@dataclass(frozen=True)
class Processes:
    """One process (EP's temporal derivatives, or recurrent backprop's error derivatives) on a
    time grid: per neuron layer (n_times, units), batch means, and per crossbar
    (n_times, rows, columns), of the batch-mean loss."""

    times: np.ndarray
    neurons: dict[str, np.ndarray]
    parameters: dict[str, np.ndarray]


class LinearisedCircuit:
    """The circuit's H = -dF/dV at the free state, per sample, with its eigendecomposition."""

    def __init__(self, model: CircuitEuler, capacitance: float) -> None:
        self.model = model
        self.capacitance = capacitance
        self.free = model.free_state()
        self.voltages = torch.cat(self.free, dim=1).numpy()
        hessian = -model.jacobian(self.free)  # symmetric up to rounding: E exists
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(
            0.5 * (hessian + hessian.transpose(0, 2, 1)))
        output = model.circuit.output_gradient(model.cost, self.free[-1], model.targets).numpy()
        self.initial = np.zeros_like(self.voltages)  # S_0 = dl/dV, per sample
        self.initial[:, -output.shape[1]:] = output

    def time_constants(self) -> tuple[float, float]:
        """The fastest and the slowest C / lambda over the batch (s)."""
        return (self.capacitance / float(self.eigenvalues.max()),
                self.capacitance / float(self.eigenvalues.min()))

    def _modal(self, weights: np.ndarray) -> np.ndarray:
        """Q diag(weights) Q^T S_0 per sample, for weights of shape (batch, n)."""
        q = self.eigenvectors
        coefficients = np.einsum("bji,bj->bi", q, self.initial)
        return np.einsum("bji,bi->bj", q, weights * coefficients)

    def error_derivatives(self, times: np.ndarray) -> Processes:
        """S_t and Theta_t of recurrent backprop (Theorem 1), exactly."""
        rates = self.eigenvalues / self.capacitance
        neurons, parameters = [], []
        for t in times:
            s = self._modal(np.exp(-rates * t))
            d = self._modal(-np.expm1(-rates * t) / self.eigenvalues)
            neurons.append(s.mean(0))
            parameters.append(self.directional(d))
        return _processes(self.model, times, np.stack(neurons), parameters, sign=-1.0)

    def directional(self, d: np.ndarray) -> tuple[np.ndarray, ...]:
        """D[d]: the change of the batch-mean dE/dG along d; exact, dE/dG being quadratic."""
        x = self.model.features
        return tuple(0.5 * g for g in energy_gradient_difference(self.model.network, x,
                                                                 self.voltages + d,
                                                                 self.voltages - d))

    def motion(self, beta: float) -> float:
        """The largest |V^beta - V^0| to first order in beta (V): beta H^-1 S_0."""
        return float(np.abs(beta * self._modal(1.0 / self.eigenvalues)).max())

    def gradient(self) -> tuple[np.ndarray, ...]:
        """dJ/dG: Theta_t at t -> infinity (-D[H^-1 S_0])."""
        d = self._modal(1.0 / self.eigenvalues)
        return tuple(-g for g in self.directional(d))


def temporal_derivatives(model: CircuitEuler, times: np.ndarray, voltages: np.ndarray,
                         capacitor_currents: np.ndarray, beta: float, start: np.ndarray
                         ) -> Processes:
    """S~_t and Theta~_t from a nudged phase: voltages and C dV/dt of shape (batch, n_times, n)
    at ``times``, the phase having started at t = 0 from the free state ``start`` (batch, n)."""
    neurons = -(capacitor_currents / beta).mean(0)
    scales = [1.0 / beta] * model.network.n_crossbars
    parameters = [energy_gradient_difference(model.network, model.features, voltages[:, k],
                                             start, scales)
                  for k in range(len(times))]
    return _processes(model, times, neurons, parameters)


def _processes(model: CircuitEuler, times: np.ndarray, neurons: np.ndarray,
               parameters: list[tuple[np.ndarray, ...]], sign: float = 1.0) -> Processes:
    split = np.cumsum([v.shape[1] for v in model.free_state()])[:-1]
    return Processes(times,
                     dict(zip(model.neuron_names, np.split(neurons, split, axis=1))),
                     {name: sign * np.stack([p[l] for p in parameters])
                      for l, name in enumerate(model.parameter_names)})


def integrate_nudged_phase(model: CircuitEuler, capacitance: float, beta: float,
                           times: np.ndarray, motion: float, rtol: float = 1e-8
                           ) -> tuple[np.ndarray, np.ndarray]:
    """The nudged phase C dV/dt = F(V) - beta dl/dV from the free state, integrated with the
    native equations (Radau, order 5): voltages and C dV/dt at ``times`` (after t = 0),
    shapes (batch, n_times, n). The deviation from the free state is integrated, with the
    absolute tolerance ``rtol`` times ``motion``, the size of the nudged motion (V)."""
    from scipy.integrate import solve_ivp

    free = torch.cat(model.free_state(), dim=1)
    batch, n = free.shape

    def currents(deviation: np.ndarray) -> torch.Tensor:
        v = free + torch.as_tensor(deviation.reshape(batch, n))
        return torch.cat(model.currents(model.circuit.split(v), model.parameters, beta), dim=1)

    def rate(_t: float, deviation: np.ndarray) -> np.ndarray:
        return currents(deviation).numpy().ravel() / capacitance

    # Radau's Newton iterations need only an approximation of the Jacobian: the free state's
    # (the nudged motion is beta / G small), built once
    blocks = model.jacobian() / capacitance
    jacobian = np.zeros((batch * n, batch * n))
    for b in range(batch):
        jacobian[b * n:(b + 1) * n, b * n:(b + 1) * n] = blocks[b]

    solution = solve_ivp(rate, (0.0, float(times[-1])), np.zeros(batch * n), method="Radau",
                         t_eval=times, jac=jacobian, rtol=rtol, atol=rtol * motion)
    if not solution.success:
        raise SolverError(f"the nudged phase could not be integrated: {solution.message}")
    deviation = solution.y.T.reshape(len(times), batch, n)
    voltages = (free.numpy()[None] + deviation).transpose(1, 0, 2)
    flows = np.stack([currents(d.ravel()).numpy() for d in deviation]).transpose(1, 0, 2)
    return voltages, flows
