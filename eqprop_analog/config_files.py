"""Config files: a TOML document's tables applied to a :class:`~eqprop_analog.config.RunConfig`
(every table and option checked by name), a config file read with its relative paths taken from
its folder, and a config written back as TOML that reads back the same."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from eqprop_analog.config import OPTIONS, SECTIONS, RunConfig
from eqprop_analog.config_paths import paths_from_folder
from eqprop_analog.errors import ConfigError
from eqprop_analog.files import read_user_text
from eqprop_analog.options import toml_value


def config_from_mapping(data: dict, base: RunConfig = RunConfig()) -> RunConfig:
    """Apply a parsed TOML document (tables circuit, training, engine, device) on top of ``base``."""
    values = {}
    for section, table in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"unknown table [{section}] in config; use "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table of options")
        for key, value in table.items():
            if key not in SECTIONS[section]:
                raise ConfigError(f"unknown option {key!r} in [{section}]; known: "
                                  f"{', '.join(SECTIONS[section])}")
            values[key] = value
    return apply_overrides(base, values)


def apply_overrides(base: RunConfig, values: dict[str, Any]) -> RunConfig:
    """``base`` with the options in ``values`` set (validated; an unknown name is an error)."""
    unknown = sorted(set(values) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r}; known: {', '.join(OPTIONS)}")
    return replace(base, **values)


def load_config(path: str | Path, base: RunConfig = RunConfig()) -> RunConfig:
    """Read a TOML config file; the FILE of a ``neuron_model`` or ``amplifier_model`` and an
    ``init_from`` CSV are taken from the config file's folder where they are relative."""
    data = read_toml(path, "config file")
    return config_from_mapping(paths_from_folder(data, Path(path).absolute().parent), base)


def read_toml(path: str | Path, what: str) -> dict:
    """A TOML file's content, or a one-line error naming ``what`` the file is."""
    path = Path(path)
    text = read_user_text(path, what, ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into each nested array or inline table
        raise ConfigError(f"{what} {path} nests arrays or tables too deeply to be a "
                          "config") from None


def config_to_toml(config: RunConfig) -> str:
    """TOML text that :func:`load_config` reads back into the same config."""
    lines = []
    for section, names in SECTIONS.items():
        lines.append(f"[{section}]")
        lines += [f"{name} = {toml_value(getattr(config, name))}" for name in names]
        lines.append("")
    return "\n".join(lines)
