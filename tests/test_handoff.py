"""``eqprop-analog export``: the hand-off folder of a trained run, its test bench run in the
stand-alone ``ngspice -b`` against the training engine's outputs, and one-line errors."""

import csv
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog.cli import main
from eqprop_analog.config import load_config
from eqprop_analog.data import load_dataset
from eqprop_analog.errors import DataError
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
    (["--dialect", "xyce"], "writes ngspice only"),
])
def test_bad_export_flags_are_one_line_errors(digits_run, tmp_path, capsys, flags, words):
    run, _ = digits_run
    try:
        code = main(["export", str(run), "--out", str(tmp_path / "o"), *flags])
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0], err


def test_an_export_of_no_run_or_onto_a_file_is_refused(digits_run, tmp_path, capsys):
    run, _ = digits_run
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "has no checkpoint.npz" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["export", str(run), "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
