"""``eqprop-analog verify``: each statement end to end at the test suite's size (--quick), its
figures and verify.json, and one-line errors for bad input."""

import json

import pytest

from eqprop_analog.cli import main
from eqprop_analog.config import RunConfig
from eqprop_analog.theory import bias
from eqprop_analog.theory.verify import VerifyRequest


def verify(capsys, tmp_path, statement, *flags):
    out = tmp_path / statement
    assert main(["verify", statement, "--quick", "--json", "--out", str(out), *flags]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    saved = json.loads((out / "verify.json").read_text())
    assert printed == saved
    assert list(out.glob("*.png")), "no figure written"
    return saved


def test_gdu(capsys, tmp_path):
    result = verify(capsys, tmp_path, "gdu")
    assert {"relmse", "beta", "K"} <= set(result)
    proto = result["by_beta"]["prototypical-1h"]
    one_sided = {r["beta"]: r["relmse"] for r in proto["one-sided"]}
    symmetric = {r["beta"]: r["relmse"] for r in proto["symmetric"]}
    weights = [k for k in one_sided[0.1] if k.startswith("W")]
    assert all(one_sided[0.01][w] < 0.02 for w in weights)
    assert all(one_sided[0.1][w] >= 4 * symmetric[0.1][w] for w in weights)
    for estimator, order in (("one-sided", 1), ("symmetric", 2)):
        assert all(abs(v - order) < 0.2 for v in result["orders"]["circuit"][estimator].values())


def test_cep(capsys, tmp_path):
    result = verify(capsys, tmp_path, "cep")
    assert all(abs(order - 1) < 0.2 for order in result["orders"].values())
    assert {"relmse_to_rbp", "orders"} <= set(result)


@pytest.mark.ngspice
def test_rbp(capsys, tmp_path):
    result = verify(capsys, tmp_path, "rbp")
    assert result["engine"] == "ngspice" and result["t_end"] > 0
    for key in ("relmse_neurons", "relmse_parameters"):
        assert max(result[key].values()) < 1e-2
        assert max(result["native"][key].values()) < 1e-4
    # truncated EP and truncated recurrent backprop converge to the gradient together
    assert result["truncation"]["ep"][-1] < 1e-2 < result["truncation"]["ep"][0]


@pytest.mark.ngspice
def test_asymmetry(capsys, tmp_path):
    result = verify(capsys, tmp_path, "asymmetry", "--layers", "3,4,4,2")
    by_gain = {r["value"]: r for r in result["by_open_loop_gain"]}
    assert by_gain[1e2]["cosine"] < by_gain[1e7]["cosine"]
    by_ratio = {r["value"]: r for r in result["by_gain_ratio"]}
    assert by_ratio[1.0]["cosine"] >= 0.9999
    assert by_ratio[0.5]["cosine"] < by_ratio[1.0]["cosine"] > by_ratio[2.0]["cosine"]


@pytest.mark.ngspice
def test_bias(capsys, tmp_path):
    result = verify(capsys, tmp_path, "bias", "--layers", "3,4,4,2")
    for engine in ("native", "ngspice"):
        assert abs(result[engine]["one_sided_slope"] - 1) < 0.2
        assert abs(result[engine]["symmetric_slope"] - 2) < 0.2
    assert set(result["training"]["estimators"]) == {"symmetric", "one-sided", "random-sign"}


def test_bias_training_reads_finished_runs_back(tmp_path):
    """A killed verify bias loses no run: a finished run's summary is read, not trained again."""
    request = VerifyRequest(RunConfig(), (3, 4, 2), out=tmp_path, quick=True, log=lambda _: None)
    for kind in ("symmetric", "one-sided", "random-sign"):
        run_dir = tmp_path / f"train-{kind}-seed0"
        run_dir.mkdir()
        (run_dir / "summary.json").write_text(json.dumps({"test_accuracy": 0.5}))
    table = bias.training(request)
    assert all(row["test_accuracy"] == [0.5] for row in table["estimators"].values())


@pytest.mark.parametrize("flags, words", [
    (["gdu", "--layers", "4,3"], "hidden layer"),
    (["gdu", "--layers", "4,x,3"], "--layers"),
    (["gdu", "--beta", "-1"], "--beta"),
    (["gdu", "--beta", "nan"], "--beta"),
    (["gdu", "--beta", "2"], "--beta"),
    (["nonsense"], "statement"),
])
def test_bad_input_is_one_line(capsys, tmp_path, flags, words):
    try:
        code = main(["verify", *flags, "--out", str(tmp_path / "v")])
    except SystemExit as exc:  # argparse's own checks end the program
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_an_output_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    assert main(["verify", "gdu", "--out", str(tmp_path / "f")]) == 2
    assert "is a file" in capsys.readouterr().err
