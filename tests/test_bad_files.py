"""Bad input files never end in a traceback: every kind of input file empty, binary,
truncated, a folder or a pipe nothing writes to; conductance files and edited netlists read
strictly; paths no file system takes; outputs that cannot be written; a report's config edited
away from its checkpoint. Each ends with one line on stderr and exit status 2."""

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cli_errors import one_line_error, run

from eqprop_analog import cli
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.spice.netlist import netlist_text, write_netlist
from eqprop_analog.spice.readback import read_conductances, read_weight_map
from eqprop_analog.sweep.results import ResultsTable


# -- damaged input files ----------------------------------------------------------------------------
def damaged(path: Path, good: bytes, damage: str) -> Path:
    """``path`` made into a damaged version of ``good``."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if damage == "folder":
        path.mkdir()
    elif damage == "pipe":  # one nothing writes into: it must not wait for a writer for ever
        os.mkfifo(path)
    else:
        path.write_bytes({"empty": b"", "binary": bytes(range(256)) * 8,
                          "truncated": good[:len(good) // 2], "nul": good[:20] + b"\x00" +
                          good[20:]}[damage])
    return path


DAMAGES = ("empty", "binary", "truncated", "nul", "folder", "pipe")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished one-epoch run folder (native engine): its config.toml and checkpoint.npz."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    assert cli.main(["train", "--dataset", "xor", "--engine", "native", "--hidden", "2",
                     "--epochs", "1", "--no-progress", "--out", str(folder)]) == 0
    return folder


def dataset_csv() -> bytes:
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.uniform(0, 1, (20, 2))]
    return ("x1,x2,label\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("kind", ["config", "sweep", "dataset", "checkpoint", "run config",
                                  "results"])
def test_a_damaged_input_file_is_one_line(kind, damage, finished_run, tmp_path, capsys):
    if kind in ("checkpoint", "run config"):
        run_dir = tmp_path / "run"
        shutil.copytree(finished_run, run_dir)
        name = "checkpoint.npz" if kind == "checkpoint" else "config.toml"
        damaged(run_dir / name, (finished_run / name).read_bytes(), damage)
        argv = ["train", "--resume", str(run_dir), "--epochs", "2", "--no-progress"]
    elif kind == "config":
        path = damaged(tmp_path / "c.toml", b'[training]\nepochs = 1\ndataset = "xor"\n', damage)
        argv = ["compile", "--layers", "2,3,2", "-o", str(tmp_path / "n.cir"), "--config",
                str(path)]
    elif kind == "sweep":
        path = damaged(tmp_path / "s.toml", b'[fixed]\nepochs = 1\n[grid]\nlr = [1e-8, 2e-8]\n',
                       damage)
        argv = ["sweep", str(path)]
    elif kind == "dataset":
        path = damaged(tmp_path / "d.csv", dataset_csv(), damage)
        argv = ["train", "--dataset", str(path), "--engine", "native", "--hidden", "2",
                "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run")]
    else:
        good = (b"run_id,status,lr,seed,test_accuracy,best_test_accuracy,train_accuracy,"
                b"test_loss,train_loss,epochs,seconds,error\n"
                b"a1,ok,1e-08,0,0.5,0.5,0.5,0.7,0.7,1,0.1,\nb2,ok,2e-08,0,0.6,0.6,0.6,0.6,0.6,1,0.1,\n")
        path = damaged(tmp_path / "results.csv", good, damage)
        argv = ["sweep-plot", str(path), "-o", str(tmp_path / "p.png")]
    code, err = run(argv, capsys)
    if code == 0:  # a cut that leaves a valid, shorter file; an empty config sets nothing
        assert (kind, damage) in {("dataset", "truncated"), ("config", "truncated"),
                                  ("config", "empty"), ("config", "pipe")}, err
        return
    assert one_line_error(code, err) is None, err


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_results_table_is_refused_before_a_sweep_resumes(damage, tmp_path):
    table = ResultsTable(tmp_path / "results.csv", ("lr",))
    table.append({"run_id": "abc", "status": "ok", "lr": 1e-8, "seed": 0, "test_accuracy": 0.5})
    table.append({"run_id": "def", "status": "failed", "lr": 2e-8, "seed": 0, "error": "x"})
    good = table.path.read_bytes()
    back = ResultsTable(table.path, ("lr",))  # the good table reads back
    assert back.done() == {"abc", "def"} and back.rows[0]["lr"] == "1e-08"
    with pytest.raises(DataError):
        ResultsTable(damaged(table.path, good, damage), ("lr",))


@pytest.fixture
def small_network():
    network = LayeredNetwork(CircuitSpec(layers=(2, 3, 2)))
    return network, network.initial_conductances(np.random.default_rng(0))


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_conductance_file_is_one_clear_error(damage, small_network, tmp_path):
    network, g = small_network
    _, weights = write_netlist(tmp_path / "n.cir", network, g)
    good = weights.read_bytes()
    for a, b in zip(read_weight_map(weights, network), g):  # the good file reads back exactly
        assert np.array_equal(a, b)
    with pytest.raises(DataError, match="conductance file"):
        read_weight_map(damaged(weights, good, damage), network)


@pytest.mark.parametrize("edit, words", [
    (lambda rows: rows[:-1], "lacks 1"),
    (lambda rows: rows + rows[-1:], "listed twice"),
    (lambda rows: rows + ["R_L9_000_000,9,0,0,a,b,1e-6"], "not a crossbar element"),
    (lambda rows: rows[:-1] + [rows[-1].rsplit(",", 1)[0] + ",-1e-6"], "finite number"),
    (lambda rows: rows[:-1] + [rows[-1].rsplit(",", 1)[0] + ",nan"], "finite number"),
    (lambda rows: rows[:-1] + [rows[-1].rsplit(",", 1)[0] + ",1e-320"], "finite number"),
    (lambda rows: rows[:-1] + [rows[-1].rsplit(",", 1)[0] + ",1e309"], "finite number"),
    (lambda rows: rows[:-1] + [rows[-1] + ",1"], "of its header"),
    (lambda rows: rows[:-1] + [rows[-1].split(",", 1)[0]], "of its header"),
])
def test_a_conductance_file_is_read_strictly(edit, words, small_network, tmp_path):
    network, g = small_network
    _, weights = write_netlist(tmp_path / "n.cir", network, g)
    rows = weights.read_text().splitlines()
    weights.write_text("\n".join([rows[0]] + edit(rows[1:])) + "\n")
    with pytest.raises(DataError, match=words):
        read_weight_map(weights, network)


def test_a_column_given_twice_is_refused_not_taken_from_the_last(small_network, tmp_path):
    network, g = small_network
    _, weights = write_netlist(tmp_path / "n.cir", network, g)
    rows = weights.read_text().splitlines()
    weights.write_text("\n".join([rows[0] + ",conductance"] + [r + ",1" for r in rows[1:]]))
    with pytest.raises(DataError, match="'conductance' twice"):
        read_weight_map(weights, network)


@pytest.mark.parametrize("cut", [0.0, 0.3, 0.6, 0.95])
def test_a_truncated_netlist_is_refused(cut, small_network):
    network, g = small_network
    text = netlist_text(network, g)
    with pytest.raises((ConfigError, DataError)):
        read_conductances(text[:int(cut * len(text))], network)


@pytest.mark.parametrize("table, line", [
    ("circuit", "hidden = " + "[" * 5000 + "]" * 5000),  # deeper than tomllib recurses
    ("circuit", 'neuron_model = "a\\u0000b.lib:N"'),
    ("circuit", 'amplifier_model = "a\\u0000b.lib:A"'),
    ("training", 'init_from = "a\\u0000b.csv"'),
])
def test_a_config_no_file_system_takes_is_one_line(table, line, capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f"[{table}]\n{line}\n")
    code, err = run(["train", "--config", str(config), "--dataset", "xor", "--engine", "native",
                     "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run")], capsys)
    assert one_line_error(code, err) is None, err


def test_a_sweep_based_on_a_path_with_a_nul_is_one_line(capsys, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nbase = "c\\u0000.toml"\n[grid]\nlr = [1e-8, 2e-8]\n')
    code, err = run(["sweep", str(sweep)], capsys)
    assert one_line_error(code, err) is None, err


def test_a_config_written_into_a_pipe_is_read(tmp_path):
    """``--config <(...)``: a pipe whose writer is still writing is read to its end."""
    read_end, write_end = os.pipe()

    def write_slowly():
        time.sleep(0.3)
        os.write(write_end, b"[circuit]\nbias_rail = 2.5\n")
        os.close(write_end)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        assert cli.main(["compile", "--layers", "2,3,2", "-o", str(tmp_path / "n.cir"),
                         "--config", f"/dev/fd/{read_end}"]) == 0
    finally:
        writer.join(timeout=10)
        os.close(read_end)
    assert "V_RAIL_P rail_p 0 DC 2.5" in (tmp_path / "n.cir").read_text()


def test_a_sweep_plot_is_written_where_it_says(capsys, tmp_path):
    table = tmp_path / "results.csv"
    table.write_text("run_id,status,lr,seed,test_accuracy,error\na1,ok,1e-08,0,0.5,\n"
                     "b2,ok,2e-08,0,0.6,\n")
    for bad in ("p.txt", str(tmp_path)):
        assert one_line_error(*run(["sweep-plot", str(table), "-o", bad], capsys)) is None
    assert cli.main(["sweep-plot", str(table), "-o", str(tmp_path / "p")]) == 0
    assert f"wrote {tmp_path / 'p.png'}" in capsys.readouterr().out
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    assert cli.main(["sweep-plot", str(table), "-o", str(tmp_path / "p.svg")]) == 0
    assert b"<svg" in (tmp_path / "p.svg").read_bytes()[:500]


@pytest.mark.parametrize("folder", ["no folder", "a file"])
def test_an_unwritable_output_is_named_as_given(folder, finished_run, capsys, tmp_path):
    (tmp_path / "a file").write_text("")
    out = tmp_path / folder / "r.html"
    code, err = run(["report", str(finished_run), "-o", str(out)], capsys)
    assert one_line_error(code, err) is None and str(out) in err and ".tmp" not in err, err


@pytest.mark.parametrize("edit", ["hidden = [9]", "hidden = [2, 2]", 'hidden = "x"',
                                  'signed_weights = "differential-pairs"'])
def test_the_report_refuses_a_config_edited_away_from_its_checkpoint(edit, finished_run, capsys,
                                                                     tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished_run, run_dir)
    config = run_dir / "config.toml"
    key = edit.split(" = ")[0]
    config.write_text("\n".join(edit if line.startswith(key + " = ") else line
                                for line in config.read_text().splitlines()) + "\n")
    code, err = run(["report", str(run_dir), "-o", str(tmp_path / "r.html")], capsys)
    assert one_line_error(code, err) is None and "config.toml" in err, err


@pytest.mark.parametrize("ohms", ["0", "-1k", "1e400", "1e-320", "nan"])
def test_an_edited_resistance_no_circuit_has_is_refused_by_name(ohms, small_network):
    network, g = small_network
    text = netlist_text(network, g)
    line = next(l for l in text.splitlines() if l.startswith("R_L1_001_000 "))
    edited = text.replace(line, " ".join(line.split()[:3] + [ohms]))
    with pytest.raises(ConfigError, match="R_L1_001_000") as error:
        read_conductances(edited, network)
    assert "\n" not in str(error.value)
