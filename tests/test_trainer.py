"""The trainer handed its parts, with no run config: it learns, checkpoints, resumes exactly, and
follows its learning-rate schedule. learning/ does not import the config."""

import subprocess
import sys

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.data import load_dataset
from eqprop_analog.devices import ClippedDevice
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.engines.nudging import CrossEntropy
from eqprop_analog.errors import ConfigError
from eqprop_analog.learning.checkpoint import load_checkpoint
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.learning.trainer import LearningRates, Trainer, TrainingOptions


def iris_trainer(run_dir, epochs, lr=(5e-9, 5e-9)):
    data = load_dataset("iris")
    network = LayeredNetwork(CircuitSpec((4, 16, 3), amplifier_gain=4.0))
    options = TrainingOptions(LearningRates(lr, 0.92), epochs=epochs, batch_size=8, seed=3)
    return Trainer(network, NativeEngine(), CrossEntropy(20.0), EPEstimator("symmetric", 1e-6),
                   ClippedDevice(1e-7, 1e-4), options, data, run_dir, progress=False,
                   log=lambda message: None)


def test_a_trainer_of_parts_learns_iris(tmp_path):
    result = iris_trainer(tmp_path, epochs=10).fit()
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.final["test_accuracy"] >= 0.8
    assert load_checkpoint(tmp_path)[0] == 10


def test_resume_continues_exactly(tmp_path):
    straight = iris_trainer(tmp_path / "a", epochs=4).fit()
    iris_trainer(tmp_path / "b", epochs=2).fit()
    resumed = iris_trainer(tmp_path / "b", epochs=4).fit(resume=True)
    for a, b in zip(straight.conductances, resumed.conductances, strict=True):
        np.testing.assert_array_equal(a, b)
    assert [h["train_loss"] for h in straight.history] == [h["train_loss"] for h in
                                                          resumed.history]


def test_learning_rate_schedule_decays_per_epoch():
    schedule = LearningRates((4e-8, 1e-8), 0.5)
    assert schedule.at(1) == (4e-8, 1e-8)
    assert schedule.at(3) == pytest.approx((1e-8, 2.5e-9))


def test_one_learning_rate_per_crossbar_is_required(tmp_path):
    with pytest.raises(ConfigError, match="3 learning rates for 2 crossbars"):
        iris_trainer(tmp_path, epochs=1, lr=(1e-9, 1e-9, 1e-9))


def test_learning_does_not_import_the_config():
    code = ("import sys, eqprop_analog.learning.trainer, eqprop_analog.learning.export; "
            "print('eqprop_analog.config' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
