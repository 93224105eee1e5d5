"""A user's own neuron or amplifier: a ``.subckt`` read from a SPICE file that the user names as
``FILE:NAME``, checked as data before any of it reaches ngspice.

The file may hold subcircuit definitions (the one named and helpers it calls), and inside them
element lines, ``.model``, ``.param`` and ``.func`` cards and comments: nothing else. Every other
card is refused with the line that holds it: ``.control`` blocks and control commands such as
``shell`` (ngspice would run them), ``.include`` and ``.lib`` (they read other files), XSPICE and
OSDI devices (some of them read files or load libraries), analyses, ``.options`` and ``.end``
(they act on the whole netlist the subcircuit is written into).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from eqprop_analog.circuit.spice_data import (
    ELEMENT_LETTERS,
    NAME,
    SUBCIRCUIT_CARDS,
    WHY,
    check_element_word,
    statements,
)
from eqprop_analog.errors import ConfigError, DataError
from eqprop_analog.files import read_user_text

# the ports each role's subcircuit has, in order (their meaning, for messages)
PORTS = {"neuron": ("node", "gnd"), "amplifier": ("in", "out")}
# names the built-in library uses: a user's subcircuit of the same name would replace it
RESERVED_NAMES = {"bidir_amp", "bidir_diff_amp"}
MAX_BYTES = 1_000_000
# E and G sources in ngspice's gate forms (and(2) ...) become XSPICE code models
_GATE = re.compile(r"\b(n?and|n?or)\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class UserSubcircuit:
    """A checked subcircuit: its ``name``, its ``role`` (neuron or amplifier), the file it came
    from and the ``text`` to write into a netlist (every definition of the file, as checked:
    one statement per line, comments dropped)."""

    name: str
    role: str
    path: str
    text: str
    definitions: tuple[str, ...] = ()  # every .subckt of the file, names lowered


def parse_reference(reference: str, option: str) -> tuple[str, str]:
    """``FILE:NAME`` split into the file and the subcircuit's name (the last colon splits)."""
    path, colon, name = str(reference).rpartition(":")
    if not colon or not path or "\x00" in path or not NAME.match(name):
        raise ConfigError(f"{option} must be FILE:NAME, a SPICE file and the name of a .subckt "
                          f"in it (e.g. circuits/examples/mosfet_neuron.lib:NMOS_RELU), got "
                          f"{reference!r}")
    return path, name


def absolute_reference(reference: str, folder: str | os.PathLike, option: str) -> str:
    """``FILE:NAME`` with FILE made absolute, a relative one taken from ``folder`` (``..``
    after a symbolic link as the system takes it): a run's config.toml then names the same file
    from wherever the run is resumed."""
    path, name = parse_reference(reference, option)
    return f"{os.path.realpath(os.path.join(folder, os.path.expanduser(path)))}:{name}"


def read_subcircuit(reference: str, role: str) -> UserSubcircuit:
    """The subcircuit ``FILE:NAME`` for ``role``, its file checked line by line (see the module's
    docstring): a one-line error names the file, the line and what to change."""
    option = f"{role}_model"
    path, name = parse_reference(reference, option)
    if Path(path).is_file() and Path(path).stat().st_size > MAX_BYTES:
        raise DataError(f"{option} file {path} is larger than {MAX_BYTES // 1000} kB: a "
                        "subcircuit file holds a few definitions")
    text = read_user_text(path, f"{option} file", error=DataError)
    checked = statements(text, path)
    definitions, calls = _check_lines(checked, path)
    found = definitions.get(name.lower())
    if found is None:
        known = ", ".join(sorted(d[0] for d in definitions.values())) or "none"
        raise DataError(f"{path} defines no .subckt {name} (it defines: {known})")
    ports = PORTS[role]
    if len(found[1]) != len(ports):
        raise DataError(f"{path}: .subckt {found[0]} has {len(found[1])} ports; a {role} has "
                        f"{len(ports)}, {' then '.join(ports)} (.subckt {found[0]} "
                        f"{' '.join(ports)})")
    graph = nx.DiGraph()
    for line_number, inside, element, callee in calls:
        if callee.lower() not in definitions:
            raise DataError(f"{path} line {line_number}: {element} calls subcircuit {callee}, "
                            "which the file does not define (a subcircuit file must be whole)")
        graph.add_edge(inside.lower(), callee.lower())
    cycles: list[list[str]] = sorted(nx.simple_cycles(graph), key=len)
    if cycles:
        order = list(definitions)  # said from the subcircuit the file defines first
        start = min(range(len(cycles[0])), key=lambda k: order.index(cycles[0][k]))
        cycle = cycles[0][start:] + cycles[0][:start]
        raise DataError(f"{path}: subcircuit {definitions[cycle[0]][0]} calls itself (through "
                        f"{' -> '.join(definitions[n][0] for n in cycle + cycle[:1])})")
    # what ngspice gets is what was checked: the statements, comments dropped
    return UserSubcircuit(found[0], role, path, "\n".join(line for _, line in checked),
                          tuple(definitions))


def _check_lines(checked: list[tuple[int, str]], path: str
                 ) -> tuple[dict[str, tuple[str, tuple[str, ...]]],
                            list[tuple[int, str, str, str]]]:
    """The file's definitions (lowered name -> (name, ports)) and its subcircuit calls (line,
    calling subcircuit, element, callee), after every statement has been checked."""
    definitions: dict[str, tuple[str, tuple[str, ...]]] = {}
    calls: list[tuple[int, str, str, str]] = []
    inside: str | None = None
    for number, statement in checked:
        where = f"{path} line {number}"
        words = statement.split()
        first = words[0].lower()
        if '"' in statement or "'" in statement:
            raise DataError(f"{where}: quoted text ({words[0]} ...); a subcircuit file names no "
                            "files and holds no strings")
        if first.startswith("."):
            card = first.split("(")[0]
            if card not in SUBCIRCUIT_CARDS:
                why = WHY.get(card, "it is not a subcircuit statement")
                raise DataError(f"{where}: {words[0]} is not accepted in a subcircuit file: {why}; "
                                "keep .subckt/.ends, .model, .param and element lines")
            if card == ".subckt":
                if inside is not None:
                    raise DataError(f"{where}: .subckt inside .subckt {inside}; define helper "
                                    "subcircuits one after another")
                inside = _definition(words, where, definitions)
            elif card == ".ends":
                if inside is None:
                    raise DataError(f"{where}: .ends without a .subckt")
                if len(words) > 1 and words[1].lower() != inside.lower():
                    raise DataError(f"{where}: .ends {words[1]} closes .subckt {inside}")
                inside = None
            elif inside is None:
                raise DataError(f"{where}: {words[0]} outside a .subckt; put models and "
                                "parameters inside the subcircuit that uses them")
            continue
        check_element_word(words[0], where, "a subcircuit file")
        if first[0] not in ELEMENT_LETTERS or not NAME.match(words[0]):
            raise DataError(f"{where}: {words[0]!r} is not an element line")
        if inside is None:
            raise DataError(f"{where}: element {words[0]} outside a .subckt")
        if first[0] in "eg" and _GATE.search(statement):
            raise DataError(f"{where}: {words[0]} is a digital gate form, which ngspice turns "
                            "into an XSPICE code model; write the source's expression instead")
        if first[0] == "x":
            plain = [w for w in words[1:] if "=" not in w and w.lower() != "params:"]
            if len(plain) < 2:
                raise DataError(f"{where}: {words[0]} names no subcircuit")
            calls.append((number, inside, words[0], plain[-1]))
    if inside is not None:
        raise DataError(f"{path}: .subckt {inside} has no .ends")
    return definitions, calls


def _definition(words: list[str], where: str,
                definitions: dict[str, tuple[str, tuple[str, ...]]]) -> str:
    if len(words) < 2 or not NAME.match(words[1]):
        raise DataError(f"{where}: .subckt needs a name")
    name = words[1]
    if name.lower() in RESERVED_NAMES:
        raise DataError(f"{where}: {name} is the name of a built-in subcircuit; choose another")
    if name.lower() in definitions:
        raise DataError(f"{where}: .subckt {name} is defined twice")
    ports = []
    for word in words[2:]:
        if word.lower() == "params:" or "=" in word:
            break
        ports.append(word)
    definitions[name.lower()] = (name, tuple(ports))
    return name
