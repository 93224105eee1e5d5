"""``eqprop-analog verify``: each statement end to end at the test suite's size (--quick), its
figures and verify.json, and one-line errors for bad input."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from eqprop_analog.cli import main
from eqprop_analog.config import RunConfig
from eqprop_analog.errors import ConfigError
from eqprop_analog.theory import bias
from eqprop_analog.theory.verify import VerifyRequest

EXAMPLES = Path(__file__).resolve().parents[1] / "circuits" / "examples"


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
    assert set(result["relmse"]) == {"prototypical-1h", "energy-based-1h", "circuit"}
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


def test_rbp_on_the_native_engine_alone_with_the_nodes_capacitance(capsys, tmp_path):
    result = verify(capsys, tmp_path, "rbp", "--engine", "native")
    assert result["engine"] == "native" and "ngspice" not in result
    assert max(result["relmse_neurons"].values()) < 1e-4
    larger = verify(capsys, tmp_path / "c", "rbp", "--engine", "native",
                    "--node-capacitance", "3e-10")
    assert larger["node_capacitance"] == 3e-10
    assert larger["t_end"] == pytest.approx(3 * result["t_end"], rel=1e-9)  # t = C / G


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


def test_bias_training_reads_finished_runs_back_and_refuses_other_ones(tmp_path):
    """A killed verify bias loses no run: a finished run is read back, not trained again; a run
    folder that holds a run of other options is refused instead of being reported."""
    request = VerifyRequest(RunConfig(), (3, 4, 2), out=tmp_path, quick=True, log=lambda _: None)
    bias.training(request)
    for kind in ("symmetric", "one-sided", "random-sign"):
        summary = tmp_path / f"train-{kind}-seed0" / "summary.json"
        summary.write_text(json.dumps({**json.loads(summary.read_text()), "test_accuracy": 0.5}))
    table = bias.training(request)
    assert all(row["test_accuracy"] == [0.5] for row in table["estimators"].values())
    other = replace(request, config=replace(RunConfig(), input_gain=3.0))
    with pytest.raises(ConfigError, match="other options"):
        bias.training(other)


@pytest.mark.parametrize("flags, words", [
    (["gdu", "--layers", "4,3"], "hidden layer"),
    (["gdu", "--layers", "4,x,3"], "--layers"),
    (["gdu", "--beta", "-1"], "--beta"),
    (["gdu", "--beta", "nan"], "--beta"),
    (["gdu", "--beta", "2"], "--beta"),
    (["nonsense"], "statement"),
    (["gdu", "--engine", "ngspice"], "runs on native only"),
    (["asymmetry", "--engine", "native"], "runs on ngspice only"),
    (["asymmetry", "--amplifier-gain", "none"], "amplifier_gain"),
    (["asymmetry", "--signed-weights", "differential-pairs", "--amplifier-gain", "none"],
     "amplifier_gain"),
    (["rbp", "--wire-resistance", "1"], "energy function"),
    (["gdu", "--node-capacitance", "0"], "node_capacitance"),
    (["asymmetry", "--amplifier-model", f"{EXAMPLES}/opamp_amplifier.lib:OPAMP_BIDIR"],
     "leave amplifier_model unset"),
    (["rbp", "--neuron-model", f"{EXAMPLES}/mosfet_neuron.lib:NMOS_RELU"],
     "leave neuron_model unset"),
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
    with pytest.raises(SystemExit) as refused:  # by the flag's own check, as argparse exits
        main(["verify", "gdu", "--out", str(tmp_path / "f")])
    assert refused.value.code == 2 and "is a file" in capsys.readouterr().err
