"""Run configuration: every option of a training run, from a TOML file and command-line flags.

A TOML file has the tables ``[circuit]``, ``[training]``, ``[engine]`` and ``[device]``; flags
override it.
Every value is validated here, with a message that names the option.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from eqprop_analog.circuit.spec import CircuitSpec, DiodeModel
from eqprop_analog.data.datasets import DATASET_NAMES
from eqprop_analog.devices import (ClippedDevice, Device, FaultyDevice, IdealDevice,
                                   MemristorDevice, PulseResponse, QuantizedDevice, Variability)
from eqprop_analog.engines.base import NUDGING_MODES
from eqprop_analog.engines.nudging import COSTS
from eqprop_analog.errors import ConfigError
from eqprop_analog.learning.estimators import ESTIMATORS

ENGINES = ("ngspice", "native")
# Default learning rates (S^2/W for cross-entropy): the crossbar from the inputs, with by far the
# largest fan-in, learns best with a larger one (Fashion-MNIST 1568-100-10, BENCHMARKS.md).
INPUT_LR, LR = 4e-8, 1e-8
DEVICES = ("ideal", "clipped", "quantized", "memristor")


@dataclass(frozen=True)
class RunConfig:
    """All options of a training run (SI units: volts, siemens)."""

    # [circuit]
    hidden: tuple[int, ...] = (64,)
    input_gain: float = 4.0
    g_min: float = 1e-7
    g_max: float = 1e-4
    init_low: float = 1e-6
    init_high: float = 2e-5
    neuron: str = "relu"
    signed_weights: str = "doubled-inputs"  # or "differential-pairs": w = G+ - G- on two columns
    relu_bias: float = 0.45  # about the diode's turn-on voltage: knee near 0 V
    clamp_low: float = -0.5
    clamp_high: float = 0.5
    diode_is: float = 1e-12
    diode_n: float = 1.0
    diode_rs: float = 0.0
    diode_spread: float = 0.0  # relative spread of IS from diode to diode (drawn from the seed)
    bias_rail: float = 1.0
    amplifier_gain: float = 4.0  # 0: no amplifiers between layers
    amplifier_open_loop_gain: float = 0.0  # 0: ideal amplifiers; else A0 (ngspice only)
    differential_outputs: bool = False
    ideal_diodes: bool = False  # native engine only
    wire_resistance: float = 0.0  # ohm per crossbar wire segment (netlists and ngspice only)
    # [training]
    dataset: str = "digits"
    epochs: int = 10
    batch_size: int = 16
    beta: float = 1e-6  # W for cross-entropy, S for squared error
    estimator: str = "symmetric"
    nudging: str = "exact"
    cost: str = "cross-entropy"
    softmax_gain: float = 20.0  # 1/V
    target_high: float = 0.2
    target_low: float = -0.1
    lr: tuple[float, ...] = ()  # empty: INPUT_LR for the crossbar from the inputs, LR for the rest
    lr_decay: float = 0.75  # the learning rates of epoch e are lr * lr_decay ** (e - 1)
    seed: int = 0
    test_fraction: float = 0.2
    data_dir: str = ""  # folder of the MNIST IDX files (dataset mnist; fashion-mnist optional)
    # [engine]
    engine: str = "ngspice"
    reltol: float = 1e-6
    # [device]: how requested conductance changes are programmed, and what a read sees
    device: str = "clipped"  # ideal, clipped, quantized or memristor
    levels: int = 16  # quantized: conductance levels from g_min to g_max
    scheme: str = "cst"  # memristor programming: cst, rprop or write-verify
    pulse: float = 1e-3  # memristor: pulse width dt / dt_max (rprop: the largest)
    rprop_eta: float = 1.01
    nonlinearity: float = 0.0  # memristor beta, for potentiation and depression alike
    eps_intra: float = 0.0  # cycle-to-cycle noise, relative to g_max - g_min
    eps_inter: float = 0.0  # device-to-device spread of the pulse amplitude (relative)
    read_noise: float = 0.0  # relative noise of every read
    read_noise_floor: float = 0.0  # S, absolute noise of every read
    stuck: float = 0.0  # fraction of devices stuck at g_min or g_max

    def __post_init__(self) -> None:
        for name in ("hidden", "lr"):  # a TOML scalar or list, or a tuple from Python
            value = getattr(self, name)
            object.__setattr__(self, name, tuple(value) if isinstance(value, (list, tuple))
                               else (value,))
        if not _is_number(self.amplifier_gain) or self.amplifier_gain < 0:
            raise ConfigError(f"amplifier_gain must be >= 0 (0: none), got {self.amplifier_gain!r}")
        if not str(self.dataset).endswith(".csv"):
            _choice("dataset", self.dataset, DATASET_NAMES)
        _choice("estimator", self.estimator, ESTIMATORS)
        _choice("nudging", self.nudging, NUDGING_MODES)
        _choice("cost", self.cost, COSTS)
        _choice("engine", self.engine, ENGINES)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        for name in ("beta", "softmax_gain", "reltol", "init_low", "init_high", "lr_decay"):
            _positive(name, getattr(self, name))
        for name in ("target_high", "target_low", "test_fraction"):
            _number(name, getattr(self, name))
        if any(not _is_number(v) or v <= 0 for v in self.lr):
            raise ConfigError(f"lr must be positive numbers, got {list(self.lr)!r}")
        if len(self.lr) not in (0, 1, len(self.hidden) + 1):
            raise ConfigError(f"lr needs 1 value or one per crossbar ({len(self.hidden) + 1}), "
                              f"got {len(self.lr)}")
        if not 0 < self.test_fraction < 1:
            raise ConfigError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if not self.target_low < self.target_high:
            raise ConfigError(f"target_low ({self.target_low} V) must be below target_high "
                              f"({self.target_high} V)")
        _choice("device", self.device, DEVICES)
        spec = self.circuit_spec(1, 1)  # validates the circuit options
        self.device_model()  # validates the device options
        if not spec.g_min <= self.init_low < self.init_high <= spec.g_max:
            raise ConfigError(f"initial conductances [init_low, init_high] = [{self.init_low:g}, "
                              f"{self.init_high:g}] S must be an interval within [g_min, g_max] = "
                              f"[{spec.g_min:g}, {spec.g_max:g}] S")

    def circuit_spec(self, n_features: int, n_classes: int) -> CircuitSpec:
        """The circuit for a dataset: features, the hidden layers of this config, classes."""
        return self.spec_for((n_features, *self.hidden, n_classes))

    def spec_for(self, layers: tuple[int, ...]) -> CircuitSpec:
        """The circuit with these layer sizes and this config's circuit options."""
        return CircuitSpec(
            layers=tuple(layers), input_gain=self.input_gain,
            g_min=self.g_min, g_max=self.g_max, neuron=self.neuron,
            signed_weights=self.signed_weights, relu_bias=self.relu_bias,
            clamp_low=self.clamp_low, clamp_high=self.clamp_high,
            diode=DiodeModel(self.diode_is, self.diode_n, self.diode_rs), bias_rail=self.bias_rail,
            amplifier_gain=self.amplifier_gain or None,
            amplifier_open_loop_gain=self.amplifier_open_loop_gain or None,
            differential_outputs=self.differential_outputs,
            ideal_diodes=self.ideal_diodes, wire_resistance=self.wire_resistance,
            diode_spread=self.diode_spread, diode_spread_seed=self.seed)

    def device_model(self) -> Device:
        """The device model of every conductance, with this config's options."""
        if self.device == "ideal":
            device = IdealDevice(self.g_min, self.g_max)
        elif self.device == "clipped":
            device = ClippedDevice(self.g_min, self.g_max)
        elif self.device == "quantized":
            device = QuantizedDevice(self.g_min, self.g_max, self.levels)
        else:
            device = MemristorDevice(
                PulseResponse(self.g_min, self.g_max, self.nonlinearity, self.nonlinearity),
                Variability(self.eps_inter, self.eps_intra), self.scheme, self.pulse,
                self.rprop_eta)
        if self.read_noise or self.stuck or self.read_noise_floor:
            device = FaultyDevice(device, self.read_noise, self.stuck, self.read_noise_floor)
        return device

    def learning_rates(self, epoch: int = 1) -> tuple[float, ...]:
        """Learning rate of each crossbar during ``epoch`` (1-based)."""
        n = len(self.hidden) + 1
        if not self.lr:
            lrs = (INPUT_LR,) + (LR,) * (n - 1)
        else:
            lrs = self.lr * n if len(self.lr) == 1 else self.lr
        return tuple(lr * self.lr_decay ** (epoch - 1) for lr in lrs)


SECTIONS = {
    "circuit": ("hidden", "input_gain", "g_min", "g_max", "init_low", "init_high", "neuron",
                "signed_weights", "relu_bias", "clamp_low", "clamp_high", "diode_is", "diode_n",
                "diode_rs", "diode_spread", "bias_rail", "amplifier_gain",
                "amplifier_open_loop_gain", "differential_outputs", "ideal_diodes",
                "wire_resistance"),
    "training": ("dataset", "epochs", "batch_size", "beta", "estimator", "nudging", "cost",
                 "softmax_gain", "target_high", "target_low", "lr", "lr_decay", "seed",
                 "test_fraction", "data_dir"),
    "engine": ("engine", "reltol"),
    "device": ("device", "levels", "scheme", "pulse", "rprop_eta", "nonlinearity", "eps_intra",
               "eps_inter", "read_noise", "read_noise_floor", "stuck"),
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(name: str, value) -> None:
    if not _is_number(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")


def _positive(name: str, value) -> None:
    _number(name, value)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")


def _choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def config_from_mapping(data: dict, base: RunConfig = RunConfig()) -> RunConfig:
    """Apply a parsed TOML document (tables circuit, training, engine) on top of ``base``."""
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


def apply_overrides(base: RunConfig, values: dict) -> RunConfig:
    try:
        return replace(base, **{k: v for k, v in values.items() if v is not None})
    except TypeError as exc:  # e.g. a string where a list was expected, caught by comparisons
        raise ConfigError(f"invalid option value: {exc}") from None


def load_config(path: str | Path, base: RunConfig = RunConfig()) -> RunConfig:
    """Read a TOML config file."""
    return config_from_mapping(read_toml(path, "config file"), base)


def read_toml(path: str | Path, what: str) -> dict:
    """A TOML file's content, or a one-line error naming ``what`` the file is."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def config_to_toml(config: RunConfig) -> str:
    """TOML text that :func:`load_config` reads back into the same config (None values omitted)."""
    data = asdict(config)
    lines = []
    for section, keys in SECTIONS.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(data[k])}" for k in keys if data[k] is not None]
        lines.append("")
    return "\n".join(lines)


__all__ = ["RunConfig", "load_config", "config_to_toml", "config_from_mapping", "apply_overrides"]
