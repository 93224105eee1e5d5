"""Numbers in netlists, and the scale suffixes of each dialect.

The tool writes every number as Python's shortest round-trip text (``1e-05``, ``12345.678``):
exponent notation without a scale suffix, which every dialect reads as the same number. It reads a
number (a resistance someone edited) under the dialect's own rules, because the suffixes differ:

- SPICE, as ngspice reads it: case-insensitive. T 1e12, G 1e9, MEG 1e6, K 1e3, M 1e-3 (milli),
  MIL 25.4e-6, U 1e-6, N 1e-9, P 1e-12, F 1e-15, A 1e-18 (Xyce's manual lists no A). Letters
  after the number that are no suffix, or that follow one, are a unit and ignored (``10kohm`` is
  1e4, ``5V`` is 5).
- Spectre: case-sensitive, one character and nothing after it. T 1e12, G 1e9, M 1e6 (mega), K and
  k 1e3, _ 1, % 1e-2, c 1e-2, m 1e-3 (milli), u 1e-6, n 1e-9, p 1e-12, f 1e-15, a 1e-18.

``1M`` is thus 1e-3 in SPICE and 1e6 in Spectre: a factor of 1e9.
"""

from __future__ import annotations

import re

DIALECT_RULES = ("spice", "spectre")
SPICE_SCALES = (("MEG", 1e6), ("MIL", 25.4e-6), ("T", 1e12), ("G", 1e9), ("K", 1e3),
                ("M", 1e-3), ("U", 1e-6), ("N", 1e-9), ("P", 1e-12), ("F", 1e-15), ("A", 1e-18))
SPECTRE_SCALES = {"T": 1e12, "G": 1e9, "M": 1e6, "K": 1e3, "k": 1e3, "_": 1.0, "%": 1e-2,
                  "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def write_number(value: float) -> str:
    """The shortest text that reads back as exactly ``value``, with no scale suffix."""
    return repr(float(value))


def read_number(text: str, rules: str = "spice") -> float:
    """The number ``text`` means under the ``rules`` of a dialect (``spice`` or ``spectre``); a
    ValueError names what is wrong."""
    if rules not in DIALECT_RULES:
        raise ValueError(f"unknown number rules {rules!r}; one of {', '.join(DIALECT_RULES)}")
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a number")
    value, rest = float(match.group()), text[match.end():]
    if not rest:
        return value
    if rules == "spectre":
        if rest in SPECTRE_SCALES:
            return value * SPECTRE_SCALES[rest]
        raise ValueError(f"{text!r}: Spectre takes one scale character of "
                         f"{' '.join(SPECTRE_SCALES)} after a number, not {rest!r}")
    if not rest.isalpha():
        raise ValueError(f"{text!r}: {rest!r} after the number is neither a scale nor a unit")
    return value * next((scale for suffix, scale in SPICE_SCALES
                         if rest.upper().startswith(suffix)), 1.0)
