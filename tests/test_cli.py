"""The command line: results as JSON, and one-line errors with a non-zero exit for bad input."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


def run_cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "eqprop_analog.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


def assert_one_line_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.ngspice
def test_train_json_summary(tmp_path):
    result = run_cli("train", "--dataset", "xor", "--hidden", "8", "--epochs", "2",
                     "--batch-size", "4", "--lr", "2e-9", "--out", str(tmp_path / "run"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("dataset", "engine", "epochs", "train_accuracy", "test_accuracy", "seconds",
                "run_dir"):
        assert key in summary
    assert summary["epochs"] == 2 and summary["engine"] == "ngspice"


def test_compile_writes_netlist_and_weight_map(tmp_path):
    out = tmp_path / "net.cir"
    result = run_cli("compile", "--layers", "64,32,10", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.count("\nR_L1_") == (128 + 2) * 32 and text.rstrip().endswith(".end")
    weights = (tmp_path / "net.weights.csv").read_text().splitlines()
    assert weights[0] == "element,layer,row,column,from_net,to_net,conductance"
    assert len(weights) == 1 + (128 + 2) * 32 + (32 + 2) * 10


@pytest.mark.ngspice
def test_gradcheck_json():
    result = run_cli("gradcheck", "--layers", "3,4,2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["reference"] == "finite-differences"
    assert report["cosine"] >= 0.9999 and report["relative_error"] <= 1e-3


@pytest.mark.parametrize("engine", ["ngspice", "native"])
def test_gradcheck_against_the_implicit_gradient(engine, tmp_path):
    plot = tmp_path / "bias.png"
    result = run_cli("gradcheck", "--reference", "implicit", "--layers", "64,32,10", "--engine",
                     engine, "--sweep", "--plot", str(plot), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["reference"] == "implicit" and report["cosine"] >= 0.9999
    assert [row["layer"] for row in report["per_layer"]] == [1, 2]
    assert abs(report["fitted_order"]["one-sided"] - 1) < 0.15
    assert abs(report["fitted_order"]["symmetric"] - 2) < 0.15
    assert plot.stat().st_size > 0


def test_malformed_config(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[training\nepochs = 3\n")
    assert_one_line_error(run_cli("train", "--config", str(config)), "not valid TOML")


def test_unknown_config_option(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[training]\nepoch = 3\n")
    assert_one_line_error(run_cli("train", "--config", str(config)), "unknown option 'epoch'")


def test_g_min_not_below_g_max(tmp_path):
    assert_one_line_error(run_cli("train", "--g-min", "1e-4", "--g-max", "1e-5",
                                  "--out", str(tmp_path / "r")), "g_min", "g_max")


def test_nan_features(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n0.1,0.2,0\n0.3,nan,1\n0.5,0.6,1\n0.7,0.1,0\n")
    assert_one_line_error(run_cli("train", "--dataset", str(data), "--out", str(tmp_path / "r")),
                          "NaN")


def test_wrong_width_features(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("0.1,0.2,0\n0.3,0.4,0.5,1\n0.5,0.6,1\n")
    assert_one_line_error(run_cli("train", "--dataset", str(data), "--out", str(tmp_path / "r")),
                          "columns")


def test_output_path_that_is_a_folder(tmp_path):
    assert_one_line_error(run_cli("compile", "--layers", "4,3", "-o", str(tmp_path)), str(tmp_path))


def test_too_few_samples_to_split(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("0.1,0.2,0\n0.3,0.4,1\n")
    assert_one_line_error(run_cli("train", "--dataset", str(data), "--out", str(tmp_path / "r")),
                          "split")


def test_bad_list_flag():
    assert_one_line_error(run_cli("train", "--hidden", "64,abc"), "--hidden")


@pytest.mark.parametrize("command", [["train", "--dataset", "xor", "--epochs", "1"],
                                     ["gradcheck"]])
def test_missing_libngspice(tmp_path, command):
    result = run_cli(*command, *(["--out", str(tmp_path / "r")] if command[0] == "train" else []),
                     env={"EQPROP_NGSPICE_LIBRARY": str(tmp_path / "nothing.so")})
    assert_one_line_error(result, "EQPROP_NGSPICE_LIBRARY")


def test_library_that_does_not_load(tmp_path):
    fake = tmp_path / "libngspice.so.0"
    fake.write_text("not a library")
    result = run_cli("gradcheck", env={"EQPROP_NGSPICE_LIBRARY": str(fake)})
    assert_one_line_error(result, "libngspice")


@pytest.mark.parametrize("flags, words", [
    (["--device", "memristor", "--pulse", "3"], ["pulse", "(0, 1]"]),
    (["--stuck", "1.5"], ["stuck", "[0, 1)"]),
    (["--read-noise-floor=-1e-6"], ["read_noise_floor", ">= 0"]),
    (["--device", "quantized", "--levels", "1"], ["levels", ">= 2"]),
])
def test_bad_device_options(tmp_path, flags, words):
    assert_one_line_error(run_cli("train", "--dataset", "xor", *flags, "--out",
                                  str(tmp_path / "r")), *words)


def test_native_engine_refuses_wire_resistance(tmp_path):
    assert_one_line_error(run_cli("train", "--dataset", "xor", "--engine", "native",
                                  "--wire-resistance", "10", "--out", str(tmp_path / "r")),
                          "wire_resistance", "ngspice")


def test_train_with_differential_pairs_exports_their_netlist(tmp_path):
    result = run_cli("train", "--dataset", "iris", "--hidden", "6", "--epochs", "2",
                     "--engine", "native", "--signed-weights", "differential-pairs",
                     "--out", str(tmp_path / "run"), "--json")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "run" / "network.cir").read_text()
    assert text.count(" BIDIR_DIFF_AMP gain=") == 6 and "E_IN" not in text
    assert text.count("\nR_L1_") == (4 + 2) * 12  # single-ended inputs, two columns per unit


def test_differential_pairs_with_ideal_diodes(tmp_path):
    config = tmp_path / "pairs.toml"
    config.write_text('[circuit]\nsigned_weights = "differential-pairs"\nideal_diodes = true\n'
                      'relu_bias = 0.0\n[engine]\nengine = "native"\n')
    assert_one_line_error(run_cli("train", "--config", str(config)), "ideal diodes",
                          "doubled-inputs")


def test_plot_without_sweep_is_refused():
    assert_one_line_error(run_cli("gradcheck", "--plot", "x.png", "--engine", "native"),
                          "--plot", "--sweep")


@pytest.mark.parametrize("flags, words", [
    (["--ideal-diodes", "--engine", "native"], "relu_bias = 0"),
    (["--ideal-diodes", "--relu-bias", "0"], "use the native engine"),
])
def test_ideal_diodes_need_the_native_engine_and_no_relu_bias(flags, words, tmp_path):
    assert_one_line_error(run_cli("train", "--dataset", "xor", *flags, "--out",
                                  str(tmp_path / "run")), words)
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def native_xor(out, *flags):
    return run_cli("train", "--dataset", "xor", "--hidden", "4", "--engine", "native",
                   "--no-progress", "--out", str(out), *flags)


def test_resume_with_fewer_epochs_than_done_is_refused(tmp_path):
    assert native_xor(tmp_path / "run", "--epochs", "3").returncode == 0
    result = run_cli("train", "--resume", str(tmp_path / "run"), "--epochs", "2")
    assert_one_line_error(result, "trained 3 epochs already", "above 3")
    assert "resume with" not in result.stderr  # resuming would fail alike
    assert "epochs = 3" in (tmp_path / "run" / "config.toml").read_text()  # kept as it was
    assert run_cli("train", "--resume", str(tmp_path / "run"), "--epochs", "3",
                   "--no-progress").returncode == 0  # as many: the finished run, exported again


def test_a_run_resumed_for_more_epochs_keeps_them_for_the_next_resume(tmp_path):
    run = tmp_path / "run"
    assert native_xor(run, "--epochs", "1").returncode == 0
    assert run_cli("train", "--resume", str(run), "--epochs", "2", "--no-step-energy",
                   "--no-progress").returncode == 0
    config = tomllib.loads((run / "config.toml").read_text())
    assert config["training"]["epochs"] == 2 and config["training"]["step_energy"] is False
    # a bare --resume asks for the 2 epochs config.toml now holds (it asked for 1, and was refused)
    result = run_cli("train", "--resume", str(run), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + 2


def test_the_main_job_script_passes_its_config_to_a_new_run_only(tmp_path):
    """``bash scripts/train.sh --resume DIR`` (the README's resume command), the script run with
    stand-ins for its set-up and for the CLI that print the arguments they get: a resumed run
    takes its own config (the CLI refuses --config with --resume)."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    (root / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "scripts" / "train.sh", root / "scripts")
    (root / "scripts" / "bootstrap.sh").write_text("exit 0\n")
    stand_in = root / ".venv" / "bin" / "eqprop-analog"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    stand_in.chmod(0o755)

    def passed(*args):
        result = subprocess.run(["bash", str(root / "scripts" / "train.sh"), *args],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert passed("--out", "x") == ["train", "--config", "examples/configs/digits.toml",
                                    "--out", "x"]
    for resume in (["--resume", "runs/d"], ["--resume=runs/d"], ["--res", "runs/d"]):
        assert passed(*resume, "--epochs", "2") == ["train", *resume, "--epochs", "2"]


def test_a_dataset_name_with_dollars_is_shown_as_written(tmp_path):
    rows = [f"{a},{b},{int(a != b)}" for a in (0, 1) for b in (0, 1)] * 5
    data = tmp_path / "x$^$ and 5.csv"  # "$^$" is a mathtext error if read as mathematics
    data.write_text("\n".join(rows) + "\n")
    result = run_cli("train", "--dataset", str(data), "--hidden", "4", "--engine", "native",
                     "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["dataset"] == "x$^$ and 5"
    assert (tmp_path / "run" / "curves.png").stat().st_size > 0
