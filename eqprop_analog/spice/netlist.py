"""Deterministic, readable SPICE netlists of a LayeredNetwork and its weight map (reading them back:
:mod:`eqprop_analog.spice.readback`).

Resistors are written as resistances, and in exported netlists each carries its exact conductance
in an inline comment (``$ G=...``), since 1/(1/G) is not always G in floating point. The diode model
and the amplifier subcircuit are copied in from the library in circuits/, so a netlist is
self-contained.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.elements import (
    Element,
    circuit_elements,
    fixed_elements,
    input_elements,
    wire_segments,
)
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.topology import check_topology, element_nets
from eqprop_analog.errors import ConfigError
from eqprop_analog.files import atomic_write_text
from eqprop_analog.spice.scales import write_number

LIBRARY_PACKAGE = "eqprop_analog.circuits"  # circuits/ in the source tree, shipped in the wheel
LIBRARY_FILES = {"diode": "neuron_diode.lib", "amplifier": "bidirectional_amplifier.lib",
                 "differential_amplifier": "differential_amplifier.lib"}


def library_text(name: str) -> str:
    """Text of one file of the SPICE library in circuits/."""
    return resources.files(LIBRARY_PACKAGE).joinpath(LIBRARY_FILES[name]).read_text().rstrip("\n")


number = write_number  # the one way a netlist writes a number: shortest exact text, no suffix


def resistance_text(conductance: float) -> str:
    return repr(1.0 / float(conductance))


def _value(element: Element) -> float:
    if element.value is None:
        raise ValueError(f"element {element.name} ({element.kind}) has no value")
    return element.value


def element_line(element: Element) -> str:
    nets = " ".join(element.nets)
    if element.kind == "D":
        return f"{element.name} {nets} {element.model}"
    if element.kind == "V":
        return f"{element.name} {nets} DC {number(_value(element))}"
    if element.kind in ("E", "W"):
        return f"{element.name} {nets} {number(_value(element))}"
    if element.kind == "X":
        if element.value is None:  # a user's subcircuit: no parameters
            return f"{element.name} {nets} {element.model}"
        extra = "".join(f" {k}={number(v)}" for k, v in element.parameters)
        return f"{element.name} {nets} {element.model} gain={number(_value(element))}{extra}"
    raise ValueError(f"unknown element kind {element.kind!r}")


def resistor_lines(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                   annotate: bool = True, first_crossbar: int = 1) -> list[str]:
    """The wire segments and devices of every crossbar from ``first_crossbar`` on, each crossbar
    under a comment. The devices are formatted straight from the network's layout
    (``device_nets``): the engine writes this for every mini-batch."""
    lines = []
    for l, g in enumerate(conductances[first_crossbar - 1:], start=first_crossbar):
        rows, cols = network.shapes[l - 1]
        lines.append(f"* crossbar {l}: {rows - 2} rows + 2 bias rails -> {cols} columns")
        if network.spec.wire_resistance:
            lines.append(f"* crossbar {l} wires: {number(network.spec.wire_resistance)} ohm per "
                         "segment")
            lines += [element_line(e) for e in wire_segments(network, l)]
        a, b = network.device_nets(l)
        for name, p, q, siemens in zip(network.resistor_names[l - 1].ravel().tolist(),
                                       a.ravel().tolist(), b.ravel().tolist(), g.ravel().tolist()):
            line = f"{name} {p} {q} {resistance_text(siemens)}"
            lines.append(f"{line} $ G={number(siemens)}" if annotate else line)
    return lines


def one_line(text: str) -> str:
    """``text`` as one line of printable ASCII without backslashes (which netlists handed in may
    not hold): every other character ``?``, runs of white space one space."""
    return " ".join("".join(c if c.isascii() and c.isprintable() and c != "\\"
                            else "?" if not c.isspace() else " " for c in text).split())


def spice_title(text: str) -> str:
    """``text`` made safe as a netlist's title line: one line of printable ASCII (every other
    character becomes ``?``, runs of white space one space), never starting with a dot or a star.
    A title built from a user's string (a dataset's file name) can then neither end the line and
    start a ``.control`` block nor be read as a card or as ngspice's ``*ng_script`` marker."""
    title = one_line(text) or "eqprop-analog network"
    # a title starting with a dot would be read as a card, one starting "*ng_script" as a script
    return f"title {title}" if title.startswith((".", "*")) else title


def header_lines(network: LayeredNetwork, title: str) -> list[str]:
    spec = network.spec
    d = spec.diode
    lines = [
        spice_title(title),
        f"* eqprop-analog layered resistive network, layers {'-'.join(map(str, spec.layers))}",
        f"* input gain {number(spec.input_gain)} V, conductances in [{number(spec.g_min)}, "
        f"{number(spec.g_max)}] S, bias rails +/-{number(spec.bias_rail)} V, neuron "
        f"{spec.neuron_model.name if spec.neuron_model else spec.neuron}",
    ]
    if spec.hidden and spec.neuron_model is None:
        lines += [f".param diode_is={number(d.saturation_current)} "
                  f"diode_n={number(d.emission_coefficient)} diode_rs={number(d.series_resistance)}",
                  library_text("diode")]
        if spec.diode_spread > 0:
            lines.append(f"* each neuron diode's own IS (log-normal spread "
                         f"{number(spec.diode_spread)} around diode_is)")
            for l, currents in enumerate(network.saturation_currents, start=1):
                kinds = [""] if spec.neuron == "relu" else ["L", "H"]
                for which, row in zip(kinds, currents):
                    lines += [f".model {network.diode_model_name(l, j, which)} D(IS={number(i)} "
                              f"N={{diode_n}} RS={{diode_rs}})" for j, i in enumerate(row)]
    if spec.pairs and spec.hidden:
        lines.append(library_text("differential_amplifier"))
    elif spec.amplifier_gain is not None and spec.hidden:
        lines.append(library_text("amplifier"))
    written: set[str] = set()
    for model in spec.user_subcircuits:  # checked as data when they were read
        lines.append(f"* {model.role}: {model.name} from {one_line(model.path)}")
        if model.text not in written:  # one file for both roles goes in once
            lines.append(model.text)
            written.add(model.text)
    return lines


def netlist_text(network: LayeredNetwork, conductances: tuple[np.ndarray, ...], *,
                 title: str = "eqprop-analog network", features: np.ndarray | None = None,
                 stimulus: list[str] | None = None,
                 options: Mapping[str, float | None] | None = None,
                 save: tuple[str, ...] | None = None, annotate: bool = True,
                 first_crossbar: int = 1, analysis: list[str] | None = None) -> str:
    """The netlist of ``network`` with the given conductances.

    The inputs are DC sources at ``features`` (zeros by default), unless ``stimulus`` gives the lines
    that drive the input nets instead (the engines' swept sources). ``save`` limits the vectors that
    ngspice keeps; ``options`` become a ``.options`` card (a value None: a bare flag);
    ``annotate`` adds the exact conductance of each resistor as a comment. ``first_crossbar`` 2
    leaves out the first crossbar's devices, for a ``stimulus`` that holds its equivalent.
    ``analysis``: lines before ``.end`` (a test bench's analysis and what it writes).
    """
    if network.spec.ideal_diodes:
        raise ConfigError("ideal diodes have no SPICE model: use the native engine, or a Shockley "
                          "diode (ideal_diodes = false) for netlists and ngspice")
    conductances = network.check_conductances(conductances)
    lines = header_lines(network, title)
    if first_crossbar == 1:
        lines.append("* inputs: +A x_i" if network.spec.pairs else "* inputs: +A x_i and -A x_i")
    if stimulus is None:
        lines += [element_line(e) for e in input_elements(network, features)]
    else:
        lines += stimulus
    lines.append("* bias rails, neuron bias sources, neurons and amplifiers")
    lines += [element_line(e) for e in fixed_elements(network)]
    lines += resistor_lines(network, conductances, annotate, first_crossbar)
    if save:
        lines += [".save " + " ".join(f"v({n})" for n in save[i:i + 16])
                  for i in range(0, len(save), 16)]
    if options:
        lines.append(".options " + " ".join(k if v is None else f"{k}={number(v)}"
                                            for k, v in options.items()))
    lines += analysis or []
    lines.append(".end")
    return "\n".join(lines) + "\n"


# -- weight map and read-back -----------------------------------------------------------------------
def weight_rows(network: LayeredNetwork, conductances: tuple[np.ndarray, ...]) -> list[dict]:
    rows = []
    for l, g in enumerate(network.check_conductances(conductances), start=1):
        row_nets, col_nets = network.resistor_nets(l)
        names = network.resistor_names[l - 1]
        for i, a in enumerate(row_nets):
            for j, b in enumerate(col_nets):
                rows.append({"element": str(names[i, j]), "layer": l, "row": i, "column": j,
                             "from_net": a, "to_net": b, "conductance": float(g[i, j])})
    return rows


def write_netlist(path: str | os.PathLike, network: LayeredNetwork,
                  conductances: tuple[np.ndarray, ...], *, title: str = "eqprop-analog network",
                  features: np.ndarray | None = None) -> tuple[Path, Path]:
    """Write the netlist and its weight map (``<stem>.weights.csv``); return both paths. The
    circuit's topology is checked first (:mod:`eqprop_analog.circuit.topology`)."""
    path = Path(path)
    check_topology(element_nets(circuit_elements(network)), "the network", network.output_nets)
    atomic_write_text(path, netlist_text(network, conductances, title=title, features=features,
                                         options={"reltol": 1e-6}))
    weights = path.with_name(path.stem + ".weights.csv")
    write_weight_map(weights, network, conductances)
    return path, weights


def write_weight_map(path: str | os.PathLike, network: LayeredNetwork,
                     conductances: tuple[np.ndarray, ...]) -> Path:
    """CSV of every conductance: element name, layer, row, column, nets, value in S."""
    rows = weight_rows(network, conductances)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "conductance": repr(row["conductance"])})
    atomic_write_text(path, buffer.getvalue())
    return Path(path)
