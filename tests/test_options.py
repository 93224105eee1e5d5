"""The option table: every option refuses an invalid value, from a flag and from a TOML file, with
one line that names it; "none" is the one spelling of None, where an option allows it."""

import math
import re

import pytest

from eqprop_analog.cli import compile_options, gradcheck_options, main, train_options
from eqprop_analog.config import OPTIONS, RunConfig
from eqprop_analog.config_files import apply_overrides
from eqprop_analog.errors import ConfigError
from eqprop_analog.options import Option, toml_value


def invalid_values(spec: Option) -> list:
    """Values the declaration of ``spec`` refuses, as Python values (the TOML side)."""
    if spec.kind is bool:
        return ["yes", 1, 0.5]
    if spec.kind is str:
        bad = [3, ["a"]]
        return bad + (["bogus"] if spec.choices else [])
    bad = [math.nan, math.inf, -math.inf, "abc", True, 1e300, -1e300]
    if spec.kind is int:
        bad.append(1.5)
    if spec.low is not None:
        bad.append(spec.low if spec.low_open else spec.low - max(1.0, abs(spec.low)))
    if spec.high is not None:
        bad.append(spec.high if spec.high_open else spec.high + max(1.0, abs(spec.high)))
    if spec.many:
        bad.append([])
    if not spec.none:
        bad.append("none")
    return [v for v in bad if not _accepted(spec, v)]


def _accepted(spec: Option, value) -> bool:
    try:
        spec.check(value)
    except ConfigError:
        return False
    return True


def _flag_accepted(spec: Option, text: str) -> bool:
    try:
        spec.check(spec.parse(text))
    except ConfigError:
        return False
    return True  # e.g. the text "3" for a folder name


def flag_text(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def assert_one_line_error(capsys, code: int, *words: str) -> None:
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("eqprop-analog: error: ")
    assert any(word in lines[0] for word in words), lines[0]


CASES = [(name, value) for name, spec in OPTIONS.items() for value in invalid_values(spec)]


def test_every_option_has_invalid_values_to_try():
    assert {name for name, _ in CASES} == set(OPTIONS)
    assert len(CASES) > 250


@pytest.mark.parametrize("name, value", CASES)
def test_an_invalid_value_in_a_config_file_is_one_line_naming_the_option(name, value, tmp_path,
                                                                         capsys):
    config = tmp_path / "bad.toml"
    config.write_text(f"[{OPTIONS[name].section}]\n{name} = {toml_value(value)}\n")
    code = main(["train", "--config", str(config), "--out", str(tmp_path / "run")])
    assert_one_line_error(capsys, code, name)
    assert not (tmp_path / "run").exists()


# flags of true-or-false options take no value; every other invalid value is tried as flag text
FLAG_CASES = [(command, name, value) for command, names in
              (("train", train_options()), ("compile", compile_options()),
               ("gradcheck", gradcheck_options()))
              for name, value in CASES if name in names and OPTIONS[name].kind is not bool
              and not _flag_accepted(OPTIONS[name], flag_text(value))]


@pytest.mark.parametrize("command, name, value", FLAG_CASES)
def test_an_invalid_flag_is_one_line_naming_the_option(command, name, value, tmp_path, capsys):
    required = {"train": ["--out", str(tmp_path / "run")],
                "compile": ["--layers", "3,2", "-o", str(tmp_path / "n.cir")],
                "gradcheck": []}[command]
    code = main([command, f"{OPTIONS[name].flag}={flag_text(value)}", *required])
    assert_one_line_error(capsys, code, name, OPTIONS[name].flag)
    assert not (tmp_path / "run").exists() and not (tmp_path / "n.cir").exists()


def test_every_command_checks_the_seed(capsys, tmp_path):
    for command in (["compile", "--layers", "3,2", "-o", str(tmp_path / "n.cir")], ["gradcheck"]):
        assert_one_line_error(capsys, main([*command, "--seed=-1"]), "seed")


@pytest.mark.parametrize("text", ["4,,4", "", ",4", "4,"])
def test_a_list_flag_with_an_empty_item_is_refused(text, capsys, tmp_path):
    assert_one_line_error(capsys, main(["train", f"--hidden={text}", "--out", str(tmp_path)]),
                          "--hidden")


def test_none_is_the_one_spelling_of_none():
    allowed = {name for name, spec in OPTIONS.items() if spec.none}
    assert allowed == {"amplifier_gain", "amplifier_open_loop_gain", "lr", "data_dir",
                       "spice_timeout", "spice_workers", "check_engine", "neuron_model",
                       "amplifier_model", "init_from"}
    for name in allowed:
        assert OPTIONS[name].parse("none") is None
        assert OPTIONS[name].check("none") is None
    config = apply_overrides(RunConfig(), {"amplifier_gain": "none", "lr": None})
    assert config.amplifier_gain is None and config.circuit_spec(2, 2).amplifier_gain is None
    assert config.learning_rates().at(1) == (4e-8, 1e-8)
    with pytest.raises(ConfigError, match=r'amplifier_gain must be .* or "none"'):
        apply_overrides(RunConfig(), {"amplifier_gain": 0.0})  # no longer a second spelling


def test_values_take_their_canonical_form():
    config = apply_overrides(RunConfig(), {"input_gain": 2, "hidden": 8, "lr": 1e-8})
    assert config.input_gain == 2.0 and isinstance(config.input_gain, float)
    assert config.hidden == (8,) and config.lr == (1e-8,)


def test_messages_state_the_declared_range():
    spec = OPTIONS["stuck"]
    with pytest.raises(ConfigError, match=re.escape("stuck must be a number in [0, 1), got 1.0")):
        spec.check(1.0)
    with pytest.raises(ConfigError, match=re.escape("--epochs must be an integer in [1, 1000000]")):
        OPTIONS["epochs"].parse("two")


def test_a_true_or_false_default_is_shown_as_toml_writes_it():
    assert "(default true;" in OPTIONS["step_energy"].help_text()
    assert "(default false;" in OPTIONS["ideal_diodes"].help_text()
