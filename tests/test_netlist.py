"""Netlist text: exact read-back, determinism, the example files, and ngspice against hand-solved
circuits and Kirchhoff's current law."""

from dataclasses import replace

import numpy as np
import pytest

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.circuit.graph import circuit_graph
from eqprop_analog.netlist_examples import EXAMPLES, NETLISTS_DIR, example_network, write_examples
from eqprop_analog.spice.netlist import netlist_text
from eqprop_analog.spice.readback import read_conductances

# kT/q at ngspice's default 27 C, with the CODATA 2014 constants that ngspice 39 uses
THERMAL_VOLTAGE = 1.38064852e-23 * 300.15 / 1.6021766208e-19


def test_read_back_recovers_conductances_exactly(rng):
    network = LayeredNetwork(CircuitSpec((5, 7, 4, 3), amplifier_gain=2.0))
    g = network.initial_conductances(rng)
    assert any(1.0 / (1.0 / v) != v for a in g for v in a.flat)  # 1/R alone would not do
    back = read_conductances(netlist_text(network, g), network)
    for a, b in zip(g, back):
        np.testing.assert_array_equal(a, b)


def test_netlist_is_deterministic_and_names_encode_place(rng):
    network = LayeredNetwork(CircuitSpec((3, 4, 2)))
    g = network.initial_conductances(rng)
    text = netlist_text(network, g)
    assert text == netlist_text(network, tuple(a.copy() for a in g))
    assert "\nR_L1_005_003 in_002n h1_003 " in text  # row 5 = -x_2, column 3
    assert "\nR_L2_BP_001 rail_p out_001 " in text


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_netlists_have_not_drifted(name, tmp_path):
    write_examples(tmp_path)
    for suffix in (".cir", ".weights.csv"):
        committed = (NETLISTS_DIR / f"{name}{suffix}").read_text()
        assert (tmp_path / f"{name}{suffix}").read_text() == committed, \
            f"netlists/{name}{suffix} drifted: run python -m eqprop_analog.netlist_examples"


def test_example_netlist_reads_back():
    network, g = example_network("iris")
    back = read_conductances((NETLISTS_DIR / "iris.cir").read_text(), network)
    for a, b in zip(g, back):
        np.testing.assert_array_equal(a, b)


def test_single_layer_matches_hand_solution(engine, rng):
    """No hidden layer: each output is the conductance-weighted mean of its row voltages."""
    spec = CircuitSpec((3, 2), input_gain=1.5, bias_rail=0.8)
    network = LayeredNetwork(spec)
    g = network.initial_conductances(rng)[0]
    x = rng.uniform(0, 1, (6, 3))
    rows = np.concatenate([np.stack([1.5 * x, -1.5 * x], -1).reshape(6, -1),
                           np.tile([0.8, -0.8], (6, 1))], axis=1)
    expected = rows @ g / g.sum(axis=0)
    v = engine.solve(network, (g,), x).phase(0.0)
    np.testing.assert_allclose(v, expected, atol=1e-9)


def _diode_current(v, spec):
    d = spec.diode
    return d.saturation_current * np.expm1(v / (d.emission_coefficient * THERMAL_VOLTAGE)) + 1e-12 * v


@pytest.mark.parametrize("neuron,amplifier", [("relu", None), ("clamp", None), ("relu", 3.0)])
def test_kirchhoff_current_law_holds_at_every_hidden_node(precise_engine, rng, neuron, amplifier):
    spec = CircuitSpec((4, 6, 5, 3), neuron=neuron, relu_bias=0.45, amplifier_gain=amplifier,
                       input_gain=4.0)
    network = LayeredNetwork(spec)
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x = rng.uniform(0, 1, (8, 4))
    free = precise_engine.solve(network, g, x).phase(0.0)
    a = amplifier or 1.0
    for layer, nets in enumerate(network.hidden_nets, start=1):
        v = network.column_voltages(layer, free)
        # current arriving through the crossbar below
        into = np.einsum("bij,ij->bj", network.row_voltages(layer, x, free)[:, :, None]
                         - v[:, None, :], g[layer - 1])
        # current leaving through the crossbar above (through the amplifier: a times larger)
        rows_above = network.row_voltages(layer + 1, x, free)[:, :-2]
        cols_above = network.column_voltages(layer + 1, free)
        out = a * np.einsum("bjk,jk->bj", rows_above[:, :, None] - cols_above[:, None, :],
                            g[layer][:-2])
        if neuron == "relu":
            sign = np.where(np.arange(len(nets)) % 2 == 0, 1.0, -1.0)
            diode = sign * _diode_current(sign * (sign * spec.relu_bias - v), spec)
        else:
            diode = (_diode_current(spec.clamp_low - v, spec)
                     - _diode_current(v - spec.clamp_high, spec))
        residual = into - out + diode
        scale = np.abs(into).max()
        assert np.abs(residual).max() < 1e-8 * scale


def _difference(pairs):
    """V(+) - V(-) of nodes listed in pairs."""
    return pairs[:, 0::2] - pairs[:, 1::2]


@pytest.mark.parametrize("neuron,amplifier", [("relu", None), ("clamp", 3.0)])
def test_kirchhoff_current_law_holds_at_every_node_of_differential_pairs(precise_engine, rng,
                                                                          neuron, amplifier):
    """Weights as pairs G+ - G-: every unit is two nodes, its diodes sit across them (in series
    with bias sources on the - node) and its amplifier drives the next row with a (V+ - V-),
    drawing a times the row's current from the + node and returning it to the - node."""
    spec = CircuitSpec((4, 6, 5, 3), neuron=neuron, amplifier_gain=amplifier, input_gain=2.0,
                       signed_weights="differential-pairs")
    network = LayeredNetwork(spec)
    assert network.shapes == ((4 + 2, 12), (6 + 2, 10), (5 + 2, 6))
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x = rng.uniform(0, 1, (8, 4))
    free = precise_engine.solve(network, g, x).phase(0.0)
    a = amplifier or 1.0
    for layer in range(1, len(spec.hidden) + 1):
        v = network.column_voltages(layer, free)
        u = _difference(v)
        below = (2.0 * x if layer == 1  # inputs: +A x only
                 else a * _difference(network.column_voltages(layer - 1, free)))
        rows = np.concatenate([below, np.tile([1.0, -1.0], (8, 1))], axis=1)
        into = np.einsum("bij,ij->bj", rows[:, :, None] - v[:, None, :], g[layer - 1])
        row_current = np.einsum("bjk,jk->bj", a * u[:, :, None]
                                - network.column_voltages(layer + 1, free)[:, None, :],
                                g[layer][:-2])
        if neuron == "relu":
            across = _diode_current(spec.relu_bias - u, spec)  # into the + node
        else:
            across = (_diode_current(spec.clamp_low - u, spec)
                      - _diode_current(u - spec.clamp_high, spec))
        residual_plus = into[:, 0::2] - a * row_current + across
        residual_minus = into[:, 1::2] + a * row_current - across
        scale = np.abs(into).max()
        assert np.abs(residual_plus).max() < 1e-8 * scale
        assert np.abs(residual_minus).max() < 1e-8 * scale
    text = netlist_text(network, g)
    assert "\nR_L1_002_003 in_002 h1_001n " in text  # row 2 = +x_2, column 3 = unit 1's - node
    assert "E_IN" not in text  # no inverted inputs


def test_differential_outputs_read_pairs(engine, rng):
    network = LayeredNetwork(CircuitSpec((3, 4, 2), differential_outputs=True))
    g = network.initial_conductances(rng)
    free = engine.solve(network, g, rng.uniform(0, 1, (2, 3))).phase(0.0)
    assert network.output_nets == ("out_000p", "out_000n", "out_001p", "out_001n")
    # each output read by net name: V(out_kp) - V(out_kn), independent of the readout's slicing
    voltage = {name: free[:, i] for i, name in enumerate(network.free_nets)}
    expected = np.stack([voltage[f"out_{k:03d}p"] - voltage[f"out_{k:03d}n"] for k in range(2)], 1)
    np.testing.assert_array_equal(network.readout(free), expected)
    assert np.abs(expected).min() > 1e-6  # the pairs' nodes do differ


def test_mnist_size_netlist_compiles_and_loads(engine, rng):
    """1568 input sources and about 158,000 resistors, flat, solved by ngspice 39."""
    network = LayeredNetwork(replace(CircuitSpec((784, 100, 10)), amplifier_gain=4.0))
    g = network.initial_conductances(rng, 1e-6, 2e-5)
    assert network.n_parameters == 1570 * 100 + 102 * 10
    v = engine.solve(network, g, rng.uniform(0, 1, (2, 784))).phase(0.0)
    assert v.shape == (2, 110) and np.all(np.isfinite(v))


@pytest.mark.parametrize("signed_weights", ["doubled-inputs", "differential-pairs"])
def test_graph_holds_every_element_and_is_connected(rng, signed_weights):
    network = LayeredNetwork(CircuitSpec((3, 4, 2), amplifier_gain=2.0,
                                         signed_weights=signed_weights))
    g = network.initial_conductances(rng)
    graph = circuit_graph(network, g)
    resistors = [d for _, _, d in graph.edges(data=True) if d["kind"] == "R"]
    assert len(resistors) == network.n_parameters
    assert {d["value"] for d in resistors} == {float(v) for a in g for v in a.flat}
    import networkx as nx
    assert nx.is_connected(graph)
    assert set(network.free_nets) <= set(graph.nodes)


def test_wire_resistance_matches_a_hand_solved_crossbar(precise_engine):
    """One input (rows +A x and -A x) and the two rails onto two outputs, with a resistor on every
    wire segment: rows run from their drivers past columns 0 and 1, columns run past rows 0..3 on
    to the outputs. Solved here by nodal analysis written out for this layout."""
    ohms = 2000.0
    network = LayeredNetwork(CircuitSpec((1, 2), wire_resistance=ohms))
    g = np.array([[2e-5, 5e-6], [1e-6, 3e-5], [1e-5, 2e-6], [4e-6, 8e-6]])
    drivers = np.array([4 * 0.7, -4 * 0.7, 1.0, -1.0])  # input gain 4 V, rails at +/-1 V
    n_rows, n_cols = g.shape
    # unknowns: row crossing (i, j), column crossing (j, i), output j
    row = lambda i, j: i * n_cols + j  # noqa: E731
    col = lambda j, i: n_rows * n_cols + j * n_rows + i  # noqa: E731
    out = lambda j: 2 * n_rows * n_cols + j  # noqa: E731
    size = 2 * n_rows * n_cols + n_cols
    a, b = np.zeros((size, size)), np.zeros(size)

    def join(p, q, conductance):
        a[p, p] += conductance
        a[q, q] += conductance
        a[p, q] -= conductance
        a[q, p] -= conductance

    segment = 1.0 / ohms
    for i in range(n_rows):
        a[row(i, 0), row(i, 0)] += segment  # from the driver
        b[row(i, 0)] += segment * drivers[i]
        for j in range(1, n_cols):
            join(row(i, j - 1), row(i, j), segment)
    for j in range(n_cols):
        for i in range(1, n_rows):
            join(col(j, i - 1), col(j, i), segment)
        join(col(j, n_rows - 1), out(j), segment)
        for i in range(n_rows):
            join(row(i, j), col(j, i), g[i, j])
    solved = np.linalg.solve(a, b)
    hand = solved[[out(j) for j in range(n_cols)]]
    free = precise_engine.solve(network, (g,), np.array([[0.7]])).phase(0.0)
    np.testing.assert_allclose(network.readout(free)[0], hand, atol=1e-9, rtol=0)
    # the crossing points too, as the engine reports them (rows, then columns, row-major)
    crossings = [solved[row(i, j)] for i in range(n_rows) for j in range(n_cols)] + [
        solved[col(j, i)] for i in range(n_rows) for j in range(n_cols)]
    np.testing.assert_allclose(free[0, n_cols:], crossings, atol=1e-9, rtol=0)
    ideal = precise_engine.solve(LayeredNetwork(CircuitSpec((1, 2))), (g,), np.array([[0.7]]))
    assert np.abs(ideal.phase(0.0)[0] - hand).max() > 1e-3  # the wires do matter here


def test_finite_open_loop_gain_lowers_the_forward_gain_only(engine, rng):
    """Each output settles at the conductance-weighted mean of its rows, the rows being the
    amplifier outputs a / (1 + a / A0) times the hidden voltages (and the rails)."""
    spec = CircuitSpec((3, 4, 2), amplifier_gain=4.0, amplifier_open_loop_gain=20.0)
    network = LayeredNetwork(spec)
    g = network.initial_conductances(rng, 1e-6, 5e-5)
    x = rng.uniform(0, 1, (5, 3))
    v = engine.solve(network, g, x).phase(0.0)
    hidden, outputs = v[:, :4], v[:, 4:]

    def outputs_for(gain):
        rows = np.concatenate([gain * hidden, np.tile([1.0, -1.0], (5, 1))], axis=1)
        return rows @ g[1] / g[1].sum(axis=0)

    np.testing.assert_allclose(outputs, outputs_for(4.0 / (1 + 4.0 / 20.0)), atol=1e-9)
    assert np.abs(outputs - outputs_for(4.0)).max() > 1e-3


@pytest.mark.parametrize("text, title", [
    ("eqprop-analog 2-3-2 trained on x\n.control\nshell rm -rf ~\n.endc",
     "eqprop-analog 2-3-2 trained on x .control shell rm -rf ~ .endc"),
    (".control", "title .control"),
    ("caf\u00e9\u2028\r\x00", "caf? ?"),
    ("  \n ", "eqprop-analog network"),
])
def test_a_title_is_one_safe_line(text, title, rng):
    from eqprop_analog.spice.netlist import spice_title

    assert spice_title(text) == title
    network = LayeredNetwork(CircuitSpec(layers=(2, 3, 2)))
    netlist = netlist_text(network, network.initial_conductances(rng), title=text)
    assert netlist.splitlines()[0] == title and netlist.isascii()


@pytest.mark.parametrize("signed_weights", ["doubled-inputs", "differential-pairs"])
@pytest.mark.parametrize("amplifier_gain", [None, 2.0])
@pytest.mark.parametrize("differential_outputs", [False, True])
def test_crossbar_shapes_counted_from_the_spec_match_the_nets(signed_weights, amplifier_gain,
                                                              differential_outputs):
    spec = CircuitSpec(layers=(5, 4, 3, 2), signed_weights=signed_weights,
                       amplifier_gain=amplifier_gain, differential_outputs=differential_outputs)
    network = LayeredNetwork(spec)
    assert spec.crossbar_shapes == tuple(
        (len(network.driving_nets(l)) + 2, len(network.column_nets(l)))
        for l in range(1, network.n_crossbars + 1))
