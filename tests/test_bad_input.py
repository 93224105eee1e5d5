"""Bad values never end in a traceback: every rejected value of every option, on every command
and in a config file, and every rejected command argument, ends with one line on stderr and
exit status 2 (bad input files: test_bad_files.py)."""

import tomllib

import pytest
from cli_errors import one_line_error, run

from eqprop_analog import cli
from eqprop_analog.config import OPTIONS
from eqprop_analog.errors import ConfigError

# flag texts a careless or hostile user types: words, non-finite, huge, tiny, signs, empty lists
TEXTS = ("abc", "nan", "inf", "-inf", "1e300", "-1e300", "1e-300", "-1", "0", "", " ", "1.5",
         "none", "1,,2", "0x10", "1e", "\x00", "é", "1e-320")
# values a TOML file can hold that no option takes, or takes only within its range
TOML_VALUES = ('"abc"', "nan", "inf", "-inf", "1e300", "1e-300", "-1", "0", "1979-05-27",
               "07:32:00", "[]", '[1, "a"]', "{a = 1}", "true", '"none"', '""', "1e-320")


def rejected(name: str, text: str) -> bool:
    """Whether the option table refuses ``text`` for option ``name`` on its own."""
    spec = OPTIONS[name]
    try:
        spec.check(spec.parse(text))
    except ConfigError:
        return True
    return False


COMMANDS = {
    "train": (cli.train_options(), ["train", "--dataset", "xor", "--engine", "native",
                                    "--hidden", "2", "--epochs", "1", "--no-progress"]),
    "compile": (cli.compile_options(), ["compile", "--layers", "2,3,2"]),
    "gradcheck": (cli.gradcheck_options(), ["gradcheck", "--layers", "2,3,2", "--engine",
                                            "native"]),
    "verify": (cli.verify_options(), ["verify", "cep", "--quick", "--layers", "2,3,2"]),
}


@pytest.mark.parametrize("command, name", [(c, n) for c, (names, _) in COMMANDS.items()
                                           for n in names])
def test_every_rejected_flag_value_is_one_line(command, name, capsys, tmp_path):
    base = COMMANDS[command][1] + (["-o", str(tmp_path / "n.cir")] if command == "compile" else
                                   ["--out", str(tmp_path / "run")] if command in ("train", "verify")
                                   else [])
    spec = OPTIONS[name]
    texts = ["abc"] if spec.kind is bool else [t for t in TEXTS if rejected(name, t)]
    assert texts, f"no bad value found for {name}"
    failures = []
    for text in texts:
        code, err = run(base + [spec.flag, text], capsys)
        problem = one_line_error(code, err)
        if problem:
            failures.append(f"{spec.flag} {text!r}: {problem}")
    assert not failures, failures
    assert not (tmp_path / "run").exists() and not (tmp_path / "n.cir").exists()


@pytest.mark.parametrize("name", list(OPTIONS))
def test_every_rejected_config_value_is_one_line(name, capsys, tmp_path):
    config = tmp_path / "c.toml"
    failures = []
    tried = 0
    for literal in TOML_VALUES:
        value = tomllib.loads(f"v = {literal}")["v"]
        try:
            OPTIONS[name].check(value)
            continue  # a value this option takes
        except ConfigError:
            tried += 1
        config.write_text(f"[{OPTIONS[name].section}]\n{name} = {literal}\n")
        code, err = run(["compile", "--layers", "2,3,2", "-o", str(tmp_path / "n.cir"),
                         "--config", str(config)], capsys)
        problem = one_line_error(code, err)
        if problem or name not in err:
            failures.append(f"{name} = {literal}: {problem or err}")
    assert tried and not failures, failures


def test_a_bad_fixed_value_in_a_sweep_is_one_line(capsys, tmp_path):
    failures = []
    for name, spec in OPTIONS.items():
        if name == "seed":
            continue
        for literal in ("nan", "1e300", '"abc"', "1979-05-27"):
            value = tomllib.loads(f"v = {literal}")["v"]
            try:
                spec.check(value)
                continue
            except ConfigError:
                pass
            sweep = tmp_path / "s.toml"
            sweep.write_text(f"[fixed]\n{name} = {literal}\n[grid]\nepochs = [1]\n")
            code, err = run(["sweep", str(sweep)], capsys)
            if one_line_error(code, err) or name not in err:
                failures.append(f"{name} = {literal}: {err!r}")
    assert not failures, failures
    assert not (tmp_path / "s-results").exists()


@pytest.mark.parametrize("name", [n for n in cli.train_options() if OPTIONS[n].kind is not bool])
def test_every_accepted_extreme_value_trains_or_is_one_line(name, capsys, tmp_path):
    """Values the table takes on their own (tiny, huge, zero, negative) either train or end in
    one line (refused with the other options, or failing in the solver): never a traceback."""
    failures = []
    for i, text in enumerate(t for t in TEXTS if not rejected(name, t)):
        code, err = run(COMMANDS["train"][1] + ["--out", str(tmp_path / str(i)),
                                                OPTIONS[name].flag, text], capsys)
        if code != 0 and one_line_error(code, err):
            failures.append(f"{OPTIONS[name].flag} {text!r}: {one_line_error(code, err)}")
    assert not failures, failures


@pytest.mark.parametrize("argv", [
    ["compile", "-o", "n.cir", "--layers", text] for text in
    ("", "a", "0,2", "2", "1e9,2", "-1,2", "2,,2", "2.5,2", "99999999999999999999,2",
                 ",".join(["2"] * 103))] + [
    ["gradcheck", "--engine", "native", "--layers", "2,,2"],
    ["gradcheck", "--engine", "native", "--batch", "0"],
    ["gradcheck", "--engine", "native", "--batch", "1000000000"],
    ["gradcheck", "--engine", "native", "--batch", "nan"],
    ["gradcheck", "--engine", "native", "--reference", "exact"],
    ["sweep", "missing.toml"],
    ["sweep", "s.toml", "--workers", "0"],
    ["sweep", "s.toml", "--workers", "100000"],
    ["sweep-plot", "missing.csv"],
    ["sweep-plot", "r.csv", "--metric", "bogus"],
    ["train", "--resume", "nowhere"],
    ["train", "--config", "c.toml", "--resume", "nowhere"],
    ["train", "--unknown-flag", "1"],
    ["bogus-command"],
    [],
    # an empty path is no path: not the working folder, nor the option left out
    ["train", "--config", ""],
    ["train", "--resume", ""],
    ["train", "--dataset", "xor", "--engine", "native", "--out", ""],
    ["compile", "--layers", "2,3,2", "-o", ""],
    ["verify", "cep", "--quick", "--out", ""],
    ["sweep", ""],
    ["sweep-plot", ""],
    ["export", "", "--out", "x"],
    ["evaluate", ""],
    ["evaluate", "run", "--conductances", ""],
    ["evaluate", "run", "--outputs", ""],
    ["report", "run", "-o", ""],
    # ngspice's own options where no ngspice runs would change nothing
    ["train", "--dataset", "xor", "--engine", "native", "--spice-workers", "2"],
    ["gradcheck", "--layers", "2,3,2", "--engine", "native", "--matrix-solver", "klu"],
    ["verify", "gdu", "--quick", "--layers", "2,3,2", "--spice-timeout", "5"],
    ["verify", "bias", "--quick", "--layers", "2,3,2", "--engine", "native",
     "--input-crossbar", "full"],
    # figures are PNG files, refused before the sweep over beta is solved
    ["gradcheck", "--layers", "2,3,2", "--engine", "native", "--sweep", "--plot", "g.txt"],
    ["gradcheck", "--layers", "2,3,2", "--engine", "native", "--sweep", "--plot", "."],
])
def test_every_rejected_command_argument_is_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run(argv, capsys)
    assert one_line_error(code, err) is None, (argv, err)


def test_a_scheduler_address_without_a_port_is_one_line(capsys, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[fixed]\ndataset = "xor"\nengine = "native"\nepochs = 1\n'
                     '[grid]\nlr = [1e-8, 2e-8]\n')
    code, err = run(["sweep", str(sweep), "--scheduler", "no-port-here"], capsys)
    assert one_line_error(code, err) is None and "tcp://HOST:PORT" in err, err


def test_ngspice_options_are_taken_where_ngspice_checks_the_training(capsys, tmp_path):
    code, err = run(["train", "--dataset", "xor", "--hidden", "2", "--engine", "native",
                     "--check-engine", "ngspice", "--spice-workers", "1", "--epochs", "1",
                     "--no-progress", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert "spice_workers = 1" in (tmp_path / "run" / "config.toml").read_text()
