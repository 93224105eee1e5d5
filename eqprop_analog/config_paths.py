"""Where the files and folders a config names are: a relative path in a config file is taken from
the file's folder (subcircuits, ``init_from``) or the working folder (a flag; a dataset file and
``data_dir``), and a config holds every path absolute, so a run's config.toml names the same
files from wherever the run is resumed, exported or evaluated."""

from __future__ import annotations

import os
from pathlib import Path

from eqprop_analog.circuit.subcircuit import absolute_reference
from eqprop_analog.errors import ConfigError

USER_SUBCIRCUIT_OPTIONS = ("neuron_model", "amplifier_model")


def refuse_nul(path: str, option: str) -> None:
    """A path option's value that no file can have: one with a NUL character."""
    if "\x00" in path:
        raise ConfigError(f"{option} {path!r} holds a NUL character, which no file name can")


def absolute_paths(values: dict[str, object]) -> dict[str, object]:
    """The path options among ``values`` (option name -> checked value) that change, made
    absolute from the working folder (a dataset file keeps its own name: its stem names the
    dataset)."""
    changed: dict[str, object] = {}
    for name in USER_SUBCIRCUIT_OPTIONS:
        if isinstance(values.get(name), str):
            changed[name] = absolute_reference(str(values[name]), os.getcwd(), name)
    if isinstance(values.get("init_from"), str):
        refuse_nul(str(values["init_from"]), "init_from")
        changed["init_from"] = os.path.realpath(os.path.expanduser(str(values["init_from"])))
    if isinstance(values.get("dataset"), str) and str(values["dataset"]).endswith(".csv"):
        changed["dataset"] = os.path.abspath(os.path.expanduser(str(values["dataset"])))
    if isinstance(values.get("data_dir"), str):
        changed["data_dir"] = os.path.abspath(os.path.expanduser(str(values["data_dir"])))
    return changed


def paths_from_folder(data: dict, folder: Path) -> dict:
    """A parsed config file with its relative ``neuron_model``/``amplifier_model`` FILEs and
    ``init_from`` taken from ``folder`` (the file's own), in place."""
    circuit, training = data.get("circuit"), data.get("training")
    for name in USER_SUBCIRCUIT_OPTIONS:
        if isinstance(circuit, dict) and isinstance(circuit.get(name), str) \
                and circuit[name] != "none":
            circuit[name] = absolute_reference(circuit[name], folder, name)
    if isinstance(training, dict) and isinstance(training.get("init_from"), str) \
            and training["init_from"] not in ("", "none"):  # "" is refused as a value
        refuse_nul(training["init_from"], "init_from")
        training["init_from"] = os.path.realpath(folder / os.path.expanduser(
            training["init_from"]))
    return data
