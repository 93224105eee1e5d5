"""One description of the circuit: the networkx graph holds exactly the netlist's elements, for
every circuit option, wires included; the topology check passes on them and rejects a netlist
with a floating net, a net without DC path to ground or a dangling net, with one line naming it."""

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.elements import circuit_elements
from eqprop_analog.circuit.graph import circuit_graph, graph_elements
from eqprop_analog.circuit.topology import check_topology, element_nets
from eqprop_analog.errors import TopologyError
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.readback import netlist_elements, read_conductances

SPECS = {
    "default": CircuitSpec((3, 4, 2), amplifier_gain=4.0),
    "no amplifiers": CircuitSpec((3, 4, 2)),
    "two hidden layers, clamp": CircuitSpec((3, 5, 4, 2), neuron="clamp", amplifier_gain=2.0),
    "no hidden layer": CircuitSpec((3, 2)),
    "differential pairs": CircuitSpec((3, 4, 2), signed_weights="differential-pairs",
                                      amplifier_gain=2.0),
    "pairs, clamp": CircuitSpec((3, 4, 2), signed_weights="differential-pairs", neuron="clamp"),
    "differential outputs": CircuitSpec((3, 4, 2), differential_outputs=True),
    "diode spread": CircuitSpec((3, 4, 2), diode_spread=0.3, amplifier_gain=2.0),
    "open-loop gain": CircuitSpec((3, 4, 2), amplifier_gain=2.0, amplifier_open_loop_gain=50.0),
    "wires": CircuitSpec((3, 4, 2), amplifier_gain=2.0, wire_resistance=5.0),
    "wires, pairs": CircuitSpec((3, 4, 2), signed_weights="differential-pairs",
                                wire_resistance=5.0),
}


def as_netlist_kind(name, kind, nets):
    return name, "R" if kind == "W" else kind, nets  # a wire segment is written as a resistor


@pytest.mark.parametrize("option", SPECS)
def test_the_graph_holds_exactly_the_netlists_elements(option):
    network = LayeredNetwork(SPECS[option])
    g = network.initial_conductances(np.random.default_rng(0))
    text = netlist_text(network, g)
    from_graph = sorted(as_netlist_kind(*e) for e in graph_elements(circuit_graph(network, g)))
    from_text = sorted(netlist_elements(text))
    assert from_graph == from_text
    assert sorted(as_netlist_kind(*e) for e in element_nets(circuit_elements(network, g))) == from_text
    check_topology(from_text, "the netlist", network.output_nets)
    graph = circuit_graph(network, g)
    devices = [d for _, _, d in graph.edges(data=True) if d["kind"] == "R"]
    assert len(devices) == network.n_parameters
    wires = [d for _, _, d in graph.edges(data=True) if d["kind"] == "W"]
    if SPECS[option].wire_resistance:
        assert len(wires) == sum(2 * r * c for r, c in network.shapes)
        assert {d["value"] for d in wires} == {5.0}
    else:
        assert not wires


@pytest.fixture
def exported():
    network = LayeredNetwork(SPECS["default"])
    g = network.initial_conductances(np.random.default_rng(0))
    return network, netlist_text(network, g).replace(".end\n", "")


@pytest.mark.parametrize("extra, net, words", [
    ("R_EXTRA fl_a fl_b 1000\nR_EXTRA2 fl_b fl_a 2000", "fl_a", "no DC path to ground"),
    ("R_DANGLE h1_000 nowhere 1000", "nowhere", "one element only"),
    ("B_I sensed 0 I=1e-6\nE_Y y 0 sensed 0 2.0\nR_Y y 0 1000", "sensed", "no DC path"),
])
def test_a_netlist_with_a_bad_net_is_refused_naming_it(exported, extra, net, words):
    network, text = exported
    assert read_conductances(text + ".end\n", network)  # as exported, it reads back
    with pytest.raises(TopologyError, match=words) as error:
        read_conductances(f"{text}{extra}\n.end\n", network)
    message = str(error.value)
    assert f"'{net}'" in message and "\n" not in message


def test_ground_may_be_spelt_gnd():
    check_topology([("V1", "V", ("a", "GND")), ("R1", "R", ("a", "0"))])
