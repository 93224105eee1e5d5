"""Discrete-time EP against backpropagation through time, step by step (seed 000, Theorem 1).

A model is a transition s_{t+1} = F(s_t, theta) on a static input. Where F derives from a primitive
function, F = dPhi/ds (seed 000 eq. 7), and the first phase has converged to s_*, the second phase
of EP, s^beta_0 = s_*, s^beta_{t+1} = dPhi/ds(s^beta_t) - beta_eff dl/ds(s^beta_t) (eq. 8), computes

    Delta_s(t)     = (s^beta_{t+1} - s^beta_t) / beta_eff,
    Delta_theta(t) = (dPhi/dtheta(s^beta_{t+1}) - dPhi/dtheta(s^beta_t)) / beta_eff     (eq. 10)

and these equal, as beta -> 0, minus the gradients of BPTT taken backwards in time,
-dL/ds_{T-t} and -dL/dtheta_{T-t} with L = l(s_T) (eqs. 5 and 12). ``beta_eff`` is the nudging
strength as it enters Phi^beta = Phi - beta_eff l (thesis part IV eq. 2.7): beta itself in the
prototypical setting, beta times the time step where the model discretises a real-time system
(seed 000 eq. 14, where beta is rescaled by epsilon).

The symmetric estimator (seeds 001/002) averages the processes of +beta and -beta, which cancels
their error of first order in beta.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

from eqprop_analog.theory.relmse import relmse

State = list[torch.Tensor]  # one (batch, units) tensor per layer
GDUEstimator = Literal["one-sided", "symmetric"]
GDU_ESTIMATORS: tuple[GDUEstimator, ...] = ("one-sided", "symmetric")


class DiscreteModel(Protocol):
    """A convergent recurrent model on a fixed batch of inputs and targets."""

    neuron_names: tuple[str, ...]  # one per layer of the state
    parameter_names: tuple[str, ...]  # one per parameter tensor
    parameters: list[torch.Tensor]
    beta_scale: float  # beta_eff / beta

    def step(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        """s_{t+1} from s_t with these parameters, nudged with strength ``beta`` (0: first
        phase). Differentiable in ``s`` and ``parameters`` (BPTT runs through it)."""
        ...

    def loss(self, s: State) -> torch.Tensor:
        """L: the batch mean of the cost l(s, y)."""
        ...

    def primitive_gradient_difference(self, a: State, b: State) -> list[torch.Tensor]:
        """Batch mean of dPhi/dtheta(a) - dPhi/dtheta(b), one tensor per parameter."""
        ...

    def free_state(self) -> State:
        """s_*: the end of a first phase run to convergence."""
        ...


def fixed_point_error(model: DiscreteModel, s: State) -> float:
    """max |F(s) - s|: how far ``s`` is from a steady state of the first phase."""
    with torch.no_grad():
        moved = model.step(s, model.parameters, 0.0)
    return max(float((m - v).abs().max()) for m, v in zip(moved, s))


def bptt_processes(model: DiscreteModel, s_star: State, steps: int) -> dict[str, np.ndarray]:
    """-grad^BPTT(t) for t = 0 .. steps-1 (seed 000 eq. 5): the last ``steps`` steps of the
    first phase run from the steady state, each with its own copy theta_{T-t} of the parameters
    so that dL/dtheta_{T-t} is one step's share. Neurons: the batch mean of each sample's
    gradient; parameters: the gradient of L (itself a batch mean). Shapes (steps, *shape)."""
    copies = [[p.detach().clone().requires_grad_(True) for p in model.parameters]
              for _ in range(steps)]
    s = [v.detach().clone().requires_grad_(True) for v in s_star]
    states = [s]  # s_{T-steps}, ..., s_T
    for k in range(steps):
        s = model.step(s, copies[k], 0.0)
        for v in s:
            v.retain_grad()
        states.append(s)
    model.loss(s).backward()
    processes = {}
    for j, name in enumerate(model.neuron_names):
        # states[steps - t] is s_{T-t}. L is a batch mean, so its gradient in one sample's
        # state is 1/batch of that sample's own: their sum is the batch mean of the latter.
        processes[name] = -np.stack([_grad(states[steps - t][j]).sum(0).numpy()
                                     for t in range(steps)])
    for j, name in enumerate(model.parameter_names):
        # copies[k] makes s_{T-steps+k+1}: theta_{T-t} is copies[steps - 1 - t]
        processes[name] = -np.stack([_grad(copies[steps - 1 - t][j]).numpy()
                                     for t in range(steps)])
    return processes


def _grad(v: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(v) if v.grad is None else v.grad.detach()


def ep_processes(model: DiscreteModel, s_star: State, steps: int, beta: float
                 ) -> dict[str, np.ndarray]:
    """Delta^EP(beta, t) for t = 0 .. steps-1 (seed 000 eq. 10), batch means, shapes
    (steps, *shape)."""
    beta_eff = beta * model.beta_scale
    neurons: list[list[np.ndarray]] = [[] for _ in model.neuron_names]
    parameters: list[list[np.ndarray]] = [[] for _ in model.parameter_names]
    s = [v.detach() for v in s_star]
    with torch.no_grad():
        for _ in range(steps):
            moved = model.step(s, model.parameters, beta)
            for j, (m, v) in enumerate(zip(moved, s)):
                neurons[j].append(((m - v) / beta_eff).mean(0).numpy())
            for j, d in enumerate(model.primitive_gradient_difference(moved, s)):
                parameters[j].append((d / beta_eff).numpy())
            s = moved
    processes = {n: np.stack(v) for n, v in zip(model.neuron_names, neurons)}
    processes.update({n: np.stack(v) for n, v in zip(model.parameter_names, parameters)})
    return processes


def estimator_processes(model: DiscreteModel, s_star: State, steps: int, beta: float,
                        estimator: GDUEstimator) -> dict[str, np.ndarray]:
    """EP's processes with the one-sided (beta) or the symmetric (+beta and -beta, averaged)
    second phase."""
    if estimator == "one-sided":
        return ep_processes(model, s_star, steps, beta)
    if estimator == "symmetric":
        plus = ep_processes(model, s_star, steps, beta)
        minus = ep_processes(model, s_star, steps, -beta)
        return {name: 0.5 * (plus[name] + minus[name]) for name in plus}
    raise ValueError(f"estimator must be one of {', '.join(GDU_ESTIMATORS)}, got {estimator!r}")


@dataclass(frozen=True)
class GDUComparison:
    """EP's processes and BPTT's over the same steps."""

    ep: dict[str, np.ndarray]
    bptt: dict[str, np.ndarray]  # -grad^BPTT

    def relmse(self) -> dict[str, float]:
        """RelMSE(Delta^EP, -grad^BPTT) per layer of neurons and of parameters."""
        return {name: relmse(self.ep[name], self.bptt[name]) for name in self.ep}


def compare_gdu(model: DiscreteModel, steps: int, beta: float, estimator: GDUEstimator,
                s_star: State | None = None, bptt: dict[str, np.ndarray] | None = None
                ) -> GDUComparison:
    """EP's second phase against BPTT over ``steps`` steps from the model's steady state (both
    computed here unless given: BPTT does not depend on beta)."""
    s_star = model.free_state() if s_star is None else s_star
    bptt = bptt_processes(model, s_star, steps) if bptt is None else bptt
    return GDUComparison(estimator_processes(model, s_star, steps, beta, estimator), bptt)
