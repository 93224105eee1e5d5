"""The fully connected layered models of seed 000 (section 4.2; thesis part IV ch. 4, with N
hidden layers): reciprocal connections with tied weights, tanh units, float64.

The state holds the layers in forward order, h^1 (fed by the input x) ... h^N, then the output
y_hat; they are named as in the seed, which labels them backwards: the output s^0, the last hidden
layer s^1, ..., the first s^N. Weight w_n joins h^n to h^{n+1} (w_0 the input to h^1); in the
seed's names W_{N-n,N+1-n}, with W_{Nx} for the input's.

- :class:`Prototypical` (eqs. 4.20, 4.21): h^n_{t+1} = sigma(w_{n-1} h^n-1_t + w_n^T h^n+1_t),
  the output nudged by beta (y - y_hat). It does not derive from a primitive function: the
  updates (eq. 4.24) use dPhi/dw of Phi = sum h^{n+1 T} w_n h^n (eq. 4.22), the dynamics with
  sigma left out, so EP matches BPTT only approximately (Theorem 1's assumption is not met).
- :class:`EnergyBased` (eq. 4.10 and the dynamics after it): s_{t+1} = dPhi/ds with
  Phi = (1 - eps)/2 sum ||h^n||^2 + eps (sum sigma(h^{n+1})^T w_n sigma(h^n)
  + sigma(h^1)^T w_0 sigma(x)), the explicit Euler scheme of ds/dt = -dE/ds; the output nudged by
  beta eps (y - y_hat), so beta_eff = eps beta (seed 000 eq. 14). Theorem 1 holds exactly.

The cost is l = 1/2 ||y - y_hat||^2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from eqprop_analog.errors import SolverError
from eqprop_analog.theory.discrete import State, fixed_point_error

CONVERGED = 1e-13  # max |F(s) - s| at which a first phase counts as converged (float64)


class LayeredModel:
    """What both settings share: sizes, weights, names, the cost and the first phase."""

    beta_scale = 1.0

    def __init__(self, x: np.ndarray, y: np.ndarray, hidden: Sequence[int],
                 rng: np.random.Generator, weight_scale: float = 1.0,
                 max_steps: int = 200_000) -> None:
        self.x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.float64)
        sizes = [self.x.shape[1], *hidden, self.y.shape[1]]
        # uniform in +/- weight_scale / sqrt(fan-in), as a layer's usual initialisation
        self.parameters = [torch.as_tensor(rng.uniform(-1, 1, (m, n)) * weight_scale / np.sqrt(n))
                           for n, m in zip(sizes[:-1], sizes[1:])]
        n = len(hidden)
        self.neuron_names = tuple(f"s{n - j}" for j in range(n + 1))  # h^1 = s^N ... y_hat = s^0
        self.parameter_names = (f"W{n}x",) + tuple(f"W{n - j - 1}{n - j}" for j in range(n))
        self.sizes = sizes[1:]
        self.max_steps = max_steps
        self.first_phase_steps = 0

    def loss(self, s: State) -> torch.Tensor:
        return 0.5 * ((self.y - s[-1]) ** 2).sum(1).mean()

    def free_state(self) -> State:
        """Run the first phase from zero until max |F(s) - s| <= CONVERGED."""
        s = [torch.zeros(len(self.x), size, dtype=torch.float64) for size in self.sizes]
        with torch.no_grad():
            for step in range(1, self.max_steps + 1):
                moved = self.step(s, self.parameters, 0.0)
                change = max(float((m - v).abs().max()) for m, v in zip(moved, s))
                s = moved
                if change <= CONVERGED:
                    self.first_phase_steps = step
                    return s
        raise SolverError(f"the first phase did not converge in {self.max_steps} steps (last "
                          f"change {fixed_point_error(self, s):.2e}); use smaller weights")

    def step(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        raise NotImplementedError

    def primitive_gradient_difference(self, a: State, b: State) -> list[torch.Tensor]:
        raise NotImplementedError

    def _outer_difference(self, a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]
                          ) -> list[torch.Tensor]:
        """Batch mean of a^{n+1} a^{n T} - b^{n+1} b^{n T} for each weight, the inputs (layer 0)
        being the same in both."""
        batch = len(self.x)
        return [(ha.T @ la - hb.T @ lb) / batch
                for la, lb, ha, hb in zip(a[:-1], b[:-1], a[1:], b[1:])]


class Prototypical(LayeredModel):
    """Seed 000 eq. 15 in layers (thesis eqs. 4.20, 4.21, updates eq. 4.24)."""

    def step(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        below = [self.x, *s[:-1]]
        moved = []
        for n, w in enumerate(parameters):
            drive = below[n] @ w.T
            if n + 1 < len(parameters):
                drive = drive + s[n + 1] @ parameters[n + 1]
            moved.append(torch.tanh(drive))
        if beta:
            moved[-1] = moved[-1] + beta * (self.y - s[-1])
        return moved

    def primitive_gradient_difference(self, a: State, b: State) -> list[torch.Tensor]:
        return self._outer_difference([self.x, *a], [self.x, *b])


class EnergyBased(LayeredModel):
    """Seed 000 eq. 13 in layers (thesis eq. 4.10 and its dynamics, updates eq. 4.8)."""

    def __init__(self, *args, epsilon: float = 0.08, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.epsilon = epsilon
        self.beta_scale = epsilon
        self.rates = torch.tanh(self.x)

    def step(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        eps = self.epsilon
        rates = [torch.tanh(v) for v in s]
        below = [self.rates, *rates[:-1]]
        moved = []
        for n, (v, w) in enumerate(zip(s, parameters)):
            drive = below[n] @ w.T
            if n + 1 < len(parameters):
                drive = drive + rates[n + 1] @ parameters[n + 1]
            moved.append((1 - eps) * v + eps * (1 - rates[n] ** 2) * drive)
        if beta:
            moved[-1] = moved[-1] + beta * eps * (self.y - s[-1])
        return moved

    def primitive_gradient_difference(self, a: State, b: State) -> list[torch.Tensor]:
        ra = [self.rates, *(torch.tanh(v) for v in a)]
        rb = [self.rates, *(torch.tanh(v) for v in b)]
        return [self.epsilon * d for d in self._outer_difference(ra, rb)]
