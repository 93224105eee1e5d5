"""What every ``verify`` statement shares: the request (circuit, engine, beta, output folder), the
random circuit and batch it checks, and the result it writes (figures and verify.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.size import check_fits
from eqprop_analog.config import RunConfig
from eqprop_analog.errors import ConfigError
from eqprop_analog.files import atomic_write_text
from eqprop_analog.spice.library import find_library

RESULT_FILE = "verify.json"


@dataclass(frozen=True)
class VerifyRequest:
    """One ``verify`` command: the circuit (``layers`` with ``config``'s circuit options), the
    engine (None: every engine the statement runs on), beta (None: the statement's own default),
    the output folder, and the scale of the run (``quick`` shrinks every sweep for the test
    suite)."""

    config: RunConfig
    layers: tuple[int, ...]
    engine: str | None = None
    beta: float | None = None
    out: Path = Path("verify")
    quick: bool = False
    log: Callable[[str], object] = print
    ngspice_flags: tuple[str, ...] = ()  # ngspice's options given as flags, for the check below

    def __post_init__(self) -> None:
        if len(self.layers) < 3:
            raise ConfigError(f"verify needs a circuit with a hidden layer, e.g. --layers 4,8,3; "
                              f"got {','.join(map(str, self.layers))}")
        if self.beta is not None and not (np.isfinite(self.beta) and 0 < self.beta < 1):
            raise ConfigError(f"--beta must be a conductance in (0, 1) S, got {self.beta!r}")

    def engines(self, statement: str, runs_on: tuple[str, ...]) -> tuple[str, ...]:
        """The engines to run ``statement`` on: the requested one, if the statement runs on it,
        else all of ``runs_on``. A missing libngspice is reported here, before any work."""
        if self.engine is not None and self.engine not in runs_on:
            raise ConfigError(f"verify {statement} runs on {' and '.join(runs_on)} only; drop "
                              f"--engine {self.engine}")
        engines = runs_on if self.engine is None else (self.engine,)
        if "ngspice" in engines:
            find_library()
        elif self.ngspice_flags:
            raise ConfigError(f"verify {statement} runs on {' and '.join(engines)} only, so "
                              f"{', '.join(self.ngspice_flags)} would change nothing; drop it")
        return engines

    def network(self, engine: str = "native") -> LayeredNetwork:
        spec = self.config.spec_for(self.layers)
        check_fits(spec, engine)
        return LayeredNetwork(spec)

    def batch(self, network: LayeredNetwork, size: int, seed_offset: int = 0
              ) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
        """Conductances drawn from the config's initial range, features in [0, 1] and target
        voltages in [-0.2, 0.2] V, reproducibly from the config's seed (as gradcheck draws them)."""
        rng = np.random.default_rng(self.config.seed + seed_offset)
        conductances = network.initial_conductances(rng, self.config.init_low,
                                                    self.config.init_high)
        x = rng.uniform(0, 1, (size, network.spec.n_inputs))
        targets = rng.uniform(-0.2, 0.2, (size, network.spec.n_outputs))
        return conductances, x, targets


@dataclass
class Verdict:
    """What a statement found: the numbers (verify.json), the lines of its table and the figures
    it wrote."""

    result: dict
    table: list[str]
    figures: list[Path] = field(default_factory=list)

    def plain(self) -> dict:
        """The result with JSON types only (numpy scalars and arrays converted)."""
        return _plain(self.result)

    def write(self, out: Path) -> Path:
        path = out / RESULT_FILE
        atomic_write_text(path, json.dumps(self.plain(), indent=1) + "\n")
        return path


def _plain(value):
    """``value`` with numpy scalars and arrays made JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def layer_table(title: str, rows: dict[str, dict[str, float]], number: str = ".2e") -> list[str]:
    """A table with one row per key of ``rows`` and one column per layer."""
    layers = list(next(iter(rows.values())))
    lines = [title, "  " + " " * 24 + "".join(f"{layer:>11}" for layer in layers)]
    for name, values in rows.items():
        lines.append(f"  {name:<24}" + "".join(f"{values[layer]:>11{number}}" for layer in layers))
    return lines
