"""The element list of a layered network: every source, neuron, amplifier, wire segment and
crossbar device, named and connected as :class:`~.layered.LayeredNetwork` lays them out.

The netlist writer, the dialects of the hand-off, the circuit graph and the power checks all read
the circuit from this one list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.circuit.layered import (
    AMPLIFIER_SUBCKT,
    DIFFERENTIAL_AMPLIFIER_SUBCKT,
    GROUND,
    RAIL_N,
    RAIL_P,
    LayeredNetwork,
    index_width,
)


@dataclass(frozen=True)
class Element:
    """One SPICE element. ``value`` is volts for sources, siemens for the crossbar devices, ohms for
    wire segments, the gain for controlled sources and amplifiers; ``model`` names a diode model
    or subcircuit."""

    name: str
    # "V" source, "E" VCVS, "R" crossbar device, "W" wire segment, "D" diode, "X" amplifier
    kind: str
    nets: tuple[str, ...]  # an amplifier's input net(s), then its output net
    value: float | None = None
    model: str | None = None
    parameters: tuple[tuple[str, float], ...] = ()  # further subcircuit parameters


def circuit_elements(network: LayeredNetwork, conductances: tuple[np.ndarray, ...] | None = None
                     ) -> list[Element]:
    """Every element of the circuit in netlist order: input sources, fixed elements, then each
    crossbar's wires and devices (valued by ``conductances`` when given)."""
    checked = None if conductances is None else network.check_conductances(conductances)
    elements = input_elements(network) + fixed_elements(network)
    for l in range(1, network.n_crossbars + 1):
        elements += crossbar_elements(network, l, None if checked is None else checked[l - 1])
    return elements


def input_elements(network: LayeredNetwork, features: np.ndarray | None = None) -> list[Element]:
    """Sources clamping the inputs (at 0 V without ``features``, else at its first sample): +A x_i
    as a voltage source, -A x_i (with doubled inputs) as a VCVS of gain -1."""
    spec = network.spec
    x = np.zeros(spec.n_inputs) if features is None else network.check_features(features)[0]
    elements = []
    for i, (tag, p, m) in enumerate(network.input_tags()):
        elements.append(Element(f"V_IN_{tag}P", "V", (p, GROUND), spec.input_gain * x[i]))
        if m is not None:
            elements.append(Element(f"E_IN_{tag}N", "E", (m, GROUND, p, GROUND), -1.0))
    return elements


def fixed_elements(network: LayeredNetwork) -> list[Element]:
    """Every element except the trainable resistors and the input sources, in netlist order."""
    spec = network.spec
    elements = [Element("V_RAIL_P", "V", (RAIL_P, GROUND), spec.bias_rail),
                Element("V_RAIL_N", "V", (RAIL_N, GROUND), -spec.bias_rail)]
    if spec.hidden and not spec.pairs and spec.neuron_model is None:
        # bias sources shared by all single-ended units
        if spec.neuron == "relu":
            elements += [Element("V_DBIAS_P", "V", ("dbias_p", GROUND), spec.relu_bias),
                         Element("V_DBIAS_N", "V", ("dbias_n", GROUND), -spec.relu_bias)]
        else:
            elements += [Element("V_CLAMP_HI", "V", ("clamp_hi", GROUND), spec.clamp_high),
                         Element("V_CLAMP_LO", "V", ("clamp_lo", GROUND), spec.clamp_low)]
    neuron = _pair_neuron if spec.pairs else _single_neuron
    if spec.neuron_model is not None:
        neuron = _user_neuron
    for l, units in enumerate(network.hidden_units, start=1):
        w = index_width(len(units))
        for j, unit in enumerate(units):
            tag = f"L{l}_{j:0{w}d}"
            elements += neuron(network, l, j, tag, unit)
            elements += _amplifier(network, tag, unit)
    return elements


def _single_neuron(network: LayeredNetwork, layer: int, j: int, tag: str, net: str
                   ) -> list[Element]:
    """Diodes from one node to the shared bias sources: even relu units are held above the
    positive bias, odd ones below the negative bias; clamp units between both clamp sources."""
    if network.spec.neuron == "relu":
        anode, cathode = ("dbias_p", net) if j % 2 == 0 else (net, "dbias_n")
        return [Element(f"D_{tag}", "D", (anode, cathode),
                        model=network.diode_model_name(layer, j))]
    return [Element(f"D_{tag}H", "D", (net, "clamp_hi"),
                    model=network.diode_model_name(layer, j, "H")),
            Element(f"D_{tag}L", "D", ("clamp_lo", net),
                    model=network.diode_model_name(layer, j, "L"))]


def _user_neuron(network: LayeredNetwork, layer: int, j: int, tag: str, net: str
                 ) -> list[Element]:
    """The user's neuron subcircuit from the unit's node to ground."""
    assert network.spec.neuron_model is not None
    return [Element(f"X_N{tag}", "X", (net, GROUND), model=network.spec.neuron_model.name)]


def _pair_neuron(network: LayeredNetwork, layer: int, j: int, tag: str, unit: str
                 ) -> list[Element]:
    """Diodes across a pair, each in series with a bias source stacked on the - node, so that they
    act on the difference u = V(+) - V(-): a relu unit is held above about relu_bias, a clamp unit
    between clamp_low and clamp_high."""
    spec, plus, minus = network.spec, unit + "p", unit + "n"
    if spec.neuron == "relu":
        return [Element(f"V_DBIAS_{tag}", "V", (unit + "b", minus), spec.relu_bias),
                Element(f"D_{tag}", "D", (unit + "b", plus),
                        model=network.diode_model_name(layer, j))]
    return [Element(f"V_CLAMP_HI_{tag}", "V", (unit + "h", minus), spec.clamp_high),
            Element(f"D_{tag}H", "D", (plus, unit + "h"),
                    model=network.diode_model_name(layer, j, "H")),
            Element(f"V_CLAMP_LO_{tag}", "V", (unit + "l", minus), spec.clamp_low),
            Element(f"D_{tag}L", "D", (unit + "l", plus),
                    model=network.diode_model_name(layer, j, "L"))]


def _amplifier(network: LayeredNetwork, tag: str, unit: str) -> list[Element]:
    """The bidirectional amplifier from a hidden unit to its row of the next crossbar: on the node
    (if ``amplifier_gain`` is set), or on the pair's difference (always; gain 1 if unset)."""
    spec = network.spec
    if spec.amplifier_model is not None:
        return [Element(f"X_A{tag}", "X", (unit, unit + "a"), model=spec.amplifier_model.name)]
    if spec.amplifier_gain is None and not spec.pairs:
        return []
    parameters: tuple[tuple[str, float], ...] = ()
    if spec.amplifier_open_loop_gain is not None:
        parameters += (("open_loop", spec.amplifier_open_loop_gain),)
    if spec.amplifier_backward_ratio != 1.0:
        parameters += (("backward", spec.amplifier_backward_ratio),)
    gain = spec.amplifier_gain or 1.0
    if spec.pairs:
        return [Element(f"X_A{tag}", "X", (unit + "p", unit + "n", unit + "a"), gain,
                        model=DIFFERENTIAL_AMPLIFIER_SUBCKT, parameters=parameters)]
    return [Element(f"X_A{tag}", "X", (unit, unit + "a"), gain, model=AMPLIFIER_SUBCKT,
                    parameters=parameters)]


def wire_segments(network: LayeredNetwork, layer: int) -> list[Element]:
    """Crossbar ``layer``'s wire segments (kind "W", ohms; none without wire resistance): each row
    from its driver past columns 0, 1, ...; each column past rows 0, 1, ... and on to its
    neuron."""
    ohms = network.spec.wire_resistance
    if not ohms:
        return []
    rows, cols = network.resistor_nets(layer)
    row_points, column_points = network.crossing_nets(layer)
    segments = []
    for i, driver in enumerate(rows):
        nets = [driver, *row_points[i]]
        segments += [Element(f"RW_L{layer}_R{i}_{j}", "W", (a, b), ohms)
                     for j, (a, b) in enumerate(zip(nets, nets[1:]))]
    for j, neuron in enumerate(cols):
        nets = [*column_points[:, j], neuron]
        segments += [Element(f"RW_L{layer}_C{j}_{i}", "W", (a, b), ohms)
                     for i, (a, b) in enumerate(zip(nets, nets[1:]))]
    return segments


def crossbar_elements(network: LayeredNetwork, layer: int, conductances: np.ndarray | None = None
                      ) -> list[Element]:
    """Crossbar ``layer``'s wire segments, then its devices (kind "R", row-major, valued by
    ``conductances`` when given)."""
    a, b = network.device_nets(layer)
    names = network.resistor_names[layer - 1]
    values = ([None] * names.size if conductances is None
              else np.asarray(conductances, dtype=np.float64).ravel().tolist())
    return wire_segments(network, layer) + [
        Element(name, "R", (p, q), g) for name, p, q, g in
        zip(names.ravel().tolist(), a.ravel().tolist(), b.ravel().tolist(), values)]
