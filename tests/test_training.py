"""Training with ngspice in the loop: accuracy targets, determinism, checkpoints and resume."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog.config import load_config
from eqprop_analog.learning.checkpoint import load_checkpoint
from eqprop_analog.run import train
from eqprop_analog.spice.netlist import read_conductances
from eqprop_analog.circuit.layered import LayeredNetwork

CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def quiet(*_):
    pass


def test_xor_is_learned(tmp_path, engine):
    summary = train(load_config(CONFIGS / "xor.toml"), tmp_path, engine=engine, log=quiet)
    assert summary["train_accuracy"] == 1.0 and summary["test_accuracy"] == 1.0
    for name in ("network.cir", "network.weights.csv", "curves.png", "metrics.csv",
                 "summary.json", "checkpoint.npz", "config.toml"):
        assert (tmp_path / name).is_file(), name


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
