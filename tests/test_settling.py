"""An inference in time: its settling time against a hand-solved RC circuit, its energy balance
against ngspice's own capacitor currents, and ``evaluate --settling``."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog.analysis.settling import settling, simulate_settling, time_constant
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.cli import main
from eqprop_analog.config_files import load_config
from eqprop_analog.engines.transient import inference_transient
from eqprop_analog.errors import ConfigError, SolverError
from eqprop_analog.run import train
from eqprop_analog.spice.worker import NgspiceProcess

pytestmark = pytest.mark.ngspice
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"
C = 1e-10


@pytest.fixture(scope="module")
def process():
    with NgspiceProcess() as p:
        yield p


def test_a_single_node_settles_as_its_rc_circuit_does(process):
    """One input, one output: from rest (inputs at 0 V, the rails on) the node moves from
    V0 to Vinf as Vinf + (V0 - Vinf) exp(-t G / C), so it is within 1 % of |Vinf| after
    (C / G) ln(|Vinf - V0| / (0.01 |Vinf|))."""
    network = LayeredNetwork(CircuitSpec((1, 1)))
    g = network.initial_conductances(np.random.default_rng(2))
    x = np.array([0.8])
    column = g[0][:, 0]
    rows = np.concatenate([network.input_voltages(x[None])[0], [1.0, -1.0]])
    total = column.sum()
    v0, vinf = column[2:] @ [1.0, -1.0] / total, column @ rows / total
    expected = C / total * np.log(abs(vinf - v0) / (0.01 * abs(vinf)))
    result = simulate_settling(process, network, g, x, np.array([vinf]), C)
    assert result.time == pytest.approx(expected, rel=5e-3)


def test_the_energy_drawn_is_what_is_dissipated_plus_what_the_capacitors_store(process):
    network = LayeredNetwork(CircuitSpec((4, 6, 3), amplifier_gain=2.0))
    g = network.initial_conductances(np.random.default_rng(3))
    x = np.random.default_rng(4).uniform(0.2, 1, 4)
    tau = time_constant(network, g, C)
    transient = inference_transient(process, network, g, x, C, 30 * tau, tau / 200, tau / 1000)
    final = network.readout(transient.voltages[-1:])[0]
    result = settling(network, g, x, transient, final, C)
    assert result.energy > 0 and result.dissipated > 0  # stored: either sign, from rest
    assert result.energy == pytest.approx(result.dissipated + result.stored, rel=1e-6)
    # the stored energy again from ngspice's own capacitor currents: the integral of V C dV/dt
    end = np.searchsorted(transient.times, result.time) + 1
    t, v, i = (transient.times[:end], transient.voltages[:end],
               transient.capacitor_currents[:end])
    power = np.sum(v * i, axis=1)
    from_ngspice = float(np.sum(0.5 * (power[1:] + power[:-1]) * np.diff(t)))
    assert from_ngspice == pytest.approx(result.stored, rel=1e-3)


def test_a_transient_too_short_to_settle_is_refused(process):
    network = LayeredNetwork(CircuitSpec((1, 1)))
    g = network.initial_conductances(np.random.default_rng(2))
    x = np.array([0.8])
    tau = time_constant(network, g, C)
    transient = inference_transient(process, network, g, x, C, tau, tau / 50, tau / 1000)
    final = np.array([network.readout(transient.voltages[-1:])[0, 0] * 2])
    with pytest.raises(SolverError, match="had not settled"):
        settling(network, g, x, transient, final, C)


def test_evaluate_settling_reports_time_and_energy(tmp_path, capsys):
    run = tmp_path / "run"
    train(replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="native"), run,
          log=lambda *_: None)
    assert main(["evaluate", str(run), "--samples", "5", "--settling", "2", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    timed = json.loads(out[-1])["settling"]
    assert timed["samples"] == 2 and timed["node_capacitance_f"] == 1e-10
    assert 0 < timed["settling_time_s"]["mean"] <= timed["settling_time_s"]["max"] < 1e-3
    for sample in timed["per_sample"]:
        assert sample["energy_j"] == pytest.approx(sample["dissipated_j"] + sample["stored_j"],
                                                   rel=1e-6)
    assert any(line.startswith("settling to 1 % in") for line in out)
    with pytest.raises(SystemExit):
        main(["evaluate", str(run), "--settling", "-1"])


def test_a_run_asked_for_settling_gives_the_same_as_evaluate(tmp_path, capsys):
    """settling_samples: the finished run simulates its first test samples' inferences, as
    evaluate --settling does on the same run."""
    run = tmp_path / "run"
    summary = train(replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="native",
                            settling_samples=2), run, log=lambda *_: None)
    assert main(["evaluate", str(run), "--settling", "2", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["settling"]
    assert summary["settling"]["samples"] == 2
    for ours, theirs in zip(summary["settling"]["per_sample"], evaluated["per_sample"]):
        assert ours["time_s"] == pytest.approx(theirs["time_s"], rel=1e-9)
        assert ours["energy_j"] == pytest.approx(theirs["energy_j"], rel=1e-6)


def test_a_failed_settling_simulation_leaves_the_finished_run_standing(tmp_path, monkeypatch):
    import eqprop_analog.run as run_module

    def fails(*_):
        raise SolverError("no convergence at t = 1e-9")

    monkeypatch.setattr(run_module, "simulated_settling", fails)
    said = []
    run = tmp_path / "run"
    summary = train(replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="native",
                            settling_samples=1), run, log=said.append)
    assert "settling" not in summary and (run / "summary.json").exists()
    assert any("the settling simulation failed (no convergence at t = 1e-9)" in s and
               "--settling 1" in s for s in said), said


def test_settling_of_ideal_diodes_is_refused_when_configured():
    with pytest.raises(ConfigError, match="settling_samples simulates the circuit in ngspice"):
        replace(load_config(CONFIGS / "iris.toml"), ideal_diodes=True, relu_bias=0.0,
                settling_samples=1)


def test_a_resumed_run_may_ask_for_its_settling(tmp_path):
    run = tmp_path / "run"
    train(replace(load_config(CONFIGS / "iris.toml"), epochs=1, engine="native"), run,
          log=lambda *_: None)
    assert main(["train", "--resume", str(run), "--epochs", "2", "--settling-samples", "1",
                 "--no-progress"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["settling"]["samples"] == 1
    assert "settling time, mean (us)" in (run / "report.html").read_text()
