"""The EP estimators against the plain formula, resistor by resistor: each resistor's
[(V_a - V_b)^2 at one state - the same at the other] / 2 / span, its net voltages found by
evaluating the circuit's own elements (sources, inverting inputs, amplifiers) on the state."""

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.elements import fixed_elements, input_elements
from eqprop_analog.circuit.layered import GROUND
from eqprop_analog.engines.base import Solution
from eqprop_analog.learning.estimators import EPEstimator, energy_gradient_difference
from eqprop_analog.spice.netlist import weight_rows


def net_voltages(network: LayeredNetwork, x: np.ndarray, free: np.ndarray) -> dict[str, float]:
    """Every net's voltage for one sample: the free nets from the state, the others from the
    element that drives them."""
    volts = {GROUND: 0.0, **dict(zip(network.free_nets, free))}
    elements = input_elements(network, x[None, :]) + fixed_elements(network)
    for _ in range(3):  # a source may depend on a net that a later element drives
        for e in elements:
            if e.kind == "V" and e.nets[1] in volts:
                volts[e.nets[0]] = volts[e.nets[1]] + e.value
            elif e.kind == "E" and e.nets[2] in volts:
                volts[e.nets[0]] = e.value * volts[e.nets[2]]
            elif e.kind == "X" and all(n in volts for n in e.nets[:-1]):
                inputs = [volts[n] for n in e.nets[:-1]]
                volts[e.nets[-1]] = e.value * (inputs[0] - (inputs[1] if len(inputs) == 2 else 0))
    return volts


def plain_difference(network, x, state_a, state_b, span):
    shapes = network.shapes
    result = [np.zeros(shape) for shape in shapes]
    for b in range(len(x)):
        va = net_voltages(network, x[b], state_a[b])
        vb = net_voltages(network, x[b], state_b[b])
        for row in weight_rows(network, network.initial_conductances(np.random.default_rng(0))):
            i, j, l = row["row"], row["column"], row["layer"]
            drop_a = va[row["from_net"]] - va[row["to_net"]]
            drop_b = vb[row["from_net"]] - vb[row["to_net"]]
            result[l - 1][i, j] += (drop_a ** 2 - drop_b ** 2) / 2 / span / len(x)
    return result


@pytest.mark.parametrize("spec", [
    CircuitSpec((3, 5, 4, 2), amplifier_gain=2.0),
    CircuitSpec((3, 4, 2), amplifier_gain=None, neuron="clamp"),
    CircuitSpec((3, 4, 2), signed_weights="differential-pairs", amplifier_gain=3.0),
], ids=["amplifiers", "no-amplifiers", "pairs"])
@pytest.mark.parametrize("kind", ["symmetric", "one-sided"])
def test_estimators_follow_the_plain_formula(spec, kind):
    network = LayeredNetwork(spec)
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (3, spec.n_inputs))
    n_free = len(network.free_nets)
    beta = 1e-3
    betas = (0.0, beta, -beta) if kind == "symmetric" else (0.0, beta)
    states = rng.normal(0, 0.3, (len(betas), len(x), n_free))
    estimator = EPEstimator(kind, beta)
    estimate = estimator.gradient(network, x, Solution(betas, states))
    a, b, span = (states[1], states[2], 2 * beta) if kind == "symmetric" else \
        (states[1], states[0], beta)
    expected = plain_difference(network, x, a, b, span)
    for got, want in zip(estimate, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_scales_and_output_buffers():
    network = LayeredNetwork(CircuitSpec((3, 4, 2), amplifier_gain=2.0))
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (2, 3))
    a, b = rng.normal(0, 0.3, (2, 2, len(network.free_nets)))
    plain = energy_gradient_difference(network, x, a, b)
    out = [np.full(shape, np.nan) for shape in network.shapes]
    scaled = energy_gradient_difference(network, x, a, b, [-2.0, 3.0], out)
    for got, buffer, base, scale in zip(scaled, out, plain, [-2.0, 3.0]):
        assert got is buffer
        np.testing.assert_allclose(got, scale * base, rtol=1e-12)
