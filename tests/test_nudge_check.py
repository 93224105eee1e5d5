"""A nudge below what the engine resolves ends training with a clear message on both engines; one
too strong to be a perturbation is recorded as a warning in the run."""

import json
import subprocess
import sys

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines.base import Solution
from eqprop_analog.errors import ConfigError
from eqprop_analog.learning.nudge_check import MAX_ASYMMETRY, SIGNAL_FLOOR, NudgeResponse


class FixedResolution:
    name = "test engine"

    def resolution(self, voltages):
        return 1e-9


def solution_with(network: LayeredNetwork, plus: float, minus: float) -> Solution:
    """Free outputs at 0.1 V; the +beta and -beta phases move output 0 by ``plus``/``minus``."""
    free = np.full((2, len(network.free_nets)), 0.1)
    states = [free, free.copy(), free.copy()]
    column = network.layer_slices[-1].start
    states[1][:, column] += plus
    states[2][:, column] += minus
    return Solution((0.0, 1e-6, -1e-6), np.stack(states))


@pytest.fixture
def network():
    return LayeredNetwork(CircuitSpec(layers=(2, 3, 2)))


def test_the_floor_is_ten_times_the_resolution(network):
    resolved = NudgeResponse.of(network, FixedResolution(), solution_with(network, 1.01e-8, -1e-8))
    assert resolved.signal == pytest.approx(1.01e-8) and resolved.resolution == 1e-9
    resolved.check_resolved("test engine")
    lost = NudgeResponse.of(network, FixedResolution(), solution_with(network, 0.99e-8, -0.99e-8))
    with pytest.raises(ConfigError, match="solver noise"):
        lost.check_resolved("test engine")
    assert SIGNAL_FLOOR == 10


def test_states_that_move_alike_are_not_a_perturbation(network):
    mirrored = NudgeResponse.of(network, FixedResolution(), solution_with(network, 1e-3, -1e-3))
    assert mirrored.asymmetry == pytest.approx(0.0) and mirrored.warning() is None
    # d+ = 1e-3, d- = 1e-4 * 9.5: |d+ + d-| / |d+ - d-| = 39
    alike = NudgeResponse.of(network, FixedResolution(), solution_with(network, 1e-3, 0.95e-3))
    assert alike.asymmetry == pytest.approx(1.95 / 0.05) and alike.asymmetry > MAX_ASYMMETRY
    assert "not a small nudge" in alike.warning()


def train(*args, cwd):
    return subprocess.run([sys.executable, "-m", "eqprop_analog.cli", "train", "--no-progress",
                           *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.parametrize("engine", [pytest.param("ngspice", marks=pytest.mark.ngspice),
                                    "native"])
def test_a_nudge_below_the_resolution_ends_training_with_a_clear_message(engine, tmp_path):
    result = train("--dataset", "xor", "--hidden", "4", "--epochs", "1", "--engine", engine,
                   "--beta", "1e-20", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line, = result.stderr.strip().splitlines()
    assert f"what {engine} resolves" in line and "raise beta" in line and "resume" not in line


def test_a_nudge_too_strong_is_recorded_in_the_summary(tmp_path):
    result = train("--dataset", "xor", "--hidden", "8", "--epochs", "1", "--engine", "native",
                   "--beta", "1e-4", "--out", "run", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert len(summary["warnings"]) == 1 and "not a small nudge" in summary["warnings"][0]
    assert "warning: beta 0.0001 is not a small nudge" in result.stdout
    resumed = subprocess.run([sys.executable, "-m", "eqprop_analog.cli", "train", "--resume",
                              "run", "--epochs", "2", "--no-progress"], capture_output=True,
                             text=True, cwd=tmp_path, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["warnings"] == \
        summary["warnings"]  # kept in the checkpoint, not found again
    default = train("--dataset", "xor", "--hidden", "8", "--epochs", "1", "--engine", "native",
                    "--out", "default", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert json.loads((tmp_path / "default" / "summary.json").read_text())["warnings"] == []
