"""Device models against their closed forms and statistics, and a resumed run with device state."""

from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from eqprop_analog.devices import (
    ClippedDevice,
    FaultyDevice,
    MemristorDevice,
    PulseResponse,
    QuantizedDevice,
    Variability,
)
from eqprop_analog.errors import ConfigError

G_MIN, G_MAX = 1e-7, 1e-4


@pytest.mark.parametrize("beta", [0.0, 0.005, 1.0, 3.0, 5.0])
def test_a_pulse_of_dt_max_spans_the_range(beta):
    response = PulseResponse(G_MIN, G_MAX, beta, beta)
    assert response.potentiate(np.array(G_MIN), 1.0) == pytest.approx(G_MAX, rel=1e-12)
    assert response.depress(np.array(G_MAX), 1.0) == pytest.approx(G_MIN, rel=1e-9)


@pytest.mark.parametrize("beta", [0.005, 1.0, 3.0, 5.0])
def test_closed_form_integrates_the_rate_equations(beta):
    """The pulse response against a numerical integration of dG/dt (dt_max = 1, so C follows)."""
    response = PulseResponse(G_MIN, G_MAX, beta, beta)
    span = G_MAX - G_MIN
    c = span * np.expm1(beta) / beta
    g0, width = np.array([G_MIN, 3e-5, 7e-5]), 0.3
    up = solve_ivp(lambda t, g: c * np.exp(-beta * (g - G_MIN) / span), (0, width), g0,
                   rtol=1e-11, atol=1e-18).y[:, -1]
    down = solve_ivp(lambda t, g: -c * np.exp(-beta * (G_MAX - g) / span), (0, width), g0 + 2e-5,
                     rtol=1e-11, atol=1e-18).y[:, -1]
    np.testing.assert_allclose(response.potentiate(g0, width), up, rtol=1e-8)
    np.testing.assert_allclose(response.depress(g0 + 2e-5, width), down, rtol=1e-8)


def test_nonlinearity_slows_potentiation_near_g_max():
    response = PulseResponse(G_MIN, G_MAX, 3.0, 3.0)
    low, high = np.array(2e-6), np.array(9e-5)
    assert response.potentiate(low, 0.01) - low > 5 * (response.potentiate(high, 0.01) - high)
    linear = PulseResponse(G_MIN, G_MAX)
    assert linear.potentiate(low, 0.01) - low == pytest.approx(linear.potentiate(high, 0.01) - high)


def test_device_to_device_amplitudes_are_lognormal_with_mean_one():
    k = Variability(inter=0.5).draw_amplitudes(np.random.default_rng(0), (400_000,))
    assert k.min() > 0
    assert k.mean() == pytest.approx(1.0, abs=0.005)
    assert k.std() == pytest.approx(0.5, rel=0.02)
    assert np.log(k).std() == pytest.approx(np.sqrt(np.log(1.25)), rel=0.01)


def test_cycle_to_cycle_noise_hits_every_programmed_device_and_no_other():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX), Variability(intra=0.01), "cst", 0.02)
    g = np.full((400, 500), 5e-5)
    device.prepare((g,), seed=0)
    change = np.zeros_like(g)
    change[:200] = 1.0  # only the sign matters: potentiate the first half, leave the rest
    device.program(0, g, change, np.random.default_rng(1))
    moved = g[:200] - (5e-5 + 0.02 * (G_MAX - G_MIN))
    sigma = 0.01 * (G_MAX - G_MIN)
    assert abs(moved.mean()) < 5 * sigma / np.sqrt(moved.size)
    assert moved.std() == pytest.approx(sigma, rel=0.01)
    assert np.all(g[200:] == 5e-5)


def test_quantized_device_holds_only_its_levels():
    device = QuantizedDevice(G_MIN, G_MAX, levels=5)
    levels = np.linspace(G_MIN, G_MAX, 5)
    g = np.random.default_rng(0).uniform(G_MIN, G_MAX, (50, 40))
    device.prepare((g,), seed=0)
    assert np.isin(g, levels).all()
    before = g.copy()
    device.program(0, g, np.full_like(g, 0.4 * device.step), None)  # below half a step: lost
    np.testing.assert_array_equal(g, before)
    device.program(0, g, np.full_like(g, 0.6 * device.step), None)  # rounds up one level
    expected = np.minimum(np.searchsorted(levels, before) + 1, 4)
    np.testing.assert_allclose(g, levels[expected], rtol=1e-12)


def test_rprop_grows_the_pulse_while_the_sign_holds_and_backtracks_when_it_flips():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX), scheme="rprop", pulse=0.01, eta=1.25)
    g = np.full((1, 1), 5e-5)
    device.prepare((g,), seed=0)
    span, history = G_MAX - G_MIN, [g.copy()]
    for sign in (+1, +1, -1, -1, -1):
        device.program(0, g, np.full_like(g, sign), None)
        history.append(g.copy())
    steps = np.diff(np.array(history)[:, 0, 0]) / span
    np.testing.assert_allclose(steps[:2], [0.01, 0.01])  # the width starts at its cap
    assert steps[2] == pytest.approx(-steps[1])  # the flip undoes the last pulse, no new step
    np.testing.assert_allclose(steps[3:], [-0.01 / 1.25, -0.01])  # shrunk, then growing again


def test_write_verify_programs_the_requested_change_exactly():
    device = MemristorDevice(PulseResponse(G_MIN, G_MAX, 5.0, 5.0), Variability(1.0, 0.05),
                             "write-verify")
    g = np.full((3, 3), 5e-5)
    device.prepare((g,), seed=0)
    device.program(0, g, np.full_like(g, 1e-6), np.random.default_rng(0))
    np.testing.assert_allclose(g, 5.1e-5, rtol=1e-12)


def test_stuck_devices_stay_and_reads_are_noisy():
    device = FaultyDevice(ClippedDevice(G_MIN, G_MAX), read_noise=0.05, stuck=0.1)
    g = np.full((300, 300), 5e-5)
    device.prepare((g,), seed=3)
    stuck = (g == G_MIN) | (g == G_MAX)
    assert stuck.mean() == pytest.approx(0.1, abs=0.005)
    assert (g[stuck] == G_MIN).mean() == pytest.approx(0.5, abs=0.03)
    before = g.copy()
    device.program(0, g, np.full_like(g, 1e-6), None)
    np.testing.assert_array_equal(g[stuck], before[stuck])
    assert np.all(g[~stuck] == 5.1e-5)
    (seen,) = device.read((g,), np.random.default_rng(0))
    ratio = seen[~stuck] / g[~stuck] - 1
    assert ratio.std() == pytest.approx(0.05, rel=0.02) and abs(ratio.mean()) < 1e-3


def test_read_noise_floor_adds_to_the_relative_noise():
    """Independent relative and absolute noise: variance (0.05 G)^2 + floor^2 on every read."""
    floor = 2e-6
    device = FaultyDevice(ClippedDevice(G_MIN, G_MAX), read_noise=0.05, read_noise_floor=floor)
    g = np.full((400, 400), 5e-5)
    device.prepare((g,), seed=0)
    (seen,) = device.read((g,), np.random.default_rng(1))
    sigma = np.hypot(0.05 * 5e-5, floor)
    assert seen.std() == pytest.approx(sigma, rel=0.02)
    assert abs(seen.mean() - 5e-5) < 4 * sigma / 400  # unbiased (4 standard errors)
    (floor_only,) = FaultyDevice(ClippedDevice(G_MIN, G_MAX), read_noise_floor=floor).read(
        (g,), np.random.default_rng(2))
    assert floor_only.std() == pytest.approx(floor, rel=0.02)


@pytest.mark.parametrize("make", [
    lambda: MemristorDevice(PulseResponse(G_MIN, G_MAX), scheme="cst", pulse=2.0),
    lambda: MemristorDevice(PulseResponse(G_MIN, G_MAX), scheme="sgd"),
    lambda: PulseResponse(G_MIN, G_MAX, -1.0, 0.0),
    lambda: QuantizedDevice(G_MIN, G_MAX, levels=1),
    lambda: FaultyDevice(ClippedDevice(G_MIN, G_MAX), stuck=1.0),
])
def test_bad_device_options_are_refused(make):
    with pytest.raises(ConfigError):
        make()


def test_a_resumed_run_keeps_the_devices_state(tmp_path):
    """RProp widths and signs travel in the checkpoint; device-to-device draws and stuck devices
    come back from the seed; noise streams are per epoch: 2 + 1 epochs equal 3."""
    from dataclasses import replace

    from eqprop_analog.config_files import load_config
    from eqprop_analog.engines.native import NativeEngine
    from eqprop_analog.learning.checkpoint import load_checkpoint, load_device_state
    from eqprop_analog.run import train

    configs = Path(__file__).resolve().parents[1] / "examples" / "configs"
    config = replace(load_config(configs / "iris.toml"), epochs=3, engine="native",
                     device="memristor", scheme="rprop", pulse=0.01, nonlinearity=3.0,
                     eps_intra=0.002, eps_inter=0.3, read_noise=0.01, stuck=0.02)
    quiet = lambda *a: None  # noqa: E731
    train(config, tmp_path / "straight", engine=NativeEngine(), log=quiet)
    train(replace(config, epochs=2), tmp_path / "resumed", engine=NativeEngine(), log=quiet)
    train(config, tmp_path / "resumed", engine=NativeEngine(), log=quiet, resume=True)
    for a, b in zip(load_checkpoint(tmp_path / "straight")[1],
                    load_checkpoint(tmp_path / "resumed")[1]):
        np.testing.assert_array_equal(a, b)
    state = load_device_state(tmp_path / "resumed")
    assert {"rprop_width_0", "rprop_sign_1", "rprop_last_0"} <= set(state)
    assert state["rprop_width_0"].min() < 0.01  # some widths have shrunk
