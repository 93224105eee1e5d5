"""The seed theory's reference models against independent truths: RelMSE by hand, the exact
implicit gradient (the limit of BPTT, of EP and of recurrent backprop), Theorem 1's exactness
where a primitive function exists, and the seeds' orders in beta and eta."""

import numpy as np
import pytest
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config import RunConfig
from eqprop_analog.data import load_dataset
from eqprop_analog.engines import SquaredError
from eqprop_analog.learning.implicit import implicit_gradient
from eqprop_analog.theory import gdu
from eqprop_analog.theory.circuit_dynamics import CircuitEuler
from eqprop_analog.theory.continual import cep_processes, relative_difference
from eqprop_analog.theory.discrete import bptt_processes, compare_gdu, ep_processes
from eqprop_analog.theory.fully_connected import EnergyBased, Prototypical
from eqprop_analog.theory.recurrent_backprop import (
    LinearisedCircuit,
    integrate_nudged_phase,
    temporal_derivatives,
)
from eqprop_analog.theory.relmse import relmse


def test_relmse_is_the_seeds_definition_by_hand():
    g = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, -1.0]])  # 2 steps, 3 elements (one never moves)
    assert relmse(g, g) == 0.0
    assert relmse(2 * g, g) == pytest.approx(0.5)  # ||g|| / ||2 g|| on each moving element
    assert relmse(-g, g) == pytest.approx(2.0)
    f = g.copy()
    f[:, 0] = 0.0  # element 0: distance = its own norm = the max norm -> 1; element 2 -> 0
    assert relmse(f, g) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same shape"):
        relmse(g, g[:1])


@pytest.fixture(scope="module")
def digits_batch():
    data = load_dataset("digits", 0)
    return data.x_train[:20], np.eye(10)[data.y_train[:20]]


def _layers(relmse_by_layer, prefix):
    return [v for k, v in relmse_by_layer.items() if k.startswith(prefix)]


def test_prototypical_one_hidden_layer_meets_the_seeds_numbers(digits_batch):
    x, y = digits_batch
    setting = gdu.FC_SETTINGS["prototypical-1h"]
    model = gdu.fc_model(setting, x, y, 0)
    s_star = model.free_state()
    bptt = bptt_processes(model, s_star, setting.steps)

    def weights(beta, estimator):
        return _layers(compare_gdu(model, setting.steps, beta, estimator, s_star, bptt).relmse(),
                       "W")

    assert max(weights(0.01, "one-sided")) < 0.02
    one_sided, symmetric = weights(0.1, "one-sided"), weights(0.1, "symmetric")
    assert all(o >= 4 * s for o, s in zip(one_sided, symmetric))


def test_energy_based_models_are_exact_up_to_the_bias_in_beta(digits_batch):
    x, y = digits_batch
    model = EnergyBased(x, y, [16, 16], np.random.default_rng(0), weight_scale=0.5)
    rows = {e: [{"beta": b, "relmse": compare_gdu(model, 60, b, e).relmse()}
                for b in (0.1, 0.01, 0.001)] for e in ("one-sided", "symmetric")}
    orders = gdu.orders(rows)
    assert all(abs(v - 1) < 0.2 for v in orders["one-sided"].values())
    assert all(abs(v - 2) < 0.2 for v in orders["symmetric"].values())
    # the prototypical model has no primitive function: its error does not vanish with beta
    proto = Prototypical(x, y, [16, 16], np.random.default_rng(0), weight_scale=1.0)
    assert max(compare_gdu(proto, 40, 1e-4, "symmetric").relmse().values()) > 1e-2


@pytest.fixture(scope="module")
def circuit():
    config = RunConfig()
    network = LayeredNetwork(config.spec_for((3, 5, 4, 2)))
    rng = np.random.default_rng(3)
    conductances = network.initial_conductances(rng, config.init_low, config.init_high)
    x = rng.uniform(0, 1, (6, 3))
    targets = rng.uniform(-0.2, 0.2, (6, 2))
    return CircuitEuler(network, conductances, x, targets)


def _implicit(model):
    free = torch.cat(model.free_state(), dim=1).numpy()
    return implicit_gradient(model.network, model.conductances, model.features, free,
                             SquaredError(), model.targets.numpy())


def test_circuit_dynamics_are_the_circuits_own(circuit):
    """Newton's free state is a fixed point of the Euler step, and the Jacobian of the currents
    is symmetric (the co-content exists) and negative definite."""
    s = circuit.free_state()
    moved = circuit.step(s, circuit.parameters, 0.0)
    assert max(float((m - v).abs().max()) for m, v in zip(moved, s)) < 1e-15
    j = circuit.jacobian()
    assert np.allclose(j, j.transpose(0, 2, 1), rtol=1e-10, atol=1e-18)
    assert np.linalg.eigvalsh(j).max() < 0


def test_bptt_and_ep_over_a_long_second_phase_give_the_implicit_gradient(circuit):
    """Seed 000 eqs. 6 and 11: the sums of BPTT's gradients and of EP's updates over the whole
    phase are the gradient of the loss at the steady state."""
    steps = 1500
    s_star = circuit.free_state()
    bptt = bptt_processes(circuit, s_star, steps)
    ep = ep_processes(circuit, s_star, steps, 1e-9)
    for l, exact in enumerate(_implicit(circuit)):
        name = circuit.parameter_names[l]
        assert relative_difference(-bptt[name].sum(0), exact) < 1e-6
        assert relative_difference(-ep[name].sum(0), exact) < 1e-3


def test_the_first_ep_update_of_the_neurons_is_minus_the_cost_gradient(circuit):
    s_star = circuit.free_state()
    ep = ep_processes(circuit, s_star, 1, 1e-7)
    expected = (torch.cat(s_star, dim=1)[:, -2:] - circuit.targets).mean(0).numpy()
    assert np.allclose(ep["out"][0], -expected, rtol=1e-6)


def test_gdu_holds_on_the_circuit_to_the_order_of_each_estimator(circuit):
    betas = (1e-6, 1e-7, 1e-8)
    s_star = circuit.free_state()
    bptt = bptt_processes(circuit, s_star, 40)
    rows = {e: [{"beta": b, "relmse": compare_gdu(circuit, 40, b, e, s_star, bptt).relmse()}
                for b in betas] for e in ("one-sided", "symmetric")}
    orders = gdu.orders(rows)
    assert all(abs(v - 1) < 0.2 for v in orders["one-sided"].values())
    assert all(abs(v - 2) < 0.2 for v in orders["symmetric"].values())
    assert max(rows["symmetric"][-1]["relmse"].values()) < 1e-4


def test_continual_ep_tends_to_ep_as_eta_shrinks(circuit):
    s_star = circuit.free_state()
    ep = ep_processes(circuit, s_star, 80, 1e-8)
    cep = cep_processes(circuit, s_star, 80, 1e-8, 1e-30)  # eq. 1.3 with no effect of eta
    for name in circuit.parameter_names:
        assert relative_difference(cep[name].sum(0), ep[name].sum(0)) < 1e-9
    largest = max(np.abs(ep[n].sum(0)).max() for n in circuit.parameter_names)
    etas = [r * 1e-8 / largest for r in (1e-3, 1e-4)]
    differences = [relative_difference(cep_processes(circuit, s_star, 80, 1e-8, eta)["G1"].sum(0),
                                       ep["G1"].sum(0)) for eta in etas]
    order = np.log(differences[0] / differences[1]) / np.log(etas[0] / etas[1])
    assert abs(order - 1) < 0.2


def test_recurrent_backprop_solved_exactly_tends_to_the_implicit_gradient(circuit):
    linear = LinearisedCircuit(circuit, 1e-10)
    _fast, slow = linear.time_constants()
    rbp = linear.error_derivatives(np.array([0.0, 60 * slow]))
    assert np.allclose(rbp.neurons["out"][0],
                       (linear.voltages[:, -2:] - circuit.targets.numpy()).mean(0))
    for l, exact in enumerate(_implicit(circuit)):
        assert relative_difference(rbp.parameters[circuit.parameter_names[l]][-1], exact) < 1e-9
        assert np.abs(rbp.parameters[circuit.parameter_names[l]][0]).max() == 0.0


def test_the_integrated_nudged_phase_is_recurrent_backprop_in_time(circuit):
    """Seed 003 Theorem 3 with the native equations: the temporal derivatives equal the error
    derivatives at every t, up to beta's bias."""
    capacitance, beta = 1e-10, 1e-10
    linear = LinearisedCircuit(circuit, capacitance)
    times = np.linspace(0, 5 * linear.time_constants()[1], 201)[1:]
    v, flows = integrate_nudged_phase(circuit, capacitance, beta, times, linear.motion(beta))
    ep = temporal_derivatives(circuit, times, v, flows, beta, linear.voltages)
    rbp = linear.error_derivatives(times)
    assert max(relmse(ep.neurons[k], rbp.neurons[k]) for k in ep.neurons) < 1e-4
    assert max(relmse(ep.parameters[k], rbp.parameters[k]) for k in ep.parameters) < 1e-4
