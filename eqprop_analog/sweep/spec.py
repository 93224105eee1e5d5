"""A sweep file: which config to start from, which options to vary, and over which seeds.

    [sweep]
    base = "configs/digits.toml"   # a run config, relative to this file (optional)
    seeds = [0, 1]                 # every point runs once per seed
    samples = 12                   # random search only: points drawn
    [fixed]                        # options set in every run
    device = "memristor"
    [grid]                         # every combination of these values ...
    nonlinearity = [0.0, 1.0, 3.0, 5.0]
    [random]                       # ... or values drawn at random
    lr = {log_uniform = [1e-9, 1e-7]}
    pulse = {uniform = [0.001, 0.01]}
    scheme = {choice = ["cst", "rprop"]}

Option names are those of a run config (any table). A file has a grid or a random table, not both.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eqprop_analog.config import OPTIONS, RunConfig
from eqprop_analog.config_files import apply_overrides, load_config, read_toml
from eqprop_analog.config_paths import refuse_nul
from eqprop_analog.errors import ConfigError

DISTRIBUTIONS = ("uniform", "log_uniform", "choice")


@dataclass(frozen=True)
class RunPoint:
    """One run of a sweep: the options it sets (the swept ones and the seed)."""

    values: dict


@dataclass(frozen=True)
class SweepSpec:
    base: RunConfig
    fixed: dict
    grid: dict
    random: dict
    seeds: tuple[int, ...]
    samples: int

    @property
    def swept(self) -> tuple[str, ...]:
        """The options that vary between points, in the file's order."""
        return tuple(self.grid or self.random)

    def points(self) -> list[RunPoint]:
        """Every run, point by point and seed by seed, in a fixed order."""
        if self.grid:
            combos = [dict(zip(self.grid, values))
                      for values in itertools.product(*self.grid.values())]
        else:
            rng = np.random.default_rng(0)
            combos = [{k: _draw(rng, k, d) for k, d in self.random.items()}
                      for _ in range(self.samples)]
        return [RunPoint({**combo, "seed": seed}) for combo in combos for seed in self.seeds]

    def config(self, point: RunPoint) -> RunConfig:
        """The run config of one point (fixed options, then the point's values)."""
        return apply_overrides(self.base, {**self.fixed, **point.values})


MAX_RUNS = 100_000  # a sweep file that expands to more runs is a mistake, not a plan
HEAD_KEYS = ("base", "seeds", "samples")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file: its tables, that every value it names is a valid value of its
    option, and that no run appears twice."""
    path = Path(path)
    data = read_toml(path, "sweep file")
    unknown = set(data) - {"sweep", "fixed", "grid", "random"}
    if unknown:
        raise ConfigError(f"unknown table(s) {', '.join(sorted(unknown))} in {path}; use [sweep], "
                          "[fixed], [grid] or [random]")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{name} in {path} must be a table [{name}], got {table!r}")
    head = data.get("sweep", {})
    extra = sorted(set(head) - set(HEAD_KEYS))
    if extra:
        raise ConfigError(f"[sweep] {extra[0]!r} is not a sweep setting; use "
                          f"{', '.join(HEAD_KEYS)}")
    base = RunConfig()
    if "base" in head:
        if not isinstance(head["base"], str) or not head["base"]:
            raise ConfigError(f"[sweep] base must be the path of a run config, got {head['base']!r}")
        refuse_nul(head["base"], "[sweep] base")
        base = load_config((path.parent / head["base"]).resolve())
    fixed, grid, random = data.get("fixed", {}), data.get("grid", {}), data.get("random", {})
    for table, name in ((fixed, "fixed"), (grid, "grid"), (random, "random")):
        for key in table:
            if key == "seed":
                raise ConfigError(f"[{name}] sets seed; list the seeds in [sweep] seeds instead")
            if key not in OPTIONS:
                raise ConfigError(f"[{name}] {key!r} is not a run option")
    if bool(grid) == bool(random):
        raise ConfigError(f"{path} needs exactly one of [grid] and [random]")
    for key, value in fixed.items():
        _check_value("fixed", key, value)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"[grid] {key} must be a non-empty list of values")
        _check_distinct(f"[grid] {key}", [_check_value("grid", key, v) for v in values])
    for key, spec in random.items():
        _check_distribution(key, spec)
    seeds = head.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ConfigError("[sweep] seeds must be a non-empty list of non-negative integers")
    _check_distinct("[sweep] seeds", seeds)
    samples = head.get("samples", 10)
    if random and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise ConfigError(f"[sweep] samples must be a positive integer, got {samples!r}")
    runs = len(seeds) * (math.prod(len(v) for v in grid.values()) if grid else samples)
    if runs > MAX_RUNS:
        raise ConfigError(f"{path} describes {runs} runs, more than {MAX_RUNS}; split it or "
                          "sweep fewer values")
    # combinations of values are checked when each point runs: one that fails is recorded failed
    return SweepSpec(base, fixed, grid, random, tuple(seeds), samples)


def _check_value(table: str, key: str, value):
    """The option's canonical value, or a ConfigError naming the table and the option."""
    try:
        return OPTIONS[key].check(value)
    except ConfigError as exc:
        raise ConfigError(f"[{table}] {exc}") from None


def _check_distinct(what: str, values: list) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"{what} lists {value!r} twice: every run would be made twice")
        seen.add(value)


def _check_distribution(key: str, spec) -> None:
    if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in DISTRIBUTIONS):
        raise ConfigError(f"[random] {key} must be one of {{uniform = [a, b]}}, "
                          f"{{log_uniform = [a, b]}} or {{choice = [...]}}")
    (kind, values), = spec.items()
    if not isinstance(values, list) or not values:
        raise ConfigError(f"[random] {key}: {kind} needs a list")
    if kind == "choice":
        _check_distinct(f"[random] {key} choice", [_check_value("random", key, v) for v in values])
        return
    if OPTIONS[key].kind is not float:
        raise ConfigError(f"[random] {key}: {kind} draws real numbers, and {key} is not a real "
                          "number option; use {choice = [...]}")
    for value in values:
        if isinstance(value, (list, str, bool)) or value is None:
            raise ConfigError(f"[random] {key}: {kind} needs [low, high] of numbers, got "
                              f"{value!r}")
        _check_value("random", key, value)
    if len(values) != 2 or not values[0] < values[1] or (kind == "log_uniform" and values[0] <= 0):
        raise ConfigError(f"[random] {key}: {kind} needs [low, high] with low < high"
                          + (" and low > 0" if kind == "log_uniform" else ""))


def _draw(rng: np.random.Generator, key: str, spec: dict):
    (kind, values), = spec.items()
    if kind == "choice":
        return values[int(rng.integers(len(values)))]
    if kind == "uniform":
        return float(rng.uniform(*values))
    return float(math.exp(rng.uniform(math.log(values[0]), math.log(values[1]))))
