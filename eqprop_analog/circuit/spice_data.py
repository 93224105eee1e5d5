"""SPICE text a user hands in, read as data: the rules that keep it from making ngspice run a
command or read a file, shared by the readers of subcircuit files and of netlists.

ngspice runs the commands of a ``.control`` block (``shell`` among them) and of every comment line
that starts ``*#``, and reads the file of every ``.include`` and ``.lib``; XSPICE code models (``A``)
and OSDI devices (``N``) can read files or load compiled libraries. None of them has a place in a
circuit handed over as data.
"""

from __future__ import annotations

import re

from eqprop_analog.errors import DataError

# cards a subcircuit file may hold
SUBCIRCUIT_CARDS = {".subckt", ".ends", ".model", ".param", ".func"}
# first letters of the element lines a subcircuit may hold: passive, semiconductor, controlled
# and independent sources, behavioural sources, switches, lines and subcircuit calls
ELEMENT_LETTERS = set("rclkdqmjzefghbvixswt")
REFUSED_ELEMENTS = {"a": "an XSPICE code model (some read files)",
                    "n": "an OSDI (Verilog-A) device, which loads a compiled library"}
# ngspice's commands that act on files or the system. Commands run only in .control blocks and
# *ng_script decks, which are refused themselves: this list is no boundary, it turns a line that
# reads as a command (in a netlist it would name an element) into a clear error
COMMANDS = {"shell", "source", "load", "write", "wrdata", "codemodel", "pre_osdi", "osdi", "cd",
            "exec", "quit", "exit", "set", "run", "bg_run", "remcirc", "reset"}
# why a card is refused
WHY = {".control": "it starts a block of commands that ngspice would run",
       ".endc": "it ends a block of commands", ".include": "it reads another file",
       ".inc": "it reads another file", ".lib": "it reads another file (or a library section)",
       ".endl": "it ends a library section", ".end": "it would end the whole netlist",
       ".options": "it changes the simulator's options for the whole netlist",
       ".option": "it changes the simulator's options for the whole netlist"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# cards of a netlist that are never data: ngspice matches them by these prefixes (.incx reads a
# file as .include does, .controlx starts a block of commands)
NETLIST_REFUSED_PREFIXES = (".control", ".endc", ".inc", ".lib", ".endl")


def statements(text: str, path: str, *, title: bool = False) -> list[tuple[int, str]]:
    """(first line number, statement) of SPICE text, continuation lines joined and comments
    dropped (and the first line, a netlist's ``title``); characters other than printable ASCII,
    the backslash (ngspice reads it in places as an escape or a line join; no circuit needs one)
    and a comment starting ``*#`` (ngspice runs it as a command) are a DataError naming the
    line."""
    statements: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if title and number == 1:
            continue
        if any(not (c.isascii() and (c.isprintable() or c == "\t")) for c in raw):
            raise DataError(f"{path} line {number}: characters other than printable ASCII; a "
                            "SPICE file is plain text")
        if "\\" in raw:
            raise DataError(f"{path} line {number}: a backslash; SPICE data has no use for one")
        line = re.split(r"\s[$;]|^[$;]", raw, maxsplit=1)[0].strip()  # inline comments
        if line.startswith("*#"):
            raise DataError(f"{path} line {number}: a comment starting with *#, which ngspice "
                            "runs as a command; write '* #' for a comment")
        if not line or line.startswith("*"):
            continue
        if line.startswith("+"):
            if not statements:
                raise DataError(f"{path} line {number}: a continuation line (+) with nothing "
                                "to continue")
            first, joined = statements[-1]
            statements[-1] = (first, f"{joined} {line[1:].strip()}")
        else:
            statements.append((number, line))
    return statements




def check_netlist_text(text: str, where: str) -> None:
    """Refuse netlist text that would make ngspice run a command or read a file: a DataError
    names the first such line (see the module's docstring)."""
    title = text.splitlines()[0].strip().lower() if text.strip() else ""
    if title.startswith((".", "*ng_script", "*#")):
        raise DataError(f"{where} line 1: the title line starts with {title.split()[0]!r}, which "
                        "ngspice would read as a card or as a script; start it with a word")
    for number, statement in statements(text, where, title=True):
        word = statement.split()[0]
        first = word.lower()
        prefix = next((p for p in NETLIST_REFUSED_PREFIXES if first.startswith(p)), None)
        if prefix is not None:
            why = WHY[prefix]
            raise DataError(f"{where} line {number}: {word} is not accepted in a netlist handed "
                            f"in: {why}")
        check_element_word(word, f"{where} line {number}", "a netlist handed in")


def check_element_word(word: str, where: str, holder: str) -> None:
    """Refuse a statement whose first word is an ngspice command or names a refused device (in
    a netlist a command would name an element; such a line is refused rather than guessed at)."""
    first = word.lower()
    if first in COMMANDS:
        raise DataError(f"{where}: {word!r} is an ngspice command, not an element; {holder} "
                        "holds no commands")
    if first[0] in REFUSED_ELEMENTS:
        raise DataError(f"{where}: {word} is {REFUSED_ELEMENTS[first[0]]}, not accepted in "
                        f"{holder}")
