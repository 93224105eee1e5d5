"""Training with ngspice in the loop: accuracy targets, determinism, checkpoints and resume."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from faults import crash_during_next_call

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.config_files import load_config
from eqprop_analog.engines import Phases
from eqprop_analog.errors import SolverError
from eqprop_analog.learning.checkpoint import load_checkpoint
from eqprop_analog.run import train
from eqprop_analog.spice.readback import read_conductances

CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def quiet(*_):
    pass


def test_xor_is_learned(tmp_path, engine):
    summary = train(load_config(CONFIGS / "xor.toml"), tmp_path, engine=engine, log=quiet)
    assert summary["train_accuracy"] == 1.0 and summary["test_accuracy"] == 1.0
    for name in ("network.cir", "network.weights.csv", "curves.png", "metrics.csv",
                 "summary.json", "checkpoint.npz", "config.toml"):
        assert (tmp_path / name).is_file(), name
    # the run says which ngspice solved it, and with which matrix solver
    written = json.loads((tmp_path / "summary.json").read_text())
    version, klu = engine.process.library()
    assert written["ngspice_version"] == summary["ngspice_version"] == version
    assert written["matrix_solver"] == ("klu" if klu else "sparse")
    assert written["input_crossbar"] == "norton"  # xor.toml has no wire resistance


def test_trained_netlist_holds_the_trained_conductances(tmp_path, engine):
    config = replace(load_config(CONFIGS / "xor.toml"), epochs=3)
    train(config, tmp_path, engine=engine, log=quiet)
    _, conductances, history = load_checkpoint(tmp_path)
    network = LayeredNetwork(config.circuit_spec(2, 2))
    back = read_conductances((tmp_path / "network.cir").read_text(), network)
    for a, b in zip(conductances, back):
        np.testing.assert_array_equal(a, b)
    assert [h["epoch"] for h in history] == [1, 2, 3]


def test_iris_reaches_93_percent(tmp_path, engine):
    summary = train(load_config(CONFIGS / "iris.toml"), tmp_path, engine=engine, log=quiet)
    assert summary["test_accuracy"] >= 0.93


def test_resume_continues_exactly_where_it_stopped(tmp_path, engine):
    config = replace(load_config(CONFIGS / "iris.toml"), epochs=3)
    train(config, tmp_path / "straight", engine=engine, log=quiet)
    train(replace(config, epochs=2), tmp_path / "resumed", engine=engine, log=quiet)
    train(config, tmp_path / "resumed", engine=engine, log=quiet, resume=True)
    _, g_straight, h_straight = load_checkpoint(tmp_path / "straight")
    _, g_resumed, h_resumed = load_checkpoint(tmp_path / "resumed")
    for a, b in zip(g_straight, g_resumed):
        np.testing.assert_array_equal(a, b)
    assert [h["test_accuracy"] for h in h_straight] == [h["test_accuracy"] for h in h_resumed]


@pytest.mark.slow
def test_digits_reaches_95_percent_in_10_epochs(tmp_path):
    summary = train(load_config(CONFIGS / "digits.toml"), tmp_path, log=quiet)
    assert summary["epochs"] <= 10 and summary["test_accuracy"] >= 0.95


class KillsNgspiceAtBatch:
    """The real ngspice engine, whose child process dies during one chosen mini-batch."""

    def __init__(self, engine, batch_index):
        self.engine, self.batch_index, self.name = engine, batch_index, engine.name

    def solve(self, network, conductances, features, phases=Phases(), *, batch_index=None):
        if batch_index == self.batch_index and phases.nudged:
            crash_during_next_call(self.engine.process)
        return self.engine.solve(network, conductances, features, phases, batch_index=batch_index)

    def resolution(self, voltages):
        return self.engine.resolution(voltages)

    def describe(self, network=None):
        return self.engine.describe(network)

    def close(self):
        self.engine.close()


@pytest.mark.ngspice
def test_a_crash_of_ngspice_costs_one_mini_batch(tmp_path):
    from eqprop_analog.engines.ngspice import NgspiceEngine

    engine = KillsNgspiceAtBatch(NgspiceEngine(), batch_index=3)
    messages = []
    try:
        config = replace(load_config(CONFIGS / "iris.toml"), epochs=1)
        summary = train(config, tmp_path, engine=engine, log=messages.append)
    finally:
        engine.close()
    _, _, history = load_checkpoint(tmp_path)
    assert history[0]["skipped_batches"] == 1
    assert any("skipped mini-batch 3" in m and "died" in m for m in messages)
    assert summary["epochs"] == 1


class KillsNgspiceInEvaluation(KillsNgspiceAtBatch):
    """The real ngspice engine, whose child process is killed before the first ``times``
    evaluation solves (free phase only, no mini-batch index)."""

    def __init__(self, engine, times):
        super().__init__(engine, None)
        self.times = times

    def solve(self, network, conductances, features, phases=Phases(), *, batch_index=None):
        if batch_index is None and not phases.nudged and self.times > 0:
            self.times -= 1
            self.engine.solve(network, conductances, features[:1])  # a child to kill
            crash_during_next_call(self.engine.process)
        return self.engine.solve(network, conductances, features, phases, batch_index=batch_index)


@pytest.mark.ngspice
def test_an_evaluation_fault_is_retried_and_never_loses_the_epoch(tmp_path):
    from eqprop_analog.engines.ngspice import NgspiceEngine

    # one ngspice process, as the engines below: other counts agree to the solver's tolerance,
    # not to the bit, and the resumed evaluation is compared bit for bit
    config = replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="ngspice",
                     spice_workers=1)
    runs = {}
    for name, times in (("clean", 0), ("once", 1), ("always", 10 ** 6)):
        engine = KillsNgspiceInEvaluation(NgspiceEngine(), times)
        messages: list[str] = []
        try:
            runs[name] = train(config, tmp_path / name, engine=engine, log=messages.append)
        except SolverError as exc:
            runs[name] = exc
        finally:
            engine.close()
        if name == "once":
            assert any("solving it again" in m for m in messages)
    clean = load_checkpoint(tmp_path / "clean")
    assert runs["once"]["test_accuracy"] == runs["clean"]["test_accuracy"]
    # every evaluation fails: the run stops, but the trained epoch is in the checkpoint
    assert isinstance(runs["always"], SolverError)
    assert "evaluation (training batch 0) failed 3 times" in str(runs["always"])
    epoch, g_kept, history = load_checkpoint(tmp_path / "always")
    assert epoch == 1 and history == []
    for a, b in zip(g_kept, clean[1]):
        np.testing.assert_array_equal(a, b)
    resumed = train(config, tmp_path / "always", resume=True, log=quiet)  # evaluates it, once
    assert resumed["test_accuracy"] == runs["clean"]["test_accuracy"]
    _, _, history = load_checkpoint(tmp_path / "always")
    assert [h["test_loss"] for h in history] == [h["test_loss"] for h in clean[2]]


def test_native_and_ngspice_train_alike(tmp_path, engine):
    """Same seed, same updates: conductances agree to 1e-4 relative (median) after two epochs."""
    from eqprop_analog.engines.native import NativeEngine

    config = replace(load_config(CONFIGS / "iris.toml"), epochs=2)
    a = train(config, tmp_path / "ngspice", engine=engine, log=quiet)
    b = train(config, tmp_path / "native", engine=NativeEngine(), log=quiet)
    _, g_spice, _ = load_checkpoint(tmp_path / "ngspice")
    _, g_native, _ = load_checkpoint(tmp_path / "native")
    relative = np.concatenate([np.abs(x - y).ravel() / y.ravel() for x, y in zip(g_native, g_spice)])
    assert np.median(relative) < 1e-4
    assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 0.01


@pytest.mark.slow
def test_digits_native_and_ngspice_agree_after_one_epoch(tmp_path):
    config = replace(load_config(CONFIGS / "digits.toml"), epochs=1)
    from eqprop_analog.engines import make_engine

    for name in ("ngspice", "native"):
        engine = make_engine(name)
        try:
            train(config, tmp_path / name, engine=engine, log=quiet)
        finally:
            engine.close()
    _, g_spice, _ = load_checkpoint(tmp_path / "ngspice")
    _, g_native, _ = load_checkpoint(tmp_path / "native")
    relative = np.concatenate([np.abs(x - y).ravel() / y.ravel() for x, y in zip(g_native, g_spice)])
    assert np.median(relative) < 1e-4


def test_ideal_diode_network_trains_on_the_native_engine(tmp_path):
    from eqprop_analog.engines.native import NativeEngine

    config = replace(load_config(CONFIGS / "iris.toml"), ideal_diodes=True, relu_bias=0.0,
                     engine="native")
    summary = train(config, tmp_path, engine=NativeEngine(), log=quiet)
    assert summary["test_accuracy"] >= 0.9
    assert (tmp_path / "network.weights.csv").is_file()
    assert not (tmp_path / "network.cir").exists()  # ideal diodes have no SPICE model


def test_a_run_written_before_an_option_existed_resumes(tmp_path):
    from eqprop_analog.run import ADDED_SINCE, CONFIG_FILE, resume_config

    config = replace(load_config(CONFIGS / "xor.toml"), epochs=1, engine="native")
    train(config, tmp_path, log=quiet)
    path = tmp_path / CONFIG_FILE
    path.write_text("".join(line for line in path.read_text().splitlines(True)
                            if not line.startswith(ADDED_SINCE)))
    resumed = resume_config(tmp_path, {"epochs": 2})
    assert resumed == replace(config, epochs=2)
    assert train(resumed, tmp_path, resume=True, log=quiet)["epochs"] == 2


def test_a_config_written_by_an_earlier_version_resumes(tmp_path):
    """tests/data/config-3d058e6.toml is what the code of commit 3d058e6 wrote for the default
    config: every option added since must be in ADDED_SINCE for it to resume."""
    from eqprop_analog.learning.checkpoint import CHECKPOINT
    from eqprop_analog.run import CONFIG_FILE, resume_config

    old = Path(__file__).resolve().parent / "data" / "config-3d058e6.toml"
    (tmp_path / CONFIG_FILE).write_text(old.read_text())
    (tmp_path / CHECKPOINT).write_bytes(b"")  # resume_config asks only that it exists
    assert resume_config(tmp_path, {"epochs": 3}).epochs == 3


@pytest.mark.parametrize("text", ["training = 5\n", "[training]\nepochs = 1\n"])
def test_a_run_config_in_the_wrong_shape_is_refused_on_resume(text, tmp_path):
    from eqprop_analog.errors import ConfigError
    from eqprop_analog.run import CONFIG_FILE, resume_config

    train(replace(load_config(CONFIGS / "xor.toml"), epochs=1, engine="native"), tmp_path,
          log=quiet)
    (tmp_path / CONFIG_FILE).write_text(text)
    with pytest.raises(ConfigError):
        resume_config(tmp_path, {"epochs": 2})
