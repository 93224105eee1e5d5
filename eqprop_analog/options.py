"""Run options declared once: section, type, default, allowed values, unit and help text.

Each option of a run is one field of :class:`~eqprop_analog.config.RunConfig`, declared with
:func:`option`. The TOML tables, the command-line flags, the conversion of flag text, the
validation and its messages all derive from these declarations, so adding an option is adding one
field there.

``None`` has one spelling in text, the word ``none`` (in a TOML file and on the command line), and
it is allowed only where an option says what it means.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, fields, replace
from typing import Any

from eqprop_analog.errors import ConfigError

NONE = "none"
TABLES = ("circuit", "training", "engine", "device")  # the sections of a config file, in order
_KIND_WORDS = {int: ("an integer", "integers"), float: ("a number", "numbers"),
               str: ("text", "texts"), bool: ("true or false", "true or false")}


@dataclass(frozen=True)
class Option:
    """One run option. ``low``/``high`` bound numbers (exclusive where ``*_open``); ``many`` takes
    a list (a single value is a list of one); ``none`` says what ``None`` means where it is
    allowed; ``suffix`` admits any text ending so besides the ``choices`` (a file of that kind)."""

    section: str
    kind: type
    default: Any
    help: str
    unit: str = ""
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    many: bool = False
    none: str = ""
    suffix: str = ""
    metavar: str = ""
    name: str = ""  # the field's name, filled in by options_of

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def describe(self) -> str:
        """What the option accepts, as the end of a sentence "<name> must be ..."."""
        singular, plural = _KIND_WORDS[self.kind]
        if self.choices:
            text = "one of " + ", ".join(self.choices)
            if self.suffix:
                text += f", or a {self.suffix} file"
        else:
            text = (f"a list of {plural}" if self.many else singular) + self._range()
            if self.unit:
                text += f" ({self.unit})"
        if self.none:
            text += f', or "{NONE}" ({self.none})'
        return text

    def _range(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            return (f" in {'(' if self.low_open else '['}{_bound(low)}, {_bound(high)}"
                    f"{')' if self.high_open else ']'}")
        if low is not None:
            return f" {'>' if self.low_open else '>='} {_bound(low)}"
        if high is not None:
            return f" {'<' if self.high_open else '<='} {_bound(high)}"
        return ""

    def _error(self, value: Any) -> ConfigError:
        return ConfigError(f"{self.name} must be {self.describe()}, got {value!r}")

    def check(self, value: Any) -> Any:
        """``value`` in its canonical form (floats for numbers, tuples for lists), or ConfigError."""
        if value is None or (isinstance(value, str) and value.lower() == NONE and self.none):
            if self.none:
                return None
            raise self._error(value)
        if self.many:
            values = list(value) if isinstance(value, (list, tuple)) else [value]
            if not values:
                raise self._error(value)
            return tuple(self._check_one(v, value) for v in values)
        return self._check_one(value, value)

    def _check_one(self, value: Any, whole: Any) -> Any:
        if self.kind is bool:
            if not isinstance(value, bool):
                raise self._error(whole)
            return value
        if self.kind is str:
            # no empty text, and no NUL, which no file name can hold
            if not isinstance(value, str) or not value.strip() or "\x00" in value:
                raise self._error(whole)
            if self.choices and value not in self.choices and not (
                    self.suffix and value.endswith(self.suffix)):
                raise self._error(whole)
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(whole)
        if self.kind is int and not isinstance(value, int):
            raise self._error(whole)
        if not math.isfinite(value):
            raise self._error(whole)
        if 0 < abs(value) < sys.float_info.min:  # subnormal: a few bits, and 1 / value overflows
            raise ConfigError(f"{self.name} {value!r} is below the smallest normal float "
                              f"({sys.float_info.min:.3g}), which no computation here resolves")
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise self._error(whole)
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise self._error(whole)
        return float(value) if self.kind is float else value

    def parse(self, text: str) -> Any:
        """The value of a flag's ``text`` (types only; :meth:`check` validates it)."""
        if self.none and text.strip().lower() == NONE:
            return None
        if self.kind is str:
            return text
        parts = text.split(",") if self.many else [text]
        try:
            values = [self.kind(part.strip()) for part in parts]
        except ValueError:
            values = []
        if not values or any(not part.strip() for part in parts):
            commas = " (values separated by commas)" if self.many else ""
            raise ConfigError(f"{self.flag} must be {self.describe()}, got {text!r}{commas}")
        return tuple(values) if self.many else values[0]

    def metavar_text(self) -> str:
        if self.metavar:
            return self.metavar
        if self.choices:
            return "{" + ",".join(self.choices) + "}"
        one = {int: "N", float: "X", str: "TEXT"}[self.kind]
        return f"{one}[,{one}...]" if self.many else one

    def help_text(self) -> str:
        """The flag's help: what it is, its unit, its default and what "none" means."""
        default = NONE if self.default is None else (
            ",".join(map(str, self.default)) if isinstance(self.default, tuple) else
            str(self.default).lower() if isinstance(self.default, bool) else self.default)
        unit = f", {self.unit}" if self.unit else ""
        none = f'; "{NONE}": {self.none}' if self.none else ""
        return f"{self.help}{unit} (default {default}{none}; [{self.section}] {self.name})"


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e7 else f"{value:g}"


def option(section: str, kind: type, default: Any, help: str, **constraints: Any) -> Any:
    """A dataclass field carrying its :class:`Option` (see the module docstring)."""
    if section not in TABLES:
        raise ValueError(f"unknown section {section!r}")
    spec = Option(section, kind, default, help, **constraints)
    return field(default=default, metadata={"option": spec})


def options_of(cls: type) -> dict[str, Option]:
    """The options of a dataclass declared with :func:`option`, by name, in declaration order."""
    return {f.name: replace(f.metadata["option"], name=f.name)
            for f in fields(cls) if "option" in f.metadata}


def toml_value(value: Any) -> str:
    """TOML text of an option value (``None`` as ``"none"``)."""
    if value is None:
        return f'"{NONE}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        for char, code in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            escaped = escaped.replace(char, code)
        return '"' + "".join(c if c.isprintable() else f"\\U{ord(c):08x}" for c in escaped) + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def markdown_table(options: dict[str, Option]) -> str:
    """The README's table of ``options`` (a test keeps the README equal to it)."""
    rows = ["| option | flag | accepts | default | what it is |", "|---|---|---|---|---|"]
    for spec in options.values():
        default = toml_value(spec.default).replace('"', "")
        rows.append(f"| `[{spec.section}] {spec.name}` | `{spec.flag}` | {spec.describe()} | "
                    f"{default} | {spec.help} |")
    return "\n".join(rows) + "\n"
