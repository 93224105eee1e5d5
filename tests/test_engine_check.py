"""The replica checked in the loop: a native run solves a fixed mini-batch on ngspice too every few
epochs, records the largest voltage difference in metrics.csv and stops where it is too large."""

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.cli import main
from eqprop_analog.config import RunConfig
from eqprop_analog.config_files import load_config
from eqprop_analog.data import load_dataset
from eqprop_analog.engines import Phases
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.engines.ngspice import NgspiceEngine
from eqprop_analog.errors import ConfigError, EngineMismatchError
from eqprop_analog.learning.checkpoint import load_checkpoint
from eqprop_analog.learning.engine_check import EngineCheck
from eqprop_analog.run import resume_config, train

pytestmark = pytest.mark.ngspice
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"


def quiet(*_):
    pass


def metrics(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def digits_native(**changes) -> RunConfig:
    return replace(load_config(CONFIGS / "digits.toml"),
                   **{"engine": "native", "epochs": 2, "hidden": (16,), **changes})


def test_a_digits_native_run_records_the_difference_to_ngspice_every_epoch(tmp_path):
    config = digits_native(check_engine="ngspice")
    messages: list[str] = []
    train(config, tmp_path, log=messages.append)
    rows = metrics(tmp_path)
    differences = [float(row["engine_difference"]) for row in rows]
    assert len(differences) == 2 and all(0 < d < 1e-6 for d in differences)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["engine_difference"] == max(differences)
    assert "checked against ngspice" in messages[0]
    assert all("|native - ngspice|" in m for m in messages if m.startswith("epoch"))
    # the last value, recomputed here from the trained conductances on both engines
    _, conductances, _ = load_checkpoint(tmp_path)
    data = load_dataset(config.dataset, config.seed, config.test_fraction)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    x, labels = data.x_train[:config.batch_size], data.y_train[:config.batch_size]
    cost = config.cost_model()
    betas = config.ep_estimator().betas(np.random.default_rng(config.seed))
    phases = Phases(betas, cost, cost.targets(labels, data.n_classes), config.nudging)
    ngspice = NgspiceEngine()
    try:
        expected = np.abs(NativeEngine().solve(network, conductances, x, phases).voltages
                          - ngspice.solve(network, conductances, x, phases).voltages).max()
    finally:
        ngspice.close()
    assert differences[-1] == pytest.approx(expected, rel=1e-6)


def test_the_check_runs_every_n_epochs(tmp_path):
    train(digits_native(epochs=3, check_engine="ngspice", check_every=2), tmp_path, log=quiet)
    assert [row["engine_difference"] != "" for row in metrics(tmp_path)] == [False, True, False]


def test_a_difference_above_the_tolerance_stops_the_run_with_the_epoch_saved(tmp_path):
    config = digits_native(check_engine="ngspice", check_tolerance=1e-15)
    with pytest.raises(EngineMismatchError, match=r"epoch 1: native and ngspice differ by .* V "
                                                  r"on the check batch, more than "
                                                  r"check_tolerance 1e-15 V"):
        train(config, tmp_path, log=quiet)
    assert load_checkpoint(tmp_path)[0] == 1
    assert float(metrics(tmp_path)[0]["engine_difference"]) > 1e-15


def test_the_cli_stops_with_one_line_and_a_nonzero_exit(tmp_path, capsys):
    code = main(["train", "--dataset", "iris", "--engine", "native", "--hidden", "8", "--epochs",
                 "1", "--check-engine", "ngspice", "--check-tolerance", "1e-15", "--out",
                 str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "check_tolerance" in err[0], err


def test_an_engine_checked_against_itself_is_refused():
    with pytest.raises(ConfigError, match="check_engine native is the training engine itself"):
        RunConfig(engine="native", check_engine="native")
    with pytest.raises(ConfigError, match="check_every must be an integer >= 1"):
        EngineCheck(NativeEngine(), every=0)


def test_an_ngspice_check_of_ideal_diodes_is_refused_at_once():
    with pytest.raises(ConfigError, match="check_engine ngspice: ideal diodes have no SPICE"):
        RunConfig(engine="native", ideal_diodes=True, relu_bias=0.0, check_engine="ngspice")


def test_a_resumed_run_may_switch_the_check_on(tmp_path):
    train(digits_native(epochs=1), tmp_path, log=quiet)
    assert "engine_difference" not in metrics(tmp_path)[0]
    config = resume_config(tmp_path, {"epochs": 2, "check_engine": "ngspice"})
    train(config, tmp_path, resume=True, log=quiet)
    rows = metrics(tmp_path)
    assert rows[0]["engine_difference"] == "" and 0 < float(rows[1]["engine_difference"]) < 1e-6


def test_a_check_whose_ngspice_process_is_lost_is_solved_again(tmp_path):
    from faults import crash_during_next_call

    from eqprop_analog.run import build_trainer

    crashed: list[bool] = []

    class CrashingOnce(EngineCheck):
        """Kills the replica's ngspice while it solves the first check batch."""

        def difference(self, *args):
            if not crashed:
                crashed.append(True)
                crash_during_next_call(self.replica.process)
            return super().difference(*args)

    config = digits_native(epochs=1, check_engine="ngspice")
    data = load_dataset(config.dataset, config.seed, config.test_fraction)
    replica = NgspiceEngine()
    messages: list[str] = []
    try:
        trainer = build_trainer(config, data, NativeEngine(), tmp_path, progress=False,
                                log=messages.append, check=CrashingOnce(replica))
        network = trainer.network
        replica.solve(network, network.initial_conductances(np.random.default_rng(0)),
                      data.x_train[:1])  # its process started, to be stopped and killed
        result = trainer.fit()
    finally:
        replica.close()
    assert crashed and 0 < result.history[-1]["engine_difference"] < 1e-6
    assert any(m.startswith("the engine check failed") and "solving it again" in m
               for m in messages), messages
