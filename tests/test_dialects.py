"""Xyce and Spectre exports, which cannot run here: read back by parsers that are not this tool's
(PySpice's SPICE parser for Xyce; analogpy's Spectre reader, and eda-netlist-parser for the
amplifier's ports), every element, node and value recovered; the model statements, which neither
Spectre parser keeps, by Spectre's documented grammar; and the scale suffixes of each dialect."""

import re
from pathlib import Path

import numpy as np
import pytest
from analogpy.scs_parser import parse_scs
from netlist_parser import NetlistParser
from PySpice.Spice.Parser import SpiceParser

from eqprop_analog.circuit.elements import circuit_elements
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.circuit.subcircuit import read_subcircuit
from eqprop_analog.errors import ConfigError
from eqprop_analog.handoff.dialects import SAMPLES, bench_in, netlist_in
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.readback import read_conductances
from eqprop_analog.spice.scales import read_number, write_number

LIBRARY = Path(__file__).resolve().parents[1] / "circuits"
CIRCUITS = {
    "relu, amplifiers": dict(layers=(3, 4, 2), amplifier_gain=2.0),
    "pairs, clamp, diode spread, finite gain": dict(
        layers=(3, 4, 2), signed_weights="differential-pairs", neuron="clamp",
        diode_spread=0.1, amplifier_gain=2.0, amplifier_open_loop_gain=50.0,
        amplifier_backward_ratio=0.5),
    "wire resistance, two hidden layers": dict(layers=(3, 4, 3, 2), wire_resistance=2.5),
    "no hidden layer": dict(layers=(3, 2)),
}


def sample(circuit: dict):
    network = LayeredNetwork(CircuitSpec(**circuit))
    return network, network.initial_conductances(np.random.default_rng(0))


def expected_value(element) -> float:
    """What each element's value must read back as: ohms for resistors, volts, gains."""
    return 1.0 / element.value if element.kind == "R" else element.value


# -- scale suffixes ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, spice, spectre", [
    ("1M", 1e-3, 1e6), ("2.5m", 2.5e-3, 2.5e-3), ("1MEG", 1e6, None), ("1meg", 1e6, None),
    ("10k", 1e4, 1e4), ("10K", 1e4, 1e4), ("4.7u", 4.7e-6, 4.7e-6), ("3n", 3e-9, 3e-9),
    ("2p", 2e-12, 2e-12), ("1F", 1e-15, None), ("1f", 1e-15, 1e-15), ("1a", 1e-18, 1e-18),
    ("1G", 1e9, 1e9), ("1T", 1e12, 1e12), ("3mil", 3 * 25.4e-6, None), ("5V", 5.0, None),
    ("10kohm", 1e4, None), ("1mA", 1e-3, None), ("50%", None, 0.5), ("2c", 2.0, 0.02),
    ("7_", None, 7.0), ("1e-3", 1e-3, 1e-3), ("-.5e+2", -50.0, -50.0), ("+3.", 3.0, 3.0),
])
def test_each_dialect_reads_its_own_scale_suffixes(text, spice, spectre):
    for rules, expected in (("spice", spice), ("spectre", spectre)):
        if expected is None:
            with pytest.raises(ValueError):
                read_number(text, rules)
        else:
            assert read_number(text, rules) == pytest.approx(expected, rel=1e-15), (text, rules)


def test_an_m_is_a_billion_times_more_in_spectre_than_in_spice():
    """A 1 MOhm resistor written ``1M``: Spectre reads 1e6 ohm, SPICE 1e-3 ohm. The tool
    writes 1000000.0, which both read as 1e6."""
    assert read_number("1M", "spectre") / read_number("1M", "spice") == pytest.approx(1e9)
    assert read_number(write_number(1e6), "spice") == read_number(write_number(1e6),
                                                                   "spectre") == 1e6


def test_written_numbers_read_back_exactly_in_every_dialect():
    rng = np.random.default_rng(3)
    values = np.concatenate([10.0 ** rng.uniform(-300, 300, 2000), -rng.uniform(0, 1e6, 200),
                             [0.0, 1.0, 1e30, 5e-324]])
    for v in values:
        text = write_number(v)
        assert read_number(text, "spice") == v and read_number(text, "spectre") == v, text


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "nan", "inf", "1k5", "--1", "1e5x7"])
def test_what_is_no_number_is_refused(bad):
    for rules in ("spice", "spectre"):
        with pytest.raises(ValueError):
            read_number(bad, rules)


def test_a_resistance_edited_with_a_spice_suffix_reads_back_as_meant():
    network, g = sample(CIRCUITS["relu, amplifiers"])
    text = netlist_text(network, g)
    line = next(l for l in text.splitlines() if l.startswith("R_L1_000_000 "))
    edited = text.replace(line, " ".join(line.split()[:3] + ["12.5k"]))
    assert read_conductances(edited, network)[0][0, 0] == 1 / 12.5e3
    with pytest.raises(ConfigError, match="R_L1_000_000"):
        read_conductances(text.replace(line, " ".join(line.split()[:3] + ["12.5.3"])), network)


# -- Xyce: PySpice's parser -------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CIRCUITS))
def test_the_xyce_netlist_parses_back_with_every_element_node_and_value(name):
    network, g = sample(CIRCUITS[name])
    text = netlist_in("xyce", network, g, "an eqprop-analog network")
    parser = SpiceParser(source=text)
    statements = {line.split()[0]: line.split() for line in text.splitlines() if line}
    parsed = {e.name.upper(): e for e in parser.build_circuit().elements}
    ours = circuit_elements(network, g)
    assert set(parsed) == {e.name.upper() for e in ours}
    for element in ours:
        theirs = parsed[element.name.upper()]
        nodes = [str(n) for n in theirs.nodes]
        words = str(theirs).split()[1:]  # PySpice's own rendering of what it read
        if element.kind == "X":  # PySpice keeps the subcircuit's name after the nets
            assert nodes[:-1] == list(element.nets) and nodes[-1] == element.model
            parameters = dict(w.split("=") for w in words if "=" in w)
            assert float(parameters["gain"]) == element.value
            # PySpice 1.5 keeps only an instance's first parameter (measured): the others
            # from the statement, after its PARAMS: keyword as Xyce's reference writes it
            words = statements[element.name]
            given = words[words.index("PARAMS:") + 1:]
            assert dict((k, float(v)) for k, v in (w.split("=") for w in given)) == \
                {"gain": element.value, **dict(element.parameters)}
            continue
        assert nodes == list(element.nets), element.name
        if element.kind == "D":
            assert words[-1] == element.model
        else:
            value = words[len(element.nets) + (1 if element.kind == "V" else 0)]
            assert read_number(value, "spice") == expected_value(element), element.name
    if network.spec.amplified:  # the amplifier: the ngspice library's statements, in Xyce
        library = (LIBRARY / ("differential_amplifier.lib" if network.spec.pairs
                              else "bidirectional_amplifier.lib")).read_text().splitlines()
        (subcircuit,) = parser.subcircuits
        ports = next(line for line in library if line.startswith(".subckt")).split()[2:]
        assert [str(n) for n in subcircuit._nodes if ":" not in str(n)] == \
            [w for w in ports if "=" not in w and ":" not in w]
        def squeezed(lines):
            return [line.replace(" ", "") for line in lines if line.startswith(("E_FWD", "F_BWD"))]
        assert squeezed(text.splitlines()) == squeezed(library)
    models = {m.name: m for m in parser.models}
    if network.spec.hidden:
        assert "DNEURON" in models
    for model in models.values():  # each diode model's own IS, where the diodes spread
        if model.name != "DNEURON":
            layer, node, which = re.match(r"DN_L(\d+)_(\d+)([LH]?)", model.name).groups()
            row = 0 if which in ("", "L") else 1
            assert float(model._parameters["IS"]) == \
                network.saturation_currents[int(layer) - 1][row, int(node)]


def test_the_xyce_bench_tabulates_every_sample_and_prints_every_output():
    network, g = sample(CIRCUITS["pairs, clamp, diode spread, finite gain"])
    x = np.random.default_rng(5).uniform(0, 1, (4, network.spec.n_inputs))
    text = bench_in("xyce", network, g, x, "bench")
    lines = text.splitlines()
    start, end = lines.index(f".DATA {SAMPLES}"), lines.index(".ENDDATA")
    header, *rows = [line[1:].split() for line in lines[start + 1:end]]
    table = np.array([[read_number(v, "spice") for v in row] for row in rows])
    np.testing.assert_array_equal(table, network.spec.input_gain * x)
    sources = {w[0]: w for w in (line.split() for line in lines) if w and w[0].startswith("V_IN")}
    assert [sources[f"V_IN_{tag}P"][-1] for tag, _, _ in network.input_tags()] == \
        [f"{{{p}}}" for p in header]
    assert f".DC DATA={SAMPLES}" in lines
    printed = next(line for line in lines if line.startswith(".PRINT DC")).split()[4:]
    assert printed == [f"{{V(out_{k:03d}p)-V(out_{k:03d}n)}}" for k in range(2)]


# -- Spectre: analogpy's and eda-netlist-parser's readers, and the documented grammar ---------
def spectre_models(text: str) -> dict[str, dict[str, str]]:
    """Every ``model name diode key=value ...`` statement of a Spectre netlist, read from the
    grammar in Spectre's reference (neither parser above keeps model statements)."""
    out = {}
    for line in text.splitlines():
        match = re.fullmatch(r"model (\S+) diode((?: \S+=\S+)*)", line)
        if match is not None:
            out[match[1]] = dict(w.split("=") for w in match[2].split())
    return out


@pytest.mark.parametrize("name", list(CIRCUITS))
def test_the_spectre_netlist_reads_back_with_every_element_node_and_value(name):
    network, g = sample(CIRCUITS[name])
    text = netlist_in("spectre", network, g, "an eqprop-analog network")
    parsed = parse_scs(text)  # analogpy's reader of Spectre netlists
    instances = {i.name: i for i in parsed.instances}
    ours = circuit_elements(network, g)
    assert set(instances) == {e.name for e in ours} and len(parsed.instances) == len(ours)
    masters = {"V": "vsource", "E": "vcvs", "R": "resistor", "W": "resistor"}
    values = {"V": "dc", "E": "gain", "R": "r", "W": "r", "X": "gain"}
    for element in ours:
        instance = instances[element.name]
        assert instance.connections == list(element.nets), element.name
        assert instance.model == masters.get(element.kind, element.model), element.name
        if element.kind != "D":
            assert read_number(instance.params[values[element.kind]], "spectre") == \
                expected_value(element), element.name
        if element.kind == "X":
            assert {k: read_number(v, "spectre") for k, v in instance.params.items()
                    if k != "gain"} == dict(element.parameters), element.name
    diode = network.spec.diode
    assert {k: read_number(v, "spectre") for k, v in parsed.parameters.items()} == (
        {"diode_is": diode.saturation_current, "diode_n": diode.emission_coefficient,
         "diode_rs": diode.series_resistance} if network.spec.hidden else {})
    # each diode model's own IS where the diodes spread, by the grammar
    models = spectre_models(text)
    assert set(models) == ({"DNEURON"} | {e.model for e in ours if e.kind == "D"}
                           if network.spec.hidden else set())
    for model, parameters in models.items():
        if model != "DNEURON":
            layer, node, which = re.match(r"DN_L(\d+)_(\d+)([LH]?)", model).groups()
            row = 0 if which in ("", "L") else 1
            assert read_number(parameters["is"], "spectre") == \
                network.saturation_currents[int(layer) - 1][row, int(node)]


@pytest.mark.parametrize("name", ["relu, amplifiers", "pairs, clamp, diode spread, finite gain"])
def test_the_spectre_amplifier_has_the_ngspice_librarys_ports_and_elements(name, tmp_path):
    """Its ports through eda-netlist-parser (analogpy's reader skips a bracketed port list), its
    statements through analogpy's: those of the ngspice library's subcircuit."""
    network, g = sample(CIRCUITS[name])
    text = netlist_in("spectre", network, g, "net")
    library = (LIBRARY / ("differential_amplifier.lib" if network.spec.pairs
                          else "bidirectional_amplifier.lib")).read_text().splitlines()
    header = next(line for line in library if line.startswith(".subckt")).split()
    ports = [w for w in header[2:] if "=" not in w and ":" not in w]
    (netlist := tmp_path / "network.scs").write_text(text)
    (cell,) = NetlistParser().parse(str(netlist)).cells
    assert (cell.name, cell.ports) == (header[1], ports)
    (subcircuit,) = parse_scs(text).subcircuits
    spice = {w[0]: w for w in (line.split() for line in library)
             if w and w[0].startswith(("E_FWD", "F_BWD", "V_SENSE"))}
    assert {i.name for i in subcircuit.instances} == set(spice)
    for instance in subcircuit.instances:
        words = spice[instance.name]
        nets = 4 if instance.model == "vcvs" else 2
        assert instance.connections == words[1:1 + nets], instance.name


def test_the_spectre_amplifier_and_diode_cards_follow_the_documented_syntax():
    network, g = sample(CIRCUITS["pairs, clamp, diode spread, finite gain"])
    text = netlist_in("spectre", network, g, "net")
    assert "simulator lang=spectre" in text.splitlines()
    assert "model DNEURON diode is=diode_is n=diode_n rs=diode_rs" in text
    block = text[text.index("subckt BIDIR_DIFF_AMP (inp inn out)"):text.index(
        "ends BIDIR_DIFF_AMP")].splitlines()
    assert block[1] == "parameters gain=1.0 open_loop=1e+30 backward=1.0"
    assert "E_FWD (mid 0 inp inn) vcvs gain=gain/(1+gain/open_loop)" in block
    assert "F_BWD_P (inp 0) cccs probe=V_SENSE gain=gain*backward" in block
    assert "F_BWD_N (0 inn) cccs probe=V_SENSE gain=gain*backward" in block


def test_the_spectre_bench_sweeps_a_paramset_of_every_sample():
    network, g = sample(CIRCUITS["relu, amplifiers"])
    x = np.random.default_rng(5).uniform(0, 1, (4, network.spec.n_inputs))
    lines = bench_in("spectre", network, g, x, "bench").splitlines()
    start = lines.index(f"{SAMPLES} paramset {{")
    end = lines.index("}", start)
    header, *rows = [line.split() for line in lines[start + 1:end]]
    np.testing.assert_array_equal([[read_number(v, "spectre") for v in row] for row in rows],
                                  network.spec.input_gain * x)
    instances = {i.name: i for i in parse_scs("\n".join(lines)).instances}
    for (tag, _, _), parameter in zip(network.input_tags(), header):
        assert instances[f"V_IN_{tag}P"].params["dc"] == parameter
    assert f"sweep_samples sweep paramset={SAMPLES} {{" in lines and "dc_op dc" in lines
    assert f"save {' '.join(network.output_nets)}" in lines


def test_user_subcircuits_are_not_translated():
    lib = Path(__file__).resolve().parents[1] / "circuits" / "examples" / "mosfet_neuron.lib"
    model = read_subcircuit(f"{lib}:NMOS_RELU", "neuron")
    network = LayeredNetwork(CircuitSpec((3, 4, 2), neuron_model=model))
    g = network.initial_conductances(np.random.default_rng(0))
    for dialect in ("xyce", "spectre"):
        with pytest.raises(ConfigError, match=f"--dialect {dialect} does not translate"):
            netlist_in(dialect, network, g, "net")
