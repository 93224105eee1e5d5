"""``eqprop-analog export``: the hand-off folder of a trained run, its test bench run in the
stand-alone ``ngspice -b`` against the training engine's outputs, and one-line errors."""

import csv
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog.cli import main
from eqprop_analog.config_files import load_config
from eqprop_analog.data import load_dataset
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.handoff.bench import read_outputs
from eqprop_analog.handoff.export import write_handoff
from eqprop_analog.learning.checkpoint import load_checkpoint
from eqprop_analog.run import train
from eqprop_analog.spice.readback import read_conductances

pytestmark = pytest.mark.ngspice
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"
NGSPICE = shutil.which("ngspice")


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A digits network trained for one epoch with the native engine."""
    run = tmp_path_factory.mktemp("digits-run")
    config = replace(load_config(CONFIGS / "digits.toml"), engine="native", epochs=1)
    train(config, run, log=quiet)
    return run, config


def ngspice_b(folder: Path) -> np.ndarray:
    """The bench run by hand as the README says, its output file read with numpy alone."""
    subprocess.run([NGSPICE, "-n", "-b", "bench.cir"], cwd=folder, check=True,
                   capture_output=True, timeout=600)
    return np.loadtxt(folder / "outputs.txt", skiprows=1)


def expected_rows(folder: Path) -> list[dict]:
    with open(folder / "expected.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.skipif(NGSPICE is None, reason="no ngspice program")
def test_the_bench_reproduces_the_runs_outputs_and_classes_in_ngspice_b(digits_run, tmp_path):
    run, config = digits_run
    handoff = write_handoff(run, tmp_path / "out", samples=100)
    out = handoff.folder
    rows = expected_rows(out)
    data = load_dataset(config.dataset, config.seed, config.test_fraction)
    assert [int(r["label"]) for r in rows] == data.y_test[:100].tolist()
    expected = np.array([[float(r[f"y{k}"]) for k in range(10)] for r in rows])
    table = ngspice_b(out)
    np.testing.assert_array_equal(table[:, 0], np.arange(100))
    assert np.abs(table[:, 1:] - expected).max() < 1e-6
    assert table[:, 1:].argmax(axis=1).tolist() == [int(r["predicted"]) for r in rows]
    # the export ran it too, and says so in the README
    assert handoff.check is not None and handoff.check.largest_difference < 1e-6
    assert handoff.check.same_classes and handoff.check.simulator.startswith("ngspice-")
    assert f"Checked at export: {handoff.check.simulator} ran bench.cir" in \
        (out / "README.txt").read_text()
    # the netlist holds the run's conductances
    _, conductances, _ = load_checkpoint(run)
    from eqprop_analog.circuit.layered import LayeredNetwork

    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    for a, b in zip(read_conductances((out / "network.cir").read_text(), network), conductances):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(NGSPICE is None, reason="no ngspice program")
def test_a_bench_of_differential_pairs_writes_each_pairs_difference(tmp_path):
    run = tmp_path / "run"
    config = replace(load_config(CONFIGS / "iris.toml"), engine="native", epochs=1,
                     signed_weights="differential-pairs")
    train(config, run, log=quiet)
    handoff = write_handoff(run, tmp_path / "out", samples=20)
    rows = expected_rows(handoff.folder)
    expected = np.array([[float(r[f"y{k}"]) for k in range(3)] for r in rows])
    assert np.abs(ngspice_b(handoff.folder)[:, 1:] - expected).max() < 1e-6
    assert "V(out_<k>p) - V(out_<k>n)" in (handoff.folder / "README.txt").read_text()


def test_a_truncated_or_foreign_output_file_is_refused(digits_run, tmp_path):
    run, config = digits_run
    handoff = write_handoff(run, tmp_path / "out", samples=3, check=False)
    assert "Not run at export" in (handoff.folder / "README.txt").read_text()
    from eqprop_analog.circuit.layered import LayeredNetwork

    network = LayeredNetwork(config.circuit_spec(64, 10))
    path = tmp_path / "outputs.txt"
    header = "v-sweep " + " ".join(f"y{k}" for k in range(10))
    row = " ".join(["0"] + ["0.1"] * 10)
    for text, words in [("", "header"), (header + "\n" + row, "expected 3 rows"),
                        (header + "\n" + row.replace("0.1", "x", 1), "not a number"),
                        ("v-sweep y0\n0 1\n", "header")]:
        path.write_text(text)
        with pytest.raises(DataError, match=words):
            read_outputs(path, network, 3)


@pytest.mark.parametrize("flags, words", [
    (["--samples", "0"], "--samples"),
    (["--dialect", "pspice"], "--dialect must be one of ngspice, xyce, spectre"),
])
def test_bad_export_flags_are_one_line_errors(digits_run, tmp_path, capsys, flags, words):
    run, _ = digits_run
    try:
        code = main(["export", str(run), "--out", str(tmp_path / "o"), *flags])
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0], err


def test_an_export_in_xyce_or_spectre_adds_their_files_to_the_checked_ngspice_ones(digits_run,
                                                                                  tmp_path):
    from eqprop_analog.handoff.evaluate import evaluate

    run, _ = digits_run
    out = tmp_path / "out"
    for dialect, netlist, bench in (("xyce", "network.xyce.cir", "bench.xyce.cir"),
                                    ("spectre", "network.scs", "bench.scs")):
        handoff = write_handoff(run, out, dialect=dialect, samples=5, check=False)
        assert {netlist, bench, "network.cir", "bench.cir", "expected.csv"} <= set(handoff.files)
        readme = (out / "README.txt").read_text()
        assert f"In {dialect.capitalize()}'s dialect" in readme and "NOT RUN" in readme
        assert (out / bench).read_text().count("\n") > (out / netlist).read_text().count("\n")
    assert not (out / "network.xyce.cir").exists()  # the Xyce export's, removed by the next
    with pytest.raises(ConfigError, match="evaluate reads the ngspice netlist"):
        evaluate(out / "network.scs")
    assert evaluate(out / "network.scs", conductances=out / "network.weights.csv",
                    samples=20).accuracy == evaluate(run, samples=20).accuracy


def test_an_export_of_no_run_or_onto_a_file_is_refused(digits_run, tmp_path, capsys):
    run, _ = digits_run
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "holds no trained run (no checkpoint.npz)" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as refused:  # by the flag's own check, as argparse exits
        main(["export", str(run), "--out", str(tmp_path / "file")])
    assert refused.value.code == 2 and "is a file" in capsys.readouterr().err


# -- evaluate ---------------------------------------------------------------------------------------
def test_evaluate_gives_the_runs_test_accuracy_from_its_folder_and_its_netlists(digits_run,
                                                                               tmp_path):
    from eqprop_analog.handoff.evaluate import evaluate

    run, _ = digits_run
    summary = json.loads((run / "summary.json").read_text())
    handoff = write_handoff(run, tmp_path / "out", samples=5, check=False)
    for where in (run, run / "network.cir", handoff.folder / "network.cir"):
        result = evaluate(where)
        assert result.accuracy == summary["test_accuracy"], where
        assert result.loss == pytest.approx(summary["test_loss"], rel=1e-12)


def test_evaluate_power_writes_each_samples_budget(digits_run, tmp_path, capsys):
    """--power: one row per sample whose groups are that sample's static power (its state
    solved alone) and sum to its imbalance; their means are the profile's."""
    from eqprop_analog.analysis.power import static_power
    from eqprop_analog.circuit.layered import LayeredNetwork
    from eqprop_analog.engines.native import NativeEngine

    run, _ = digits_run
    path = tmp_path / "power.csv"
    assert main(["evaluate", str(run), "--samples", "6", "--engine", "native", "--power",
                 str(path), "--json"]) == 0
    profile = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["inference"]
    rows = list(csv.DictReader(path.open()))
    assert [int(r["sample"]) for r in rows] == list(range(6))
    groups = [k for k in rows[0] if k.endswith("_w") and k not in ("supplied_w", "imbalance_w")]
    for name, mean in profile["static_power_w"].items():
        column = f"{name.replace(' ', '_')}_w"
        assert np.mean([float(r[column]) for r in rows]) == pytest.approx(mean, rel=1e-12)
    config = load_config(run / "config.toml")
    data = load_dataset(config.dataset, config.seed, config.test_fraction)
    network = LayeredNetwork(config.circuit_spec(data.n_features, data.n_classes))
    _, g, _ = load_checkpoint(run)
    for k in (0, 5):
        x = data.x_test[k:k + 1]
        alone = static_power(network, g, x, NativeEngine().solve(network, g, x).phase(0.0))
        row = rows[k]
        assert int(row["label"]) == data.y_test[k]
        for name, watts in alone.absorbed.items():
            assert float(row[f"{name.replace(' ', '_')}_w"]) == pytest.approx(
                watts[0], rel=1e-6, abs=1e-9 * alone.supplied[0])
        total = sum(float(row[c]) for c in groups)
        assert total == pytest.approx(float(row["imbalance_w"]), abs=1e-9 * alone.supplied[0])


@pytest.mark.skipif(NGSPICE is None, reason="no ngspice program")
def test_measured_conductances_change_the_outputs_as_ngspice_b_says(digits_run, tmp_path):
    """One device of the weight map doubled: evaluate's outputs against the exported bench with
    that one resistor's line edited, run in the stand-alone ngspice."""
    run, _ = digits_run
    handoff = write_handoff(run, tmp_path / "out", samples=100, check=False)
    with open(run / "network.weights.csv") as f:
        rows = list(csv.DictReader(f))
    changed = rows[300]
    changed["conductance"] = repr(2 * float(changed["conductance"]))
    measured = tmp_path / "measured.csv"
    with open(measured, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outputs = tmp_path / "outputs.csv"
    assert main(["evaluate", str(run), "--conductances", str(measured), "--samples", "100",
                 "--engine", "ngspice", "--outputs", str(outputs)]) == 0
    with open(outputs) as f:
        evaluated = np.array([[float(r[f"y{k}"]) for k in range(10)] for r in csv.DictReader(f)])
    bench = handoff.folder / "bench.cir"
    lines = bench.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(changed["element"] + " "))
    name, a, b = lines[at].split()[:3]
    lines[at] = f"{name} {a} {b} {1 / float(changed['conductance'])!r}"
    bench.write_text("\n".join(lines) + "\n")
    assert np.abs(ngspice_b(handoff.folder)[:, 1:] - evaluated).max() < 1e-6
    before = np.array([[float(r[f"y{k}"]) for k in range(10)]
                       for r in expected_rows(handoff.folder)])
    assert np.abs(evaluated - before).max() > 1e-4  # the change is seen
    # the same change made by hand in network.cir, its old "$ G=" comment left behind
    from eqprop_analog.handoff.evaluate import evaluate

    netlist = handoff.folder / "network.cir"
    text = netlist.read_text().splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith(changed["element"] + " "))
    words = text[at].split()
    words[3] = repr(1 / float(changed["conductance"]))
    text[at] = " ".join(words)
    netlist.write_text("\n".join(text) + "\n")
    edited = evaluate(netlist, samples=100, engine="ngspice").outputs
    assert np.abs(edited - evaluated).max() < 1e-9


def test_a_netlist_changed_beyond_its_conductances_is_refused_naming_the_line(digits_run,
                                                                              tmp_path, capsys):
    run, _ = digits_run
    text = (run / "network.cir").read_text()
    folder = tmp_path / "edited"
    folder.mkdir()
    (folder / "config.toml").write_text((run / "config.toml").read_text())
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("V_DBIAS_P"))
    (folder / "network.cir").write_text(text.replace("V_DBIAS_P dbias_p 0 DC 0.45",
                                                     "V_DBIAS_P dbias_p 0 DC 0.6"))
    assert main(["evaluate", str(folder / "network.cir")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {line}: 'V_DBIAS_P dbias_p 0 DC 0.6'" in err[0], err
    # a parameter after a crossbar device's value would change the device
    device = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("R_L1_"))
    lines = text.splitlines()
    lines[device - 1] = lines[device - 1].replace(" $ G=", " m=2 $ G=")
    (folder / "network.cir").write_text("\n".join(lines) + "\n")
    assert main(["evaluate", str(folder / "network.cir")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {device}:" in err[0] and "m=2" in err[0], err


@pytest.mark.parametrize("edit, words", [
    (lambda rows: rows[5].update(conductance="-1e-6"), "must be a finite number of siemens > 0"),
    (lambda rows: rows[5].update(conductance="nan"), "must be a finite number of siemens > 0"),
    (lambda rows: rows[5].update(element="R_L9_000_000"), "'R_L9_000_000' is not a crossbar"),
    (lambda rows: rows.pop(5), "lacks 1 crossbar elements"),
    (lambda rows: rows.append(dict(rows[0])), "is listed twice"),
])
def test_bad_rows_of_measured_conductances_are_one_line_errors(digits_run, tmp_path, capsys, edit,
                                                               words):
    run, _ = digits_run
    with open(run / "network.weights.csv") as f:
        rows = list(csv.DictReader(f))
    edit(rows)
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["element", "layer", "row", "column", "from_net",
                                               "to_net", "conductance"])
        writer.writeheader()
        writer.writerows(rows)
    assert main(["evaluate", str(run), "--conductances", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


@pytest.mark.skipif(NGSPICE is None, reason="no ngspice program")
def test_a_run_through_a_user_subcircuit_hands_off_the_circuit_it_was_trained_with(tmp_path):
    from eqprop_analog.errors import ConfigError

    examples = Path(__file__).resolve().parents[1] / "circuits" / "examples"
    library = tmp_path / "neuron.lib"
    library.write_text((examples / "mosfet_neuron.lib").read_text())
    config = replace(load_config(CONFIGS / "iris-mosfet-neuron.toml"), epochs=1,
                     neuron_model=f"{library}:NMOS_RELU")
    run = tmp_path / "run"
    train(config, run, log=quiet)
    handoff = write_handoff(run, tmp_path / "out", samples=10)
    assert handoff.check is not None and handoff.check.largest_difference < 1e-6
    assert ".subckt NMOS_RELU" in (handoff.folder / "bench.cir").read_text()
    # no earlier export's bench output is left beside a bench that was not run
    write_handoff(run, tmp_path / "out", samples=4, check=False)
    assert not (handoff.folder / "outputs.txt").exists()
    assert (handoff.folder / "neuron_model.lib").is_file()
    from eqprop_analog.handoff.evaluate import evaluate

    trained = evaluate(run).accuracy
    library.write_text(library.read_text().replace("W=50u", "W=60u"))
    with pytest.raises(ConfigError, match="has changed since the network in"):
        write_handoff(run, tmp_path / "out2")
    with pytest.raises(ConfigError, match="has changed since the network in"):
        evaluate(run)  # nor evaluated as another circuit
    # the export names its own copy: it travels without the original file
    library.unlink()
    moved = tmp_path / "moved"
    handoff.folder.rename(moved)
    assert evaluate(moved / "network.cir").accuracy == trained


# -- train --init-from ------------------------------------------------------------------------------
def test_training_starts_from_measured_conductances(digits_run, tmp_path):
    run, config = digits_run
    measured = run / "network.weights.csv"
    # a learning rate too small to move any conductance: the run ends where it started
    again = replace(config, init_from=str(measured), lr=(1e-30,))
    train(again, tmp_path / "again", log=quiet)
    _, start, _ = load_checkpoint(run)
    _, end, _ = load_checkpoint(tmp_path / "again")
    for a, b in zip(start, end):
        np.testing.assert_array_equal(a, b)
    assert f'init_from = "{measured}"' in (tmp_path / "again" / "config.toml").read_text()


def test_a_measured_conductance_outside_the_devices_range_is_refused(digits_run, tmp_path,
                                                                     capsys):
    run, _ = digits_run
    text = (run / "network.weights.csv").read_text().splitlines()
    cells = text[4].split(",")
    cells[-1] = "0.5"
    text[4] = ",".join(cells)
    path = tmp_path / "measured.csv"
    path.write_text("\n".join(text) + "\n")
    assert main(["train", "--config", str(CONFIGS / "digits.toml"), "--engine", "native",
                 "--init-from", str(path), "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{cells[0]} is 0.5 S, outside [g_min, g_max]" in err[0], err
