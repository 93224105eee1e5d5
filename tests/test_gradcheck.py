"""EP estimates from ngspice steady states against central finite differences through ngspice."""

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines import CrossEntropy, Phases, SquaredError
from eqprop_analog.engines.base import Solution
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.learning.gradcheck import Comparison, ep_gradient, finite_difference_gradient


def _problem(amplifier=None, seed=0):
    rng = np.random.default_rng(seed)
    network = LayeredNetwork(CircuitSpec((4, 6, 3), relu_bias=0.3, amplifier_gain=amplifier))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    return network, g, rng.uniform(0, 1, (4, 4)), rng.uniform(-0.2, 0.2, (4, 3))


@pytest.fixture(scope="module")
def reference(precise_engine):
    cache = {}

    def get(amplifier=None):
        if amplifier not in cache:
            network, g, x, y = _problem(amplifier)
            cache[amplifier] = finite_difference_gradient(precise_engine, network, g, x,
                                                          SquaredError(), y)
        return cache[amplifier]
    return get


@pytest.mark.parametrize("nudging", ["exact", "current"])
def test_symmetric_ep_matches_finite_differences(precise_engine, reference, nudging):
    network, g, x, y = _problem()
    estimate = ep_gradient(precise_engine, network, g, x, SquaredError(), y,
                           EPEstimator("symmetric", 1e-6), nudging)
    c = Comparison.of(estimate, reference())
    assert c.cosine >= 0.9999 and c.relative_error <= 1e-3, c


@pytest.mark.parametrize("amplifier", [None, 2.0])
@pytest.mark.parametrize("kind,order", [("one-sided", 1), ("symmetric", 2)])
def test_estimator_bias_shrinks_with_its_order_in_beta(precise_engine, reference, amplifier, kind,
                                                       order):
    network, g, x, y = _problem(amplifier)
    betas = np.array([8e-6, 4e-6, 2e-6]) if kind == "symmetric" else np.array([1e-6, 5e-7, 2.5e-7])
    errors = [Comparison.of(ep_gradient(precise_engine, network, g, x, SquaredError(), y,
                                        EPEstimator(kind, b)), reference(amplifier)).relative_error
              for b in betas]
    slope = np.polyfit(np.log(betas), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.25, (errors, slope)


def test_random_sign_is_one_sided_with_either_sign(precise_engine, reference):
    network, g, x, y = _problem()
    signs = set()
    for seed in range(4):
        estimator = EPEstimator("random-sign", 2e-7)
        (_, beta) = estimator.betas(np.random.default_rng(seed))  # the draw ep_gradient makes
        signs.add(np.sign(beta))
        estimate = ep_gradient(precise_engine, network, g, x, SquaredError(), y, estimator,
                               rng=np.random.default_rng(seed))
        assert Comparison.of(estimate, reference()).cosine > 0.9999  # whichever the sign
    assert signs == {1.0, -1.0}


def test_cross_entropy_gradient_and_nudging(precise_engine):
    cost = CrossEntropy(gain=5.0)
    rng = np.random.default_rng(3)
    r, y = rng.normal(0, 0.3, (4, 3)), np.eye(3)[[0, 2, 1, 0]]
    h = 1e-6
    numeric = np.array([[(cost.value(r + h * np.eye(3)[k], y) - cost.value(r - h * np.eye(3)[k], y))
                         [b] / (2 * h) for k in range(3)] for b in range(4)])
    np.testing.assert_allclose(cost.gradient(r, y), numeric, rtol=1e-6, atol=1e-9)
    network, g, x, _ = _problem()
    ref = finite_difference_gradient(precise_engine, network, g, x, cost, y)
    est = ep_gradient(precise_engine, network, g, x, cost, y, EPEstimator("symmetric", 1e-8))
    c = Comparison.of(est, ref)
    assert c.cosine >= 0.9999 and c.relative_error <= 1e-3, c


@pytest.mark.parametrize("nudging", ["exact", "current"])
def test_differential_outputs_with_cross_entropy(precise_engine, nudging):
    rng = np.random.default_rng(5)
    network = LayeredNetwork(CircuitSpec((3, 5, 2), differential_outputs=True, amplifier_gain=2.0))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (3, 3)), np.eye(2)[[0, 1, 1]]
    cost = CrossEntropy(gain=5.0)
    reference = finite_difference_gradient(precise_engine, network, g, x, cost, y)
    estimate = ep_gradient(precise_engine, network, g, x, cost, y, EPEstimator("symmetric", 1e-8),
                           nudging)
    c = Comparison.of(estimate, reference)
    assert c.cosine >= 0.9999 and c.relative_error <= 1e-3, c


def test_ep_with_wire_resistance_uses_each_devices_own_drop(precise_engine):
    """With resistive wires EP still gives the gradient (the wires are fixed resistors of the same
    network), provided each device measures the voltage between its own crossing points: the
    estimate matches finite differences through ngspice, and the drops between the logical row and
    column nets would not."""
    from dataclasses import replace

    rng = np.random.default_rng(21)
    spec = CircuitSpec((3, 5, 2), amplifier_gain=2.0, input_gain=2.0, wire_resistance=3000.0)
    network = LayeredNetwork(spec)
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(-0.2, 0.2, (4, 2))
    reference = finite_difference_gradient(precise_engine, network, g, x, SquaredError(), y)
    estimate = ep_gradient(precise_engine, network, g, x, SquaredError(), y,
                           EPEstimator("symmetric", 1e-6))
    c = Comparison.of(estimate, reference)
    assert c.cosine >= 0.9999 and c.relative_error <= 1e-3, c
    ideal_wires = LayeredNetwork(replace(spec, wire_resistance=0.0))
    solution = precise_engine.solve(network, g, x, Phases((0.0, 1e-6, -1e-6), SquaredError(), y))
    logical = EPEstimator("symmetric", 1e-6).gradient(
        ideal_wires, x, Solution(solution.betas, solution.voltages[:, :, :len(ideal_wires.free_nets)]))
    assert Comparison.of(logical, reference).relative_error > 10 * c.relative_error
