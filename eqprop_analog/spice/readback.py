"""Reading circuits back in: the elements of netlist text (for the topology check), and the
crossbar conductances of a network from a netlist or from a CSV of values (a weight map, or
conductances measured on a chip). A file handed in is data: it is parsed, never run."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.spice_data import check_netlist_text
from eqprop_analog.circuit.topology import ElementNets, check_topology
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.files import read_user_csv
from eqprop_analog.spice.netlist import resistance_text
from eqprop_analog.spice.scales import read_number

# nets of each element letter, after its name (X: up to its subcircuit, F and H: then a source)
_NET_COUNT = {"R": 2, "C": 2, "L": 2, "D": 2, "V": 2, "I": 2, "B": 2, "F": 2, "H": 2, "E": 4,
              "G": 4}


def netlist_elements(text: str) -> list[ElementNets]:
    """``(name, kind, nets)`` of every top-level element of netlist text, for the topology check:
    the title line, comments, dot cards and subcircuit bodies are skipped. The kind is the
    element's letter (a behavioural source ``B`` of a current is ``I``), for a subcircuit
    instance ``X:<subcircuit>``."""
    elements: list[ElementNets] = []
    depth = 0
    for line in text.splitlines()[1:]:
        words = line.split("$")[0].split(";")[0].split()
        if not words or words[0].startswith("*"):
            continue
        head = words[0].lower()
        if head == ".subckt":
            depth += 1
        elif head == ".ends":
            depth = max(0, depth - 1)
        if depth or head.startswith(".") or head.startswith("+"):
            continue
        letter = words[0][0].upper()
        if letter == "X":
            args = [w for w in words[1:] if "=" not in w and w.lower() != "params:"]
            if len(args) < 2:
                raise ConfigError(f"netlist line {line.strip()!r} names no subcircuit")
            elements.append((words[0], f"X:{args[-1].upper()}", tuple(args[:-1])))
            continue
        nets = tuple(words[1:1 + _NET_COUNT.get(letter, 2)])
        if letter == "B" and any(w.upper().startswith("I=") for w in words[3:]):
            letter = "I"
        elements.append((words[0], letter, nets))
    return elements


def physical(value: float) -> bool:
    """Whether ``value`` and its reciprocal are both finite normal floats > 0: a conductance or a
    resistance a circuit can have (a subnormal float has few bits, and 1 / value overflows)."""
    low, high = sys.float_info.min, sys.float_info.max
    return low <= value <= high and low <= 1.0 / value <= high


def read_conductances(text: str, network: LayeredNetwork) -> tuple[np.ndarray, ...]:
    """Recover the crossbar conductances of ``network`` from netlist text: the exact value of the
    ``$ G=`` comment where the written resistance is that value's (the tool's own lines), else
    1/R (a resistance edited by hand, its old comment left behind). The netlist is checked as
    data (no commands, no files read) and its topology checked first."""
    check_netlist_text(text, "the netlist")
    check_topology(netlist_elements(text), "the netlist", network.output_nets)
    values: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].upper().startswith("R_L"):
            try:
                ohms = read_number(parts[3], "spice")
            except ValueError:
                raise ConfigError(f"cannot read the resistance of {parts[0]} from "
                                  f"{line.strip()!r}; write it as a number of ohms (SPICE scale "
                                  "suffixes allowed: 12.5k, 1meg)") from None
            if not physical(ohms):
                raise ConfigError(f"the resistance of {parts[0]} is {parts[3]}, not a finite number "
                                  f"of ohms > 0, in {line.strip()!r}")
            exact = parts[5][2:] if len(parts) == 6 and parts[5].startswith("G=") else None
            try:  # the tool's own comment, where the resistance is still the one it wrote
                siemens = float(exact) if exact and resistance_text(float(exact)) == parts[3] \
                    else 1.0 / ohms
            except (ValueError, ZeroDivisionError):  # a comment edited into no conductance
                siemens = 1.0 / ohms
            values[parts[0].upper()] = siemens
    out = []
    for names in network.resistor_names:
        missing = [n for n in names.flat if n not in values]
        if missing:
            raise ConfigError(f"netlist lacks {len(missing)} crossbar resistors (first: {missing[0]}); "
                              "was it exported for a network of other layer sizes?")
        out.append(np.vectorize(values.__getitem__, otypes=[float])(names))
    return tuple(out)


def read_weight_map(path: str | os.PathLike, network: LayeredNetwork) -> tuple[np.ndarray, ...]:
    """The crossbar conductances of ``network`` from a CSV with the columns ``element`` and
    ``conductance`` (siemens), such as a weight map or values measured on a chip. Reading is
    strict: an unknown, repeated or missing element, or a value that is not a finite positive
    number, is a one-line error naming the element."""
    path = Path(path)
    columns, rows = read_user_csv(path, "conductance file")
    if "element" not in columns or "conductance" not in columns:
        raise DataError(f"conductance file {path} needs the columns element and conductance")
    where = {str(name).upper(): (l, index) for l, names in enumerate(network.resistor_names)
             for index, name in np.ndenumerate(names)}
    out = [np.full(shape, np.nan) for shape in network.shapes]
    for line, row in enumerate(rows, start=2):
        name, value = row["element"], row["conductance"]
        if name.strip().upper() not in where:
            raise DataError(f"conductance file {path} line {line}: {name!r} is not a crossbar "
                            f"element of the {'-'.join(map(str, network.spec.layers))} network")
        l, index = where[name.strip().upper()]
        if not np.isnan(out[l][index]):
            raise DataError(f"conductance file {path} line {line}: {name} is listed twice")
        try:
            siemens = float(value)
        except ValueError:
            siemens = math.nan
        if not physical(siemens):
            raise DataError(f"conductance file {path} line {line}: the conductance of {name} "
                            f"must be a finite number of siemens > 0, got {value!r}")
        out[l][index] = siemens
    for l, g in enumerate(out):
        if np.isnan(g).any():
            first = network.resistor_names[l][tuple(np.argwhere(np.isnan(g))[0])]
            raise DataError(f"conductance file {path} lacks {int(np.isnan(g).sum())} crossbar "
                            f"elements (first: {first})")
    return tuple(out)
