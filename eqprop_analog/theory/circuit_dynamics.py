"""A compiled circuit as a discrete-time model: explicit Euler of its own dynamics.

Give every free node the same capacitance C. Kirchhoff's current law then reads C dV/dt = F(V),
F = -dE/dV the current into each node (:mod:`eqprop_analog.engines.equations`, E the co-content),
and one Euler step of length dt is

    V_{t+1} = V_t + h F(V_t) = dPhi/dV(V_t),    Phi(V) = 1/2 ||V||^2 - h E(V),   h = dt / C,

the energy-based setting of seed 000 (eq. 13) on the circuit's co-content: Theorem 1 holds exactly.
Nudging injects the current -beta dC/dV into each output node (the nudged state minimises
E + beta C: README, "Physics in brief"), so beta_eff = h beta and the updates of eq. 10 become
Delta_V(t) = (V_{t+1} - V_t) / (h beta) and, with dPhi/dG = -h dE/dG,
Delta_G(t) = -(dE/dG(V_{t+1}) - dE/dG(V_t)) / beta: each resistor's own 1/2 (V_i - V_j)^2,
differenced between consecutive steps (the form EP's estimators use, cancellation-free).

A common C keeps Phi a primitive function; with node capacitances that differ, the same holds in
the variables C^{1/2} V.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.equations import NativeCircuit, Nudge
from eqprop_analog.engines.minimisers import NativeOptions
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.engines.nudging import Cost, SquaredError
from eqprop_analog.engines.torch_costs import cost_value
from eqprop_analog.errors import ConfigError
from eqprop_analog.learning.estimators import energy_gradient_difference
from eqprop_analog.theory.discrete import State

STEADY_TOLERANCE = 1e-13  # V: Newton's free state, the first phase's end


class CircuitEuler:
    """Explicit Euler of C dV/dt = F(V) for ``network`` with ``conductances``, on a batch of
    inputs and targets. ``time_step`` is dt / C (V per A and step, i.e. ohms); by default
    :meth:`stable_step` at the steady state."""

    def __init__(self, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                 features: np.ndarray, targets: np.ndarray, cost: Cost = SquaredError(),
                 time_step: float | None = None) -> None:
        spec = network.spec
        if spec.user_subcircuits:
            raise ConfigError("the theory's circuit models know only the built-in neuron and "
                              f"amplifier: leave {spec.user_subcircuits[0].role}_model unset")
        if spec.wire_resistance or not spec.reciprocal or spec.ideal_diodes:
            raise ConfigError("the theory's circuit models need the circuit's energy function and "
                              "its smooth dynamics: ideal reciprocal amplifiers (no "
                              "amplifier_open_loop_gain, amplifier_backward_ratio = 1), "
                              "wire_resistance = 0 and Shockley diodes")
        self.network = network
        self.conductances = network.check_conductances(conductances)
        self.features = network.check_features(features)
        self.inputs = torch.as_tensor(network.input_voltages(self.features), dtype=torch.float64)
        self.targets = torch.as_tensor(np.asarray(targets), dtype=torch.float64)
        self.cost = cost
        self.parameters = [torch.as_tensor(g) for g in self.conductances]
        self.circuit = NativeCircuit(network, self.conductances)
        self.neuron_names = tuple(f"h{l}" for l in range(1, len(network.spec.hidden) + 1)) + ("out",)
        self.parameter_names = tuple(f"G{l}" for l in range(1, network.n_crossbars + 1))
        self._steady: State | None = None
        self.time_step = self.stable_step() if time_step is None else float(time_step)
        self.beta_scale = self.time_step

    # -- the equations ------------------------------------------------------------------------------
    def _circuit(self, parameters: Sequence[torch.Tensor]) -> NativeCircuit:
        if all(p is q for p, q in zip(parameters, self.parameters)):
            return self.circuit
        return NativeCircuit(self.network, tuple(parameters))  # type: ignore[arg-type]

    def currents(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        """F(V) - beta dC/dV: the current into every free node (A), per layer."""
        circuit = self._circuit(parameters)
        nudge = Nudge()
        if beta:
            nudge = Nudge(torch.full((len(self.inputs),), float(beta), dtype=torch.float64),
                          self.cost, self.targets)
        return circuit.linearize(list(s), circuit.drive(self.inputs), nudge).residual

    def step(self, s: State, parameters: Sequence[torch.Tensor], beta: float) -> State:
        return [v + self.time_step * f for v, f in zip(s, self.currents(s, parameters, beta))]

    def loss(self, s: State) -> torch.Tensor:
        return cost_value(self.cost, self.circuit.readout(s[-1]), self.targets).mean()

    def primitive_gradient_difference(self, a: State, b: State) -> list[torch.Tensor]:
        difference = energy_gradient_difference(self.network, self.features, _joined(a),
                                                _joined(b))
        return [torch.as_tensor(-self.time_step * d) for d in difference]

    # -- the steady state and the linearised dynamics ------------------------------------------------
    def free_state(self) -> State:
        """The free steady state by Newton (native engine, to 1e-13 V): the end of a first
        phase run to convergence."""
        if self._steady is None:
            engine = NativeEngine(NativeOptions(tolerance=STEADY_TOLERANCE))
            free = engine.solve(self.network, self.conductances, self.features).phase(0.0)
            self._steady = self.circuit.split(torch.as_tensor(free))
        return [v.clone() for v in self._steady]

    def jacobian(self, s: State | None = None, beta: float = 0.0) -> np.ndarray:
        """d/dV of the currents (nudged with ``beta``) at ``s`` (default: the free state), shape
        (batch, n, n), nodes in the order of the network's free nets: minus the nodal matrix,
        symmetric where E exists."""
        s = self.free_state() if s is None else s
        v = _joined(s, numpy=False).clone().requires_grad_(True)
        f = torch.cat(self.currents(self.circuit.split(v), self.parameters, beta), dim=1)
        rows = [torch.autograd.grad(f[:, j].sum(), v, retain_graph=True)[0]
                for j in range(f.shape[1])]
        return torch.stack(rows, dim=1).numpy()

    def stable_step(self) -> float:
        """h = 1 / lambda_max(-dF/dV) at the free state: the fastest mode decays in one step,
        every mode without oscillation (explicit Euler is stable for h < 2 / lambda_max)."""
        return float(1.0 / np.linalg.eigvalsh(-self.jacobian()).max())


def _joined(s: Sequence[torch.Tensor], numpy: bool = True):
    joined = torch.cat([v.detach() for v in s], dim=1)
    return joined.numpy() if numpy else joined
