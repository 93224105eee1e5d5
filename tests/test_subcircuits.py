"""A user's own neuron and amplifier subcircuits: read as data (every form that would make ngspice
run a command or read a file refused, naming the line), written into the netlist, solved by
ngspice as the built-in elements they copy, refused by the native engine, and EP's estimate
through an op-amp amplifier degrading as its open-loop gain falls."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.subcircuit import read_subcircuit
from eqprop_analog.cli import main
from eqprop_analog.config import RunConfig
from eqprop_analog.config_files import config_to_toml, load_config
from eqprop_analog.engines import Phases, SquaredError
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.learning import gradcheck as gc
from eqprop_analog.learning.estimators import EPEstimator
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.readback import read_conductances

EXAMPLES = Path(__file__).resolve().parents[1] / "circuits" / "examples"
CONFIGS = Path(__file__).resolve().parents[1] / "examples" / "configs"
# the built-in bidirectional amplifier at gain 4, and the clamp neuron's diodes and sources, as a
# user would write them: solved by ngspice, they must give the built-in circuit's states
BUILT_IN_AMPLIFIER = """* the library's amplifier, copied
.subckt MY_AMP in out
E_FWD mid 0 in 0 4
V_SENSE mid out 0
F_BWD in 0 V_SENSE 4
.ends MY_AMP
"""
BUILT_IN_CLAMP = """* the clamp neuron's two diodes and their bias sources, copied
.subckt MY_CLAMP node gnd
VHI hi gnd DC 0.5
VLO lo gnd DC -0.5
DH node hi DCLAMP
DL lo node DCLAMP
.model DCLAMP D(IS=1e-12 N=1 RS=0)
.ends MY_CLAMP
"""
GOOD_NEURON = """.subckt N1 node gnd
+ params: w=1
R1 node mid 1k $ an inline comment
XH mid gnd HELPER
.ends N1
.subckt HELPER a b
D1 a b DM
.model DM D(IS=1e-14)
.ends
"""


def write(tmp_path: Path, text: str, name: str = "user.lib") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_file_is_read_with_its_helpers_and_comments_dropped(tmp_path):
    model = read_subcircuit(f"{write(tmp_path, GOOD_NEURON)}:N1", "neuron")
    assert model.name == "N1" and model.role == "neuron"
    assert ".subckt HELPER a b" in model.text and "$" not in model.text
    assert ".subckt N1 node gnd params: w=1" in model.text  # the continuation joined


@pytest.mark.parametrize("line, words", [
    (".control", ["line 3", ".control", "run"]),
    ("shell rm -rf /", ["line 3", "'shell'", "command"]),
    (".include /etc/passwd", ["line 3", ".include", "reads another file"]),
    (".inc other.lib", ["line 3", ".inc", "reads another file"]),
    (".lib models.lib TT", ["line 3", ".lib", "reads another file"]),
    (".options reltol=1", ["line 3", ".options", "whole netlist"]),
    (".end", ["line 3", ".end"]),
    (".tran 1n 1u", ["line 3", ".tran", "not a subcircuit statement"]),
    ("A1 node out filesrc", ["line 3", "XSPICE"]),
    ("N1 node gnd va_model", ["line 3", "OSDI"]),
    ('B1 node 0 V="x"', ["line 3", "quoted text"]),
    ("set noaskquit", ["line 3", "'set'", "command"]),
    ("?? node gnd", ["line 3", "not an element line"]),
    ("R2 node mid \u00b5", ["line 3", "printable ASCII"]),
    ("R2 node mid 1k \\", ["line 3", "backslash"]),
    ("*# shell touch PWNED", ["line 3", "*#", "runs as a command"]),
    ("\t.INCLUDE /etc/passwd", ["line 3", ".INCLUDE", "reads another file"]),
    ("E1 out 0 and(2) a 0 b 0 0.5,0 1,1", ["line 3", "digital gate form"]),
])
def test_every_form_that_is_not_data_is_refused_naming_its_line(tmp_path, line, words):
    text = f"* a neuron\n.subckt N1 node gnd\n{line}\nR1 node gnd 1k\n.ends N1\n"
    with pytest.raises(DataError) as caught:
        read_subcircuit(f"{write(tmp_path, text)}:N1", "neuron")
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("text, reference, words", [
    (GOOD_NEURON, "N2", ["defines no .subckt N2", "HELPER, N1"]),
    (".subckt N1 node gnd other\nR1 node gnd 1k\n.ends\n", "N1", ["3 ports", "node then gnd"]),
    (".subckt N1 node\nR1 node 0 1k\n.ends\n", "N1", ["1 ports"]),
    (".subckt N1 node gnd\nX1 node gnd ELSEWHERE\n.ends\n", "N1", ["line 2", "ELSEWHERE",
                                                                   "does not define"]),
    (".subckt BIDIR_AMP in out\nR1 in out 1k\n.ends\n", "BIDIR_AMP", ["built-in"]),
    ("R1 node gnd 1k\n", "N1", ["line 1", "outside a .subckt"]),
    (".subckt N1 node gnd\nR1 node gnd 1k\n", "N1", ["has no .ends"]),
    (".model DM D(IS=1e-14)\n", "N1", ["outside a .subckt"]),
    (".subckt N1 node gnd\nX1 node gnd N2\n.ends\n.subckt N2 a b\nX2 a b N1\n.ends\n", "N1",
     ["calls itself", "N1 -> N2 -> N1"]),
])
def test_a_file_that_does_not_define_a_whole_subcircuit_is_refused(tmp_path, text, reference,
                                                                     words):
    with pytest.raises(DataError) as caught:
        read_subcircuit(f"{write(tmp_path, text)}:{reference}", "neuron")
    for word in words:
        assert word in str(caught.value), str(caught.value)


def test_missing_binary_and_malformed_references_are_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_subcircuit(f"{tmp_path / 'none.lib'}:N1", "neuron")
    binary = tmp_path / "b.lib"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(DataError, match="not a text file"):
        read_subcircuit(f"{binary}:N1", "neuron")
    for bad in ("no-colon", ":N1", f"{binary}:", f"{binary}:1bad name"):
        with pytest.raises(ConfigError, match="must be FILE:NAME"):
            read_subcircuit(bad, "neuron")


def test_the_cli_refuses_a_bad_file_with_one_line(tmp_path, capsys):
    path = write(tmp_path, ".subckt N1 node gnd\n.control\nshell touch PWNED\n.endc\n.ends\n")
    code = main(["train", "--dataset", "iris", "--neuron-model", f"{path}:N1", "--out",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "line 2" in err[0] and ".control" in err[0]
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


@pytest.mark.parametrize("line", [".control", "shell touch PWNED", ".include /etc/passwd",
                                  ".lib other.lib TT", ".inc x.cir", ".incx x.cir", ".controlx",
                                  ".libx other.lib TT", "\t.CONTROL", "  .Include x",
                                  "*# shell touch PWNED", "  *#echo"])
def test_a_netlist_handed_in_with_commands_or_file_reads_is_refused(rng, line):
    network = LayeredNetwork(CircuitSpec((2, 3, 2)))
    text = netlist_text(network, network.initial_conductances(rng)).replace(
        ".end\n", f"{line}\n.end\n")
    number = text.splitlines().index(line) + 1
    with pytest.raises(DataError, match=f"line {number}: "):
        read_conductances(text, network)


@pytest.mark.parametrize("title", [".include /etc/passwd", "*ng_script", "*NG_SCRIPT x",
                                   "*# shell touch PWNED"])
def test_a_netlist_whose_title_ngspice_would_act_on_is_refused(rng, title):
    network = LayeredNetwork(CircuitSpec((2, 3, 2)))
    text = netlist_text(network, network.initial_conductances(rng))
    text = title + text[text.index("\n"):]
    with pytest.raises(DataError, match="line 1: the title line"):
        read_conductances(text, network)


def test_a_netlist_naming_a_subcircuit_file_with_odd_characters_reads_back(tmp_path, rng):
    odd = tmp_path / "we\\ird *# $x.lib"
    odd.write_text((EXAMPLES / "mosfet_neuron.lib").read_text())
    network = LayeredNetwork(CircuitSpec((2, 3, 2), neuron_model=read_subcircuit(
        f"{odd}:NMOS_RELU", "neuron")))
    g = network.initial_conductances(rng)
    for a, b in zip(read_conductances(netlist_text(network, g), network), g):
        np.testing.assert_array_equal(a, b)


def test_a_star_or_a_dot_never_starts_a_title_the_tool_writes(rng):
    network = LayeredNetwork(CircuitSpec((2, 3, 2)))
    for title in ("*ng_script", ".control"):
        first = netlist_text(network, network.initial_conductances(rng), title=title)
        assert first.startswith(f"title {title}\n")


def test_the_netlist_holds_the_users_subcircuits_in_place_of_the_built_in_ones(tmp_path, rng):
    neuron = read_subcircuit(f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU", "neuron")
    amplifier = read_subcircuit(f"{EXAMPLES / 'opamp_amplifier.lib'}:OPAMP_BIDIR", "amplifier")
    network = LayeredNetwork(CircuitSpec((2, 3, 2), neuron_model=neuron,
                                         amplifier_model=amplifier))
    text = netlist_text(network, network.initial_conductances(rng))
    lines = text.splitlines()
    assert "X_NL1_000 h1_000 0 NMOS_RELU" in lines
    assert "X_AL1_000 h1_000 h1_000a OPAMP_BIDIR" in lines
    assert not any(line.startswith(("D_", "V_DBIAS", ".param diode_is")) for line in lines)
    assert ".subckt NMOS_RELU node gnd" in lines and ".subckt OPAMP_MACRO inp inn o" in lines
    assert network.free_nets[-3:] == ("h1_000a", "h1_001a", "h1_002a")


def test_the_native_engine_refuses_a_user_subcircuit(rng):
    neuron = read_subcircuit(f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU", "neuron")
    network = LayeredNetwork(CircuitSpec((2, 3, 2), neuron_model=neuron))
    with pytest.raises(ConfigError, match="native engine knows only the built-in .* "
                                          "neuron_model NMOS_RELU needs the ngspice engine"):
        NativeEngine().solve(network, network.initial_conductances(rng), np.zeros((1, 2)))


def test_a_helper_defined_in_both_files_is_refused_and_a_shared_file_written_once(tmp_path, rng):
    neuron = read_subcircuit(f"{write(tmp_path, GOOD_NEURON, 'n.lib')}:N1", "neuron")
    helper = ".subckt AMP in out\nXH in out HELPER\n.ends\n.subckt HELPER a b\nR1 a b 1k\n.ends\n"
    amplifier = read_subcircuit(f"{write(tmp_path, helper, 'a.lib')}:AMP", "amplifier")
    with pytest.raises(ConfigError, match="both define .subckt helper"):
        CircuitSpec((2, 3, 2), neuron_model=neuron, amplifier_model=amplifier)
    both = write(tmp_path, GOOD_NEURON + ".subckt AMP in out\nR1 in out 1k\n.ends\n", "b.lib")
    spec = CircuitSpec((2, 3, 2), neuron_model=read_subcircuit(f"{both}:N1", "neuron"),
                       amplifier_model=read_subcircuit(f"{both}:AMP", "amplifier"))
    text = netlist_text(LayeredNetwork(spec), LayeredNetwork(spec).initial_conductances(rng))
    assert text.count(".subckt HELPER a b") == 1


def test_a_special_file_and_a_network_without_hidden_units_are_refused(tmp_path):
    with pytest.raises(DataError, match="a device or a socket, not a file"):
        read_subcircuit("/dev/zero:N1", "neuron")
    neuron = read_subcircuit(f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU", "neuron")
    with pytest.raises(ConfigError, match="the network has none"):
        CircuitSpec((2, 2), neuron_model=neuron)


def test_a_native_check_of_a_circuit_it_cannot_solve_is_refused_at_once():
    with pytest.raises(ConfigError, match="check_engine native: the native engine knows only"):
        RunConfig(check_engine="native", neuron_model=f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU")


@pytest.mark.parametrize("unused", [dict(neuron="clamp"), dict(diode_spread=0.2),
                                    dict(amplifier_gain=4.0)])
def test_options_of_the_built_in_element_a_user_subcircuit_replaces_are_refused(unused):
    neuron = read_subcircuit(f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU", "neuron")
    amplifier = read_subcircuit(f"{EXAMPLES / 'opamp_amplifier.lib'}:OPAMP_BIDIR", "amplifier")
    role, model = ("amplifier", amplifier) if "amplifier_gain" in unused else ("neuron", neuron)
    with pytest.raises(ConfigError, match=f"{role}_model replaces the built-in .* leave "
                                          f".*{next(iter(unused))}"):
        CircuitSpec((2, 3, 2), **{f"{role}_model": model}, **unused)


def test_user_subcircuits_need_single_node_units():
    neuron = read_subcircuit(f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU", "neuron")
    with pytest.raises(ConfigError, match="needs signed_weights = doubled-inputs"):
        CircuitSpec((2, 3, 2), neuron_model=neuron, signed_weights="differential-pairs")


@pytest.mark.ngspice
def test_copies_of_the_built_in_elements_solve_as_the_built_in_circuit(precise_engine, tmp_path,
                                                                       rng):
    """A user amplifier and neuron that are the library's own, written as a user would: ngspice's
    states equal the native engine's of the built-in circuit, and so does EP's gradient (the
    user amplifier's outputs are read from ngspice, the built-in one's computed from its gain)."""
    amplifier = read_subcircuit(f"{write(tmp_path, BUILT_IN_AMPLIFIER, 'a.lib')}:MY_AMP",
                                "amplifier")
    neuron = read_subcircuit(f"{write(tmp_path, BUILT_IN_CLAMP, 'n.lib')}:MY_CLAMP", "neuron")
    built_in = CircuitSpec((3, 5, 4, 2), neuron="clamp", amplifier_gain=4.0)
    user = replace(built_in, amplifier_gain=None, amplifier_model=amplifier, neuron="relu",
                   neuron_model=neuron)
    ours, theirs = LayeredNetwork(built_in), LayeredNetwork(user)
    g = ours.initial_conductances(rng, 1e-6, 2e-5)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(-0.2, 0.2, (4, 2))
    phases = Phases((0.0, 1e-6, -1e-6), SquaredError(), y)
    reference = NativeEngine().solve(ours, g, x, phases)
    solved = precise_engine.solve(theirs, g, x, phases)
    n = len(ours.free_nets)
    np.testing.assert_allclose(solved.voltages[..., :n], reference.voltages, atol=1e-8)
    np.testing.assert_allclose(solved.voltages[..., n:], 4 * reference.voltages[..., :9],
                               atol=4e-8)  # the amplifiers' outputs: 4 V(h)
    estimator = EPEstimator("symmetric", 1e-6)
    for a, b in zip(estimator.gradient(theirs, x, solved), estimator.gradient(ours, x, reference)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9 * np.abs(b).max())


@pytest.mark.ngspice
def test_eps_estimate_through_the_op_amp_amplifier_degrades_as_its_gain_falls(precise_engine,
                                                                               tmp_path):
    """Finite differences through ngspice against EP on the example op-amp amplifier: the lower
    its open-loop gain A0, the further its backward current gain (4) from its forward voltage
    gain (4 / (1 + 4 / A0)), and the worse EP's estimate."""
    text = (EXAMPLES / "opamp_amplifier.lib").read_text()
    assert "EGAIN int 0 inp inn 2000" in text
    cosines = []
    for a0 in ("1e4", "20", "4"):  # (at 1e6 ngspice 39 fails to converge at these tolerances)
        path = write(tmp_path, text.replace("inp inn 2000", f"inp inn {a0}"), f"a{a0}.lib")
        spec = RunConfig(amplifier_model=f"{path}:OPAMP_BIDIR").spec_for((4, 8, 8, 3))
        network = LayeredNetwork(spec)
        rng = np.random.default_rng(0)
        g = network.initial_conductances(rng, 1e-6, 2e-5)
        x, targets = rng.uniform(0, 1, (4, 4)), rng.uniform(-0.2, 0.2, (4, 3))
        reference = gc.finite_difference_gradient(precise_engine, network, g, x, SquaredError(),
                                                  targets)
        estimate = gc.ep_gradient(precise_engine, network, g, x, SquaredError(), targets,
                                  EPEstimator("symmetric", 1e-6), "exact")
        cosines.append(gc.Comparison.of(estimate, reference).cosine)
    assert cosines[0] > 0.99999 and cosines[0] > cosines[1] > cosines[2]


@pytest.mark.ngspice
def test_the_example_subcircuits_train_iris_and_report_eps_cosine(tmp_path):
    """examples/user_subcircuits.py: the MOSFET neuron and the op-amp amplifier each train iris
    with ngspice to >= 90 % test accuracy, and EP's cosine to finite differences is reported."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "examples/user_subcircuits.py", str(tmp_path)],
                            cwd=root, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("iris-mosfet-neuron", "iris-opamp-amplifier"):
        accuracy = re.search(rf"{name}: test accuracy ([\d.]+) %", result.stdout)
        cosine = re.search(rf"{name}: EP against finite differences through ngspice: cosine "
                           r"([\d.]+)", result.stdout)
        assert accuracy and float(accuracy.group(1)) >= 90.0, result.stdout
        assert cosine and float(cosine.group(1)) > 0.999, result.stdout


def test_the_subcircuit_options_go_through_a_config_file(tmp_path):
    reference = f"{EXAMPLES / 'mosfet_neuron.lib'}:NMOS_RELU"
    config = RunConfig(neuron_model=reference)
    path = tmp_path / "config.toml"
    path.write_text(config_to_toml(config))
    again = load_config(path)
    assert again == config and again.circuit_spec(4, 3).neuron_model.name == "NMOS_RELU"


def test_a_relative_file_is_taken_from_the_config_files_folder_and_written_absolute(
        tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    write(tmp_path, (EXAMPLES / "mosfet_neuron.lib").read_text(), "neuron.lib")
    (folder / "run.toml").write_text('[circuit]\nneuron_model = "../neuron.lib:NMOS_RELU"\n')
    monkeypatch.chdir(folder.parent.parent)  # elsewhere: the path is not taken from here
    config = load_config(folder / "run.toml")
    assert config.neuron_model == f"{tmp_path / 'neuron.lib'}:NMOS_RELU"
    monkeypatch.chdir(tmp_path)  # a flag's relative path is taken from the working folder
    assert RunConfig(neuron_model="neuron.lib:NMOS_RELU").neuron_model == config.neuron_model
    assert f'neuron_model = "{tmp_path / "neuron.lib"}:NMOS_RELU"' in config_to_toml(config)


@pytest.mark.ngspice
def test_a_run_resumes_only_with_the_subcircuit_it_started_with(tmp_path):
    from eqprop_analog.run import resume_config, train

    path = write(tmp_path, (EXAMPLES / "mosfet_neuron.lib").read_text(), "neuron.lib")
    config = replace(load_config(CONFIGS / "iris-mosfet-neuron.toml"), epochs=1,
                     neuron_model=f"{path}:NMOS_RELU")
    run = tmp_path / "run"
    train(config, run, log=lambda *_: None)
    assert (run / "neuron_model.lib").read_text() == config.user_subcircuit("neuron").text + "\n"
    train(resume_config(run, {"epochs": 2}), run, resume=True, log=lambda *_: None)  # unchanged
    path.write_text(path.read_text().replace("W=50u", "W=60u"))
    with pytest.raises(ConfigError,
                       match=f"{path} has changed since the network in {run} was trained"):
        train(resume_config(run, {"epochs": 3}), run, resume=True, log=lambda *_: None)
