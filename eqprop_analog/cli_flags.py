"""Command-line flags: argparse types with one-line errors, and the flags of run options, whose
text the option table (:mod:`eqprop_analog.options`) converts and checks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import numpy as np

from eqprop_analog.errors import ConfigError


def numbers(text: str, kind: type, what: str) -> tuple:
    """A comma-separated list of ``kind``, or a ConfigError naming ``what`` it is."""
    try:
        values = tuple(kind(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values:
        raise ConfigError(f"{what} must be a comma-separated list of numbers, got {text!r}")
    return values


def count(high: int):
    """An argparse type: an integer from 1 to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from 1 to {high}, got {text!r}")
        return value
    return parse


def positive(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def path_argument(text: str) -> str:
    """An argparse type: the path of a file or folder, which an empty one is not (it would
    read as the working folder, or as no option given at all)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return text


def folder_argument(text: str) -> str:
    """An argparse type: the path of a folder to write into, which a file's is not."""
    path = path_argument(text)
    if os.path.lexists(path) and not os.path.isdir(path):
        what = "a file" if os.path.exists(path) else "a symbolic link to nothing"
        raise argparse.ArgumentTypeError(f"{path} is {what}; give a folder")
    return path


class Parser(argparse.ArgumentParser):
    """argparse, with its errors (unknown flag, missing argument) on one line like every other."""

    def error(self, message: str) -> NoReturn:
        report_error(f"{message} (see {self.prog} --help)")
        sys.exit(2)


def add_option_flags(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """A flag for each run option in ``names``, grouped by table; its text is converted and
    checked by the option table (:mod:`eqprop_analog.options`), not by argparse."""
    from eqprop_analog.config import OPTIONS

    groups: dict[str, argparse._ArgumentGroup] = {}
    for name in names:
        spec = OPTIONS[name]
        if spec.section not in groups:
            groups[spec.section] = parser.add_argument_group(f"[{spec.section}] options")
        group = groups[spec.section]
        if spec.kind is bool:  # --name sets it, --no-name clears it (over a config file's)
            group.add_argument(spec.flag, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=spec.help_text())
        else:
            group.add_argument(spec.flag, dest=name, metavar=spec.metavar_text(),
                               help=spec.help_text())


def given_options(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The options given on the command line, converted from their text."""
    from eqprop_analog.config import OPTIONS

    given = {}
    for name in names:
        text = getattr(args, name)
        if text is not None:
            given[name] = text if OPTIONS[name].kind is bool else OPTIONS[name].parse(text)
    return given


def option_names(*sections: str, but: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The run options of these tables, but those in ``but``."""
    from eqprop_analog.config import SECTIONS

    return tuple(n for s in sections for n in SECTIONS[s] if n not in but)


def report_error(message: str) -> None:
    """The one line a user sees for an error: no traceback, no line breaks."""
    print(f"eqprop-analog: error: {' '.join(message.split())}", file=sys.stderr)
