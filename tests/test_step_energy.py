"""The energy of a training step: the programming pulses of the memristor model (their widths
from the pulse response's inverse, against the closed form), the power of the nudged steady
states (balanced only with the currents the engine injected), and a run's energy per step against
the static power of its own states."""

import json

import numpy as np
import pytest

from eqprop_analog.analysis.power import static_power
from eqprop_analog.analysis.step_energy import (
    output_net_currents,
    phase_energy,
    phase_power,
    training_energy,
)
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.cli import main
from eqprop_analog.config import RunConfig
from eqprop_analog.data import load_dataset
from eqprop_analog.devices import (
    ClippedDevice,
    FaultyDevice,
    MemristorDevice,
    PulseResponse,
    Variability,
)
from eqprop_analog.engines.base import Phases
from eqprop_analog.engines.minimisers import NativeOptions
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.engines.nudging import make_cost
from eqprop_analog.run import train

G_MIN, G_MAX = 1e-7, 1e-4
SPAN = G_MAX - G_MIN


@pytest.mark.parametrize("beta", [0.0, 0.005, 3.0])
def test_pulse_widths_invert_the_pulse_response(beta):
    response = PulseResponse(G_MIN, G_MAX, beta, 2 * beta)
    g = np.linspace(2e-6, 9e-5, 7)
    r = np.linspace(0.0, 0.05, 7)
    k_p, k_d = np.linspace(0.5, 2.0, 7), np.linspace(1.5, 0.7, 7)
    np.testing.assert_allclose(response.widths(g, response.potentiate(g, r, k_p), k_p, k_d), r,
                               rtol=1e-7, atol=1e-15)
    np.testing.assert_allclose(response.widths(g, response.depress(g, r, k_d), k_p, k_d), r,
                               rtol=1e-7, atol=1e-15)
    # the model's own premise: two pulses of half the width make one of the whole width
    halves = response.potentiate(response.potentiate(g, r / 2), r / 2)
    np.testing.assert_allclose(response.widths(g, halves), r, rtol=1e-7, atol=1e-15)


def test_a_linear_device_needs_the_change_over_its_range():
    widths = PulseResponse(G_MIN, G_MAX).widths(np.array([5e-5, 5e-5, 5e-5]),
                                                np.array([6e-5, 5e-5, 2e-5]))
    np.testing.assert_allclose(widths, [1e-5 / SPAN, 0.0, 3e-5 / SPAN], rtol=1e-12)


def test_cst_takes_one_pulse_of_its_width_per_device_asked_to_move():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX, 3.0, 3.0), pulse=0.02,
                             pulse_energy=5e-9)
    g = np.full((4, 5), 5e-5)
    device.prepare((g,), seed=0)
    change = np.zeros_like(g)
    change[0, :3], change[2, 1] = 1e-9, -1e-6  # four devices asked, sixteen left alone
    assert device.program(0, g, change, None) == pytest.approx(4 * 0.02 * 5e-9, rel=1e-12)


def test_cst_energy_ignores_how_far_each_device_moves():
    """Device-to-device spread changes what a pulse does, not what it costs."""
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX), Variability(inter=1.0), pulse=0.01,
                             pulse_energy=1e-9)
    g = np.full((30, 30), 5e-5)
    device.prepare((g,), seed=0)
    before = g.copy()
    assert device.program(0, g, np.full_like(g, 1e-9), None) == pytest.approx(900 * 0.01 * 1e-9,
                                                                              rel=1e-12)
    moved = g - before
    assert moved.std() > 0.5 * moved.mean()


def test_rprop_energy_follows_each_pulse_width_and_its_backtracking():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX), scheme="rprop", pulse=0.01, eta=1.25,
                             pulse_energy=1e-9)
    g = np.full((1, 1), 5e-5)
    device.prepare((g,), seed=0)
    spent = [device.program(0, g, np.full_like(g, sign), None) for sign in (+1, +1, -1, -1)]
    # the cap, the cap, the flip undoing the last pulse, then the width shrunk by eta
    np.testing.assert_allclose(spent, np.array([0.01, 0.01, 0.01, 0.01 / 1.25]) * 1e-9,
                               rtol=1e-12)


def test_write_verify_is_counted_as_the_width_that_makes_the_change_as_clipped():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX), Variability(inter=0.5),
                             "write-verify", pulse_energy=2e-9)
    g = np.array([[5e-5, 9.9e-5, 5e-5]])
    device.prepare((g,), seed=1)
    k_p, k_d = device.amplitudes[0]
    before = g.copy()
    spent = device.program(0, g, np.array([[1e-5, 1e-5, -2e-5]]), None)
    moved = np.array([1e-5, G_MAX - 9.9e-5, 2e-5]) / SPAN  # the second clipped at g_max
    k = np.array([k_p[0, 0], k_p[0, 1], k_d[0, 2]])
    assert spent == pytest.approx(2e-9 * float(np.sum(moved / k)), rel=1e-9)
    assert np.all(g != before)


def test_devices_without_pulses_report_no_energy_and_faults_pass_it_on():
    g = np.full((2, 2), 5e-5)
    assert ClippedDevice(G_MIN, G_MAX).program(0, g, np.full_like(g, 1e-6), None) is None
    faulty = FaultyDevice(MemristorDevice(PulseResponse(G_MIN, G_MAX), pulse=0.1), stuck=0.5)
    faulty.prepare((g,), seed=0)
    # a stuck device is pulsed all the same
    assert faulty.program(0, g, np.full_like(g, 1e-6), None) == pytest.approx(4 * 0.1 * 1e-9)


PRECISE = NativeOptions(tolerance=1e-13)


@pytest.mark.parametrize("mode", ["exact", "current"])
@pytest.mark.parametrize("outputs", ["single", "differential"])
def test_the_nudged_states_balance_with_the_currents_that_nudged_them(mode, outputs):
    """Tellegen's sum of each nudged state is zero only with the nudging sources' power counted
    as the currents the engine injected (exact: at the nudged outputs; current: at the free
    ones); the free phase's power is the free state's static power."""
    config = RunConfig(hidden=(6,), differential_outputs=outputs == "differential")
    network = LayeredNetwork(config.circuit_spec(5, 3))
    rng = np.random.default_rng(3)
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    x = rng.random((4, 5))
    cost = make_cost("cross-entropy", 20.0)
    # a strong nudge, so that the nudging sources' power stands well above the tolerance
    phases = Phases((0.0, 2e-3, -2e-3), cost, cost.targets(np.array([0, 1, 2, 1]), 3), mode)
    solution = NativeEngine(PRECISE).solve(network, g, x, phases)
    power = phase_power(network, g, x, solution, phases)
    np.testing.assert_allclose(power[0], static_power(network, g, x, solution.phase(0.0)).supplied,
                               rtol=1e-12)
    for k, beta in enumerate(solution.betas[1:], start=1):
        v = solution.phase(beta)
        balanced = static_power(network, g, x, v, _currents(network, cost, phases, solution, beta))
        assert np.all(np.abs(balanced.imbalance) <= 1e-9 * np.abs(balanced.supplied))
        np.testing.assert_allclose(power[k], balanced.supplied, rtol=1e-12)
        unnudged = static_power(network, g, x, v)
        assert np.all(np.abs(unnudged.imbalance) > 1e-6 * np.abs(unnudged.supplied))
    energy = phase_energy(network, g, x, solution, phases, 2e-6)
    assert energy.free == pytest.approx(2e-6 * power[0].sum(), rel=1e-12)
    assert energy.nudged == pytest.approx(2e-6 * power[1:].sum(), rel=1e-12)


def _currents(network, cost, phases, solution, beta):
    """The nudging currents into the output nets, written out from their definition."""
    at = solution.phase(0.0) if phases.mode == "current" else solution.phase(beta)
    signal = -beta * cost.gradient(network.readout(at), phases.targets)
    if not network.spec.paired_outputs:
        return signal
    return np.stack([signal, -signal], axis=-1).reshape(len(signal), -1)


def test_output_net_currents_of_a_pair_enter_plus_and_leave_minus():
    network = LayeredNetwork(RunConfig(hidden=(3,), differential_outputs=True).circuit_spec(2, 2))
    np.testing.assert_array_equal(output_net_currents(network, np.array([[1.0, -2.0]])),
                                  [[1.0, -1.0, -2.0, 2.0]])


def test_a_runs_step_energy_is_its_states_static_power_and_its_pulses(tmp_path):
    """One step per epoch (the batch is the training set): the free phase's energy is the
    static power of the free states at the starting conductances times phase_time; a cst
    memristor moves every device by one pulse."""
    config = RunConfig(dataset="iris", hidden=(5,), epochs=2, batch_size=200, engine="native",
                       device="memristor", pulse=0.01, pulse_energy=3e-9, phase_time=4e-6)
    summary = train(config, tmp_path / "run", log=lambda _: None, progress=False)
    data = load_dataset("iris", config.seed, config.test_fraction)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    g = network.initial_conductances(np.random.default_rng(config.seed), config.init_low,
                                     config.init_high)
    # the one step's phases; its sums do not depend on the order of the samples
    cost = config.cost_model()
    phases = Phases((0.0, config.beta, -config.beta), cost,
                    cost.targets(data.y_train, data.n_classes))
    solution = NativeEngine(PRECISE).solve(network, g, data.x_train, phases)
    free = solution.phase(0.0)
    nudged = sum(static_power(network, g, data.x_train, solution.phase(beta),
                              _currents(network, cost, phases, solution, beta)).supplied.sum()
                 for beta in (config.beta, -config.beta))
    first = json.loads((tmp_path / "run" / "summary.json").read_text())["training_energy"]
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    header, epoch_1 = rows[0].split(","), rows[1].split(",")
    row = dict(zip(header, epoch_1))
    expected = 4e-6 * static_power(network, g, data.x_train, free).supplied.sum()
    assert float(row["step_free_phase_j"]) == pytest.approx(expected, rel=1e-6)
    assert float(row["step_programming_j"]) == pytest.approx(network.n_parameters * 0.01 * 3e-9,
                                                             rel=1e-12)
    assert float(row["step_nudged_phases_j"]) == pytest.approx(4e-6 * nudged, rel=1e-6)
    assert first == summary["training_energy"]
    assert first["phase_time_s"] == 4e-6
    assert first["total_j"]["programming"] == pytest.approx(2 * network.n_parameters * 0.01 * 3e-9,
                                                            rel=1e-12)
    assert first["epochs"] == {"free_phase": 2, "nudged_phases": 2, "programming": 2}
    assert row["steps"] == "1"


def test_a_run_without_step_energy_records_none(tmp_path):
    """--no-step-energy (a true-or-false option's --no- form) turns the accounting off."""
    assert main(["train", "--dataset", "iris", "--hidden", "5", "--epochs", "1", "--engine",
                 "native", "--device", "memristor", "--no-step-energy", "--out",
                 str(tmp_path / "run")]) == 0
    assert "step_energy = false" in (tmp_path / "run" / "config.toml").read_text()
    assert "training_energy" not in json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "step_" not in (tmp_path / "run" / "metrics.csv").read_text()
    assert "trained with step_energy = false" in (tmp_path / "run" / "report.html").read_text()


def test_the_runs_totals_count_each_epochs_steps_and_only_the_epochs_that_recorded_them():
    """An epoch that skipped mini-batches took fewer steps; a run resumed from one that did not
    record energy has earlier rows without it."""
    history = [{"epoch": 1, "skipped_batches": 0},
               {"epoch": 2, "steps": 10, "skipped_batches": 0, "step_free_phase_j": 2.0,
                "step_nudged_phases_j": 4.0},
               {"epoch": 3, "steps": 8, "skipped_batches": 2, "step_free_phase_j": 3.0,
                "step_nudged_phases_j": 6.0, "step_programming_j": True}]
    energy = training_energy(history, 2e-6)
    assert energy == {"phase_time_s": 2e-6,
                      "per_step_j": {"free_phase": 3.0, "nudged_phases": 6.0},
                      "total_j": {"free_phase": 44.0, "nudged_phases": 88.0},
                      "epochs": {"free_phase": 2, "nudged_phases": 2}}
