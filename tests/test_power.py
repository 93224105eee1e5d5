"""Static power per element group: a hand-solved circuit, Tellegen's theorem (every group's power
from its own equations sums to zero only at a true steady state), and ngspice's own element
powers (``@element[p]``) from the stand-alone ``ngspice -b``."""

import re
import shutil
import subprocess

import numpy as np
import pytest
import torch

from eqprop_analog.analysis.power import static_power
from eqprop_analog.circuit.elements import circuit_elements, fixed_elements
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spec import CircuitSpec, DiodeModel
from eqprop_analog.engines.equations import Nudge
from eqprop_analog.engines.minimisers import NativeOptions, newton
from eqprop_analog.engines.native import NativeEngine
from eqprop_analog.errors import DataError
from eqprop_analog.spice.netlist import netlist_text

NGSPICE = shutil.which("ngspice")
CIRCUITS = {
    "relu, diode RS": dict(layers=(4, 6, 3), diode=DiodeModel(series_resistance=200.0)),
    "clamp, two hidden layers": dict(layers=(4, 6, 5, 3), neuron="clamp", clamp_low=-0.05,
                                     clamp_high=0.05),
    "differential pairs": dict(layers=(4, 6, 3), signed_weights="differential-pairs"),
    "pairs, clamp, gain 2, finite open-loop gain": dict(
        layers=(4, 6, 3), signed_weights="differential-pairs", neuron="clamp", clamp_low=-0.05,
        clamp_high=0.05, amplifier_gain=2.0, amplifier_open_loop_gain=20.0),
    "amplifier, backward ratio 0.5": dict(layers=(4, 6, 3), amplifier_gain=3.0,
                                          amplifier_backward_ratio=0.5),
    "wire resistance": dict(layers=(4, 6, 3), wire_resistance=50.0),
    "no hidden layer": dict(layers=(4, 3)),
}
PRECISE = NativeOptions(tolerance=1e-13)


def sample(circuit: dict, n: int = 3, seed: int = 0):
    network = LayeredNetwork(CircuitSpec(**circuit))
    rng = np.random.default_rng(seed)
    return network, network.initial_conductances(rng), rng.uniform(0, 1, (n, network.spec.n_inputs))


def ngspice_state(network, conductances, x):
    """ngspice's free voltages and every element's absorbed power at the inputs ``x`` (one
    sample), printed with 16 digits by ``ngspice -b``."""
    names = [e.name.lower() for e in circuit_elements(network, conductances)
             if not e.name.startswith("X_")]
    for e in fixed_elements(network):
        if e.name.startswith("X_A"):  # the built-in amplifier's controlled sources
            inner = ["e_fwd", "v_sense"] + (["f_bwd_p", "f_bwd_n"] if network.spec.pairs
                                            else ["f_bwd"])
            names += [f"{n[0]}.{e.name.lower()}.{n}" for n in inner]
    asked = [f"v({n})" for n in network.free_nets] + [power_of(n, network) for n in names]
    text = netlist_text(network, conductances, features=x, options={
        "reltol": 1e-12, "vntol": 1e-15, "abstol": 1e-20}, analysis=[
        ".control", "option numdgt=16", "op"] + [f"print {a}" for a in asked] + [".endc"])
    done = subprocess.run([NGSPICE, "-n", "-b"], input=text, capture_output=True, text=True,
                          timeout=120, check=True)
    printed = dict(re.findall(r"^(\S+) = (\S+)$", done.stdout, re.MULTILINE))
    assert set(asked) <= set(printed), sorted(set(asked) - set(printed))[:3]
    free = np.array([[float(printed[f"v({n})"]) for n in network.free_nets]])
    return free, {n: float(printed[power_of(n, network)]) for n in names}


def power_of(element: str, network) -> str:
    """What ngspice is asked for an element's absorbed power: ``@element[p]``; for a diode
    without series resistance its junction voltage times its current, as ngspice 46 gives
    ``@d[p]`` = inf there (measured)."""
    if element.startswith("d_") and network.spec.diode.series_resistance == 0:
        return f"@{element}[vd]*@{element}[id]"
    return f"@{element}[p]"


def group_of(element: str) -> str:
    """The power group of an ngspice element name."""
    if m := re.match(r"r_l(\d+)_", element):
        return f"crossbar {m[1]}"
    for prefix, group in (("rw_", "wires"), ("v_in_", "input sources"), ("e_in_", "input sources"),
                          ("v_rail", "bias rails"), ("d_", "neurons"),
                          ("v_dbias", "neuron bias sources"), ("v_clamp", "neuron bias sources")):
        if element.startswith(prefix):
            return group
    assert ".x_a" in element, element
    return "amplifiers"


def test_a_single_crossbar_dissipates_what_the_hand_solved_circuit_does():
    """No hidden layer, one output: the node settles at the conductance-weighted mean of its
    rows, and each device dissipates G (V_i - V_out)^2."""
    network, g, x = sample(dict(layers=(3, 1)), n=1)
    rows = np.concatenate([network.input_voltages(x)[0], [1.0, -1.0]])  # inputs, then the rails
    weights = g[0][:, 0]
    out = weights @ rows / weights.sum()
    power = static_power(network, g, x, np.array([[out]]))
    assert power.absorbed["crossbar 1"][0] == pytest.approx(weights @ (rows - out) ** 2,
                                                            rel=1e-13)
    assert power.supplied[0] == pytest.approx(weights @ (rows - out) ** 2, rel=1e-13)
    assert abs(power.imbalance[0]) < 1e-15 * power.supplied[0]


@pytest.mark.parametrize("name", [n for n in CIRCUITS if "wire" not in n
                                  and "backward" not in n and "open-loop" not in n])
def test_the_groups_sum_to_zero_at_a_steady_state_and_not_off_it(name):
    network, g, x = sample(CIRCUITS[name])
    free = NativeEngine(PRECISE).solve(network, g, x).phase(0.0)
    power = static_power(network, g, x, free)
    assert np.all(power.supplied > 0)
    assert np.all(np.abs(power.imbalance) <= 1e-9 * power.supplied), power.imbalance
    # 1 mV off at one free node: KCL no longer holds there, and the sum says so
    off = free.copy()
    off[:, 0] += 1e-3
    assert np.all(np.abs(static_power(network, g, x, off).imbalance) > 1e-6 * power.supplied)


@pytest.mark.ngspice
@pytest.mark.skipif(NGSPICE is None, reason="no ngspice program")
@pytest.mark.parametrize("name", list(CIRCUITS))
def test_every_group_agrees_with_ngspices_element_powers(name):
    network, g, x = sample(CIRCUITS[name], n=1)
    free, elements = ngspice_state(network, g, x)
    power = static_power(network, g, x, free)
    theirs: dict[str, float] = {}
    for element, p in elements.items():
        theirs[group_of(element)] = theirs.get(group_of(element), 0.0) + p
    assert set(theirs) == set(power.absorbed) - ({"amplifiers"} if not network.spec.amplified
                                                 else set())
    scale = power.supplied[0]
    for group, p in theirs.items():
        assert power.absorbed[group][0] == pytest.approx(p, rel=1e-7, abs=1e-12 * scale), group
    assert abs(power.imbalance[0]) <= 1e-9 * scale
    assert abs(sum(theirs.values())) <= 1e-9 * scale  # ngspice's own Tellegen sum


def test_an_ideal_reciprocal_amplifier_takes_no_net_power_and_a_real_one_does():
    """Forward a V_in out, a times the output current drawn at the input: the power in at one
    port is the power out at the other. A finite open-loop gain breaks the balance, by
    I_out V_in (a - a / (1 + a / A0)) per amplifier."""
    for circuit in (dict(layers=(4, 6, 3), amplifier_gain=2.0),
                    dict(layers=(4, 6, 3), signed_weights="differential-pairs",
                         amplifier_gain=2.0)):
        network, g, x = sample(circuit)
        free = NativeEngine(PRECISE).solve(network, g, x).phase(0.0)
        power = static_power(network, g, x, free)
        assert np.all(np.abs(power.absorbed["amplifiers"]) <= 1e-15 * power.supplied)
        assert np.all(np.abs(power.absorbed["crossbar 2"]) > 1e-6 * power.supplied)
    network, g, x = sample(dict(layers=(4, 6, 3), amplifier_gain=2.0,
                                amplifier_open_loop_gain=20.0))
    free = np.random.default_rng(1).uniform(-0.3, 0.3, (len(x), len(network.free_nets)))
    power = static_power(network, g, x, free)
    v_in = free[:, network.layer_slices[0]]
    out = network.spec.forward_gain * v_in
    drawn = (g[1][:-2] * (out[:, :, None] - free[:, None, network.layer_slices[1]])).sum(axis=2)
    expected = (drawn * v_in * (2.0 - network.spec.forward_gain)).sum(axis=1)
    np.testing.assert_allclose(power.absorbed["amplifiers"], expected, rtol=1e-12)


@pytest.mark.parametrize("neuron", ["relu", "clamp"])
def test_ideal_diodes_dissipate_nothing_and_carry_current_only_where_they_hold_a_node(neuron):
    network, g, x = sample(dict(layers=(4, 6, 3), ideal_diodes=True, neuron=neuron,
                                clamp_low=-0.05, clamp_high=0.05))
    free = NativeEngine(PRECISE).solve(network, g, x).phase(0.0)
    power = static_power(network, g, x, free)
    assert np.all(np.abs(power.absorbed["neurons"]) <= 1e-9 * power.supplied)
    assert np.all(np.abs(power.imbalance) <= 1e-9 * power.supplied)
    # a diode whose node is off its bound carries nothing, however far KCL is from holding
    # there: 1 mV either way changes no bias source's power
    c = free[:, network.layer_slices[0]]
    lower, upper = (0.45, -0.45) if neuron == "relu" else (-0.05, 0.05)
    off_bound = np.abs(c - lower) > 1e-3
    off_bound &= np.abs(c - upper) > 1e-3
    k, j = np.argwhere(off_bound)[0]
    for step in (1e-3, -1e-3):
        moved = free.copy()
        moved[k, j] += step
        assert static_power(network, g, x, moved).absorbed["neuron bias sources"][k] == \
            power.absorbed["neuron bias sources"][k]


def test_nudging_sources_count_and_keep_the_balance():
    """Fixed currents into the output nodes (current nudging): the state they hold is balanced
    only with their sources' power counted."""
    network, g, x = sample(CIRCUITS["relu, diode RS"])
    currents = np.full((len(x), len(network.output_nets)), 2e-6)
    circuit = NativeEngine(PRECISE).circuit(network, g)
    drive = circuit.drive(torch.as_tensor(network.input_voltages(x), dtype=torch.float64))
    state = newton(circuit, circuit.starting_point(drive), drive,
                   Nudge(currents=torch.as_tensor(currents)), PRECISE)
    voltages = torch.cat(state.states, dim=1).numpy()
    power = static_power(network, g, x, voltages, nudging=currents)
    outputs = voltages[:, network.layer_slices[-1]]
    np.testing.assert_allclose(power.absorbed["nudging sources"],
                               -(outputs * currents).sum(axis=1), rtol=1e-14)
    assert np.all(np.abs(power.imbalance) <= 1e-9 * np.abs(power.supplied))
    # without them KCL fails at the outputs
    assert np.all(np.abs(static_power(network, g, x, voltages).imbalance)
                  > 1e-6 * np.abs(power.supplied))


def test_a_budget_in_chunks_is_the_budget_whole(monkeypatch):
    """Many samples are taken a few at a time (with and without wire resistance)."""
    import eqprop_analog.analysis.power as power_module

    for circuit in (CIRCUITS["relu, diode RS"], CIRCUITS["wire resistance"]):
        network, g, x = sample(circuit)
        free = np.random.default_rng(5).uniform(-0.5, 0.5, (len(x), len(network.free_nets)))
        whole = static_power(network, g, x, free)
        monkeypatch.setattr(power_module, "CHUNK_VALUES", 1)  # one sample at a time
        chunked = static_power(network, g, x, free)
        monkeypatch.undo()
        assert len(x) > 1 and whole.absorbed.keys() == chunked.absorbed.keys()
        for group in whole.absorbed:
            np.testing.assert_allclose(chunked.absorbed[group], whole.absorbed[group],
                                       rtol=1e-12, atol=1e-18)


def test_wrong_shapes_are_refused_in_one_line():
    network, g, x = sample(dict(layers=(4, 6, 3)))
    with pytest.raises(DataError, match="free voltages must have shape"):
        static_power(network, g, x, np.zeros((len(x), 2)))
    with pytest.raises(DataError, match="nudging currents must have shape"):
        static_power(network, g, x, np.zeros((len(x), len(network.free_nets))),
                     nudging=np.zeros((1, 1)))
