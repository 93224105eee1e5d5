"""The native engine against ngspice, its diode against ngspice's equations, and the implicit
gradient against finite differences."""

import numpy as np
import pytest
import torch

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.spec import DiodeModel
from eqprop_analog.engines import CrossEntropy, Phases, SquaredError
from eqprop_analog.engines.diode import Diode
from eqprop_analog.engines.native import NativeEngine, NativeOptions
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.learning.gradcheck import Comparison, ep_gradient, finite_difference_gradient
from eqprop_analog.learning.implicit import implicit_gradient
from eqprop_analog.netlist_examples import EXAMPLES, example_network


@pytest.fixture(scope="module")
def native():
    return NativeEngine()


def test_diode_co_content_integrates_the_current_across_the_knee():
    diode = Diode(1e-12, 1.3)
    u = torch.linspace(-1.0, 0.6, 4001, dtype=torch.float64)
    i, g = diode.current(u)
    p = diode.co_content(u)
    np.testing.assert_allclose(np.gradient(p.numpy(), u.numpy())[1:-1], i.numpy()[1:-1],
                               rtol=1e-4, atol=1e-15)
    np.testing.assert_allclose(np.gradient(i.numpy(), u.numpy())[1:-1], g.numpy()[1:-1],
                               rtol=1e-3, atol=1e-15)
    knee = torch.tensor([diode.knee * (1 - 1e-12), diode.knee * (1 + 1e-12)], dtype=torch.float64)
    a, b = diode.current(knee)[0]
    assert abs(a - b) < 1e-9 * abs(a)  # forward and reverse branches meet


CIRCUITS = {
    **{name: example_network(name) for name in EXAMPLES},
    "clamp-amp-differential": (lambda n: (n, n.initial_conductances(np.random.default_rng(3), 1e-6,
                                                                     2e-5)))(
        LayeredNetwork(CircuitSpec((6, 9, 7, 3), neuron="clamp", amplifier_gain=2.0,
                                   differential_outputs=True))),
    "no-hidden-layer": (lambda n: (n, n.initial_conductances(np.random.default_rng(9), 1e-6,
                                                             5e-5)))(
        LayeredNetwork(CircuitSpec((4, 3)))),
    "relu-no-amp": (lambda n: (n, n.initial_conductances(np.random.default_rng(4), 1e-6, 5e-5)))(
        LayeredNetwork(CircuitSpec((5, 12, 4)))),
    # diodes with series resistance: ngspice's internal diode node against SeriesDiode
    "relu-rs-amp": (lambda n: (n, n.initial_conductances(np.random.default_rng(5), 1e-6, 5e-5)))(
        LayeredNetwork(CircuitSpec((5, 12, 4), diode=DiodeModel(1e-12, 1.0, 500.0),
                                   amplifier_gain=3.0))),
    # every diode with its own IS (log-normal spread): per-device .model cards against per-node IS
    "relu-spread": (lambda n: (n, n.initial_conductances(np.random.default_rng(7), 1e-6, 5e-5)))(
        LayeredNetwork(CircuitSpec((5, 12, 4), amplifier_gain=2.0, diode_spread=1.0))),
    "clamp-spread-rs": (lambda n: (n, n.initial_conductances(np.random.default_rng(8), 1e-6,
                                                             5e-5)))(
        LayeredNetwork(CircuitSpec((6, 9, 3), neuron="clamp", clamp_low=-0.1, clamp_high=0.1,
                                   input_gain=4.0, diode=DiodeModel(1e-8, 1.2, 300.0),
                                   diode_spread=1.0))),
    "clamp-rs": (lambda n: (n, n.initial_conductances(np.random.default_rng(6), 1e-6, 5e-5)))(
        LayeredNetwork(CircuitSpec((6, 9, 7, 3), neuron="clamp", clamp_low=-0.1, clamp_high=0.1,
                                   input_gain=4.0, diode=DiodeModel(1e-8, 1.2, 2000.0)))),
    # weights as differential pairs: floating neurons, differential amplifiers, paired outputs
    "pairs-relu": (lambda n: (n, n.initial_conductances(np.random.default_rng(1), 1e-6, 5e-5)))(
        LayeredNetwork(CircuitSpec((5, 12, 4), signed_weights="differential-pairs"))),
    "pairs-relu-amp": (lambda n: (n, n.initial_conductances(np.random.default_rng(1), 1e-6,
                                                            5e-5)))(
        LayeredNetwork(CircuitSpec((5, 8, 6, 3), amplifier_gain=2.0,
                                   signed_weights="differential-pairs"))),
    "pairs-clamp-spread-rs": (lambda n: (n, n.initial_conductances(np.random.default_rng(1), 1e-6,
                                                                   5e-5)))(
        LayeredNetwork(CircuitSpec((6, 9, 7, 3), neuron="clamp", clamp_low=-0.1, clamp_high=0.1,
                                   diode=DiodeModel(1e-8, 1.2, 300.0), diode_spread=1.0,
                                   signed_weights="differential-pairs"))),
}


@pytest.mark.parametrize("name", sorted(CIRCUITS))
@pytest.mark.parametrize("mode", ["exact", "current"])
def test_native_matches_ngspice(name, mode, engine, native):
    """Free, +beta and -beta states of 200 random samples agree within 1e-6 V."""
    network, g = CIRCUITS[name]
    rng = np.random.default_rng(7)
    n_in, n_out = network.spec.n_inputs, network.spec.n_outputs
    x = rng.uniform(0, 1, (200, n_in))
    labels = rng.integers(0, n_out, 200)
    for cost, beta, targets in ((SquaredError(), 1e-5, rng.uniform(-0.2, 0.2, (200, n_out))),
                                (CrossEntropy(20.0), 1e-7, np.eye(n_out)[labels])):
        phases = Phases((0.0, beta, -beta), cost, targets, mode)
        reference = engine.solve(network, g, x, phases).voltages
        np.testing.assert_allclose(native.solve(network, g, x, phases).voltages, reference,
                                   atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ["digits", "clamp-amp-differential"])
def test_float32_states_match_ngspice(name, engine):
    """In single precision the Newton iteration still stops (its stop rule estimates the error
    left, not the last step) and lands within 1e-6 V of ngspice."""
    network, g = CIRCUITS[name]
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, (50, network.spec.n_inputs))
    targets = np.eye(network.spec.n_outputs)[rng.integers(0, network.spec.n_outputs, 50)]
    phases = Phases((0.0, 1e-7, -1e-7), CrossEntropy(20.0), targets)
    single = NativeEngine(NativeOptions(dtype="float32")).solve(network, g, x, phases)
    np.testing.assert_allclose(single.voltages, engine.solve(network, g, x, phases).voltages,
                               atol=1e-6, rtol=0)


def test_nudged_phases_start_from_the_free_state(native):
    network, g = example_network("digits")
    x = np.random.default_rng(0).uniform(0, 1, (16, 64))
    solution = native.solve(network, g, x, Phases((0.0, 1e-7, -1e-7), CrossEntropy(20.0),
                                                  np.eye(10)[np.arange(16) % 10]))
    free, nudged = solution.stats.iterations  # the nudged phases share one solve
    assert nudged < free
    assert 0 <= solution.stats.voltage_error <= native.options.tolerance


@pytest.mark.parametrize("amplifier, series_resistance", [(None, 0.0), (3.0, 0.0), (3.0, 1000.0)])
def test_implicit_gradient_matches_finite_differences(precise_engine, native, amplifier,
                                                      series_resistance):
    rng = np.random.default_rng(11)
    network = LayeredNetwork(CircuitSpec((4, 6, 5, 3), amplifier_gain=amplifier, input_gain=2.0,
                                         diode=DiodeModel(series_resistance=series_resistance)))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (5, 4)), rng.uniform(-0.2, 0.2, (5, 3))
    reference = finite_difference_gradient(precise_engine, network, g, x, SquaredError(), y)
    for engine in (native, precise_engine):  # on the native engine's states and on ngspice's
        free = engine.solve(network, g, x).phase(0.0)
        exact = implicit_gradient(network, g, x, free, SquaredError(), y)
        c = Comparison.of(exact, reference)
        assert c.cosine > 0.999999 and c.relative_error < 1e-5, (engine.name, c)


@pytest.mark.parametrize("neuron, amplifier", [("relu", None), ("clamp", 3.0)])
def test_differential_pairs_gradients_match_finite_differences(precise_engine, native, neuron,
                                                               amplifier):
    """With every weight a pair G+ - G-, the implicit gradient (on both engines' states) and
    symmetric EP through ngspice match finite differences: the differential amplifiers keep an
    energy function."""
    rng = np.random.default_rng(11)
    network = LayeredNetwork(CircuitSpec((4, 6, 5, 3), neuron=neuron, amplifier_gain=amplifier,
                                         input_gain=2.0, signed_weights="differential-pairs"))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (5, 4)), rng.uniform(-0.2, 0.2, (5, 3))
    reference = finite_difference_gradient(precise_engine, network, g, x, SquaredError(), y)
    for engine in (native, precise_engine):
        free = engine.solve(network, g, x).phase(0.0)
        c = Comparison.of(implicit_gradient(network, g, x, free, SquaredError(), y), reference)
        assert c.cosine > 0.999999 and c.relative_error < 1e-5, (engine.name, c)
    c = Comparison.of(ep_gradient(precise_engine, network, g, x, SquaredError(), y,
                                  EPEstimator("symmetric", 1e-6)), reference)
    assert c.cosine >= 0.9999 and c.relative_error <= 1e-3, c


def test_symmetric_ep_on_native_converges_to_the_implicit_gradient(native):
    rng = np.random.default_rng(12)
    network = LayeredNetwork(CircuitSpec((8, 10, 4), amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x, y = rng.uniform(0, 1, (6, 8)), np.eye(4)[rng.integers(0, 4, 6)]
    cost = CrossEntropy(20.0)
    exact = implicit_gradient(network, g, x, native.solve(network, g, x).phase(0.0), cost, y)
    errors = [Comparison.of(ep_gradient(native, network, g, x, cost, y, EPEstimator("symmetric", b)),
                            exact).relative_error for b in (4e-8, 2e-8, 1e-8)]
    assert errors[-1] < 1e-4
    slope = np.polyfit(np.log([4e-8, 2e-8, 1e-8]), np.log(errors), 1)[0]
    assert abs(slope - 2) < 0.25, errors


@pytest.mark.parametrize("neuron,amplifier", [("relu", None), ("relu", 4.0), ("clamp", 2.0)])
def test_ideal_diode_state_satisfies_the_kkt_conditions(native, neuron, amplifier):
    """Unclamped nodes balance their currents; a node at a diode's bound has its resistors pulling
    it past the bound, the diode holding it (the optimality conditions of the box-constrained QP)."""
    rng = np.random.default_rng(21)
    spec = CircuitSpec((6, 12, 8, 3), neuron=neuron, relu_bias=0.05, clamp_low=-0.2,
                       clamp_high=0.2, amplifier_gain=amplifier, ideal_diodes=True)
    network = LayeredNetwork(spec)
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x = rng.uniform(0, 1, (10, 6))
    free = native.solve(network, g, x).phase(0.0)
    a = amplifier or 1.0
    held_somewhere = free_somewhere = False
    for layer in (1, 2):
        v = network.column_voltages(layer, free)
        into = np.einsum("bij,ij->bj", network.row_voltages(layer, x, free)[:, :, None]
                         - v[:, None, :], g[layer - 1])
        above = network.row_voltages(layer + 1, x, free)[:, :-2]
        out = a * np.einsum("bjk,jk->bj", above[:, :, None]
                            - network.column_voltages(layer + 1, free)[:, None, :], g[layer][:-2])
        net_current = into - out
        if neuron == "relu":
            even = np.arange(v.shape[1]) % 2 == 0
            low = np.where(even, 0.05, -np.inf)
            high = np.where(even, np.inf, -0.05)
        else:
            low, high = np.full(v.shape[1], -0.2), np.full(v.shape[1], 0.2)
        at_low, at_high = np.isclose(v, low, atol=1e-12), np.isclose(v, high, atol=1e-12)
        inside = ~(at_low | at_high)
        scale = np.abs(into).max()
        assert np.all(v >= low - 1e-12) and np.all(v <= high + 1e-12)
        assert np.abs(net_current[inside]).max(initial=0.0) < 1e-8 * scale
        assert np.all(net_current[at_low] <= 1e-8 * scale)
        assert np.all(net_current[at_high] >= -1e-8 * scale)
        held_somewhere |= bool((at_low | at_high).any())
        free_somewhere |= bool(inside.any())
    assert held_somewhere and free_somewhere  # the test must exercise both cases


def test_ideal_diodes_ep_and_implicit_gradient_match_finite_differences(native):
    rng = np.random.default_rng(22)
    network = LayeredNetwork(CircuitSpec((5, 10, 3), relu_bias=0.02, amplifier_gain=3.0,
                                         ideal_diodes=True))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x, y = rng.uniform(0, 1, (6, 5)), np.eye(3)[rng.integers(0, 3, 6)]
    cost = CrossEntropy(20.0)
    reference = finite_difference_gradient(native, network, g, x, cost, y, relative_step=1e-5)
    exact = implicit_gradient(network, g, x, native.solve(network, g, x).phase(0.0), cost, y)
    ep = ep_gradient(native, network, g, x, cost, y, EPEstimator("symmetric", 1e-9))
    for estimate in (exact, ep):
        c = Comparison.of(estimate, reference)
        assert c.cosine > 0.9999 and c.relative_error < 1e-3, c


def test_ngspice_refuses_ideal_diodes(engine):
    from eqprop_analog.errors import ConfigError

    network = LayeredNetwork(CircuitSpec((2, 4, 2), ideal_diodes=True))
    g = network.initial_conductances(np.random.default_rng(0))
    with pytest.raises(ConfigError, match="native engine"):
        engine.solve(network, g, np.zeros((1, 2)))


@pytest.mark.slow
def test_native_matches_ngspice_at_mnist_size(engine, native):
    """1568 input sources, 158,020 resistors: 20 samples, free and both nudged phases."""
    rng = np.random.default_rng(31)
    network = LayeredNetwork(CircuitSpec((784, 100, 10), amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.uniform(0, 1, (20, 784))
    phases = Phases((0.0, 1e-6, -1e-6), CrossEntropy(20.0), np.eye(10)[rng.integers(0, 10, 20)])
    np.testing.assert_allclose(native.solve(network, g, x, phases).voltages,
                               engine.solve(network, g, x, phases).voltages, atol=1e-6, rtol=0)


def test_native_refuses_wire_resistance(native):
    from eqprop_analog.errors import ConfigError

    network = LayeredNetwork(CircuitSpec((2, 4, 2), wire_resistance=5.0))
    with pytest.raises(ConfigError, match="ngspice"):
        native.solve(network, network.initial_conductances(np.random.default_rng(0)), np.zeros((1, 2)))


def test_diode_spread_draws_and_moves_the_states(native):
    spec = CircuitSpec((5, 400, 4), amplifier_gain=2.0, diode_spread=0.5)
    currents = LayeredNetwork(spec).saturation_currents[0] / spec.diode.saturation_current
    assert currents.shape == (1, 400)
    assert currents.mean() == pytest.approx(1.0, abs=0.08) and currents.std() == pytest.approx(
        0.5, rel=0.2)
    network, g = CIRCUITS["relu-spread"]
    uniform = LayeredNetwork(CircuitSpec((5, 12, 4), amplifier_gain=2.0))
    x = np.random.default_rng(0).uniform(0, 1, (20, 5))
    spread_states = native.solve(network, g, x).voltages
    assert np.abs(spread_states - native.solve(uniform, g, x).voltages).max() > 1e-3


def test_a_strong_negative_nudge_converges_to_a_stationary_point(native):
    """At -beta strong enough to make the co-content non-convex, Newton falls back on Jacobi
    steps; once those are below the tolerance the state is stationary (KCL holds) and the solve
    ends instead of running out of iterations."""
    from eqprop_analog.config import RunConfig
    from eqprop_analog.data import load_dataset
    from eqprop_analog.engines.equations import Nudge

    config = RunConfig(dataset="digits", hidden=(8,), beta=1e-4)
    data = load_dataset("digits")
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    g = network.initial_conductances(np.random.default_rng(0), config.init_low, config.init_high)
    x, cost = data.x_train[:16], config.cost_model()
    targets = cost.targets(data.y_train[:16], data.n_classes)
    solution = native.solve(network, g, x, Phases((0.0, 1e-4, -1e-4), cost, targets))
    circuit = native.circuit(network, g)
    drive = circuit.drive(torch.as_tensor(network.input_voltages(x), dtype=torch.float64))
    state = torch.as_tensor(solution.phase(-1e-4))
    cols = list(state.split([s.stop - s.start for s in network.layer_slices], dim=1))
    nudge = Nudge(torch.full((16,), -1e-4, dtype=torch.float64), cost,
                  torch.as_tensor(targets, dtype=torch.float64))
    residual = circuit.linearize(cols, drive, nudge).residual
    assert max(float(r.abs().max()) for r in residual) < 1e-9  # amperes: KCL at every node
