"""Run configuration: every option of a training run, from a TOML file and command-line flags.

A TOML file has the tables ``[circuit]``, ``[training]``, ``[engine]`` and ``[device]``; flags
override it. Each option is one field of :class:`RunConfig`, declared with
:func:`~eqprop_analog.options.option` (table, type, default, allowed values, unit, help): the flags,
the TOML reader and writer (:mod:`eqprop_analog.config_files`) and the validation messages all
derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from eqprop_analog.circuit.spec import (
    NEURON_KINDS,
    SIGNED_WEIGHTS,
    CircuitSpec,
    DiodeModel,
    NeuronKind,
    SignedWeights,
)
from eqprop_analog.circuit.subcircuit import UserSubcircuit, read_subcircuit
from eqprop_analog.config_paths import USER_SUBCIRCUIT_OPTIONS, absolute_paths
from eqprop_analog.data.datasets import DATASET_NAMES
from eqprop_analog.devices import (
    ClippedDevice,
    Device,
    FaultyDevice,
    IdealDevice,
    MemristorDevice,
    PulseResponse,
    QuantizedDevice,
    Variability,
)
from eqprop_analog.devices.memristor import SCHEMES
from eqprop_analog.engines import make_engine
from eqprop_analog.engines.base import NUDGING_MODES, Engine, NudgingMode
from eqprop_analog.engines.native_support import native_refusal
from eqprop_analog.engines.ngspice import INPUT_CROSSBARS, MATRIX_SOLVERS
from eqprop_analog.engines.nudging import COSTS, Cost, make_cost
from eqprop_analog.errors import ConfigError
from eqprop_analog.learning.engine_check import EngineCheck
from eqprop_analog.learning.estimators import ESTIMATORS, EPEstimator, EstimatorKind
from eqprop_analog.learning.trainer import LearningRates, TrainingOptions
from eqprop_analog.options import TABLES, Option, option, options_of

ENGINES = ("ngspice", "native")
# Default learning rates (S^2/W for cross-entropy): the crossbar from the inputs, with by far the
# largest fan-in, learns best with a larger one (Fashion-MNIST 1568-100-10, BENCHMARKS.md).
INPUT_LR, LR = 4e-8, 1e-8
DEVICES = ("ideal", "clipped", "quantized", "memristor")
# Bounds that keep every exponential of the circuit and of the softmax finite.
MAX_VOLTS = 100.0


@dataclass(frozen=True)
class RunConfig:
    """All options of a training run (SI units: volts, siemens)."""

    # [circuit]
    hidden: tuple[int, ...] = option("circuit", int, (64,), "hidden layer sizes", many=True,
                                     low=1, metavar="N[,N...]")
    input_gain: float = option("circuit", float, 4.0, "volts per unit feature (A)", unit="V",
                               low=0, low_open=True, high=MAX_VOLTS)
    g_min: float = option("circuit", float, 1e-7, "smallest conductance of a device", unit="S",
                          low=0, low_open=True, high=1.0)
    g_max: float = option("circuit", float, 1e-4, "largest conductance of a device", unit="S",
                          low=0, low_open=True, high=1.0)
    init_low: float = option("circuit", float, 1e-6, "lowest initial conductance", unit="S",
                             low=0, low_open=True, high=1.0)
    init_high: float = option("circuit", float, 2e-5, "highest initial conductance", unit="S",
                              low=0, low_open=True, high=1.0)
    neuron: NeuronKind = option("circuit", str, "relu", "hidden neuron circuit", choices=NEURON_KINDS)
    signed_weights: SignedWeights = option(
        "circuit", str, "doubled-inputs", "signed weights from inputs driven at +A x and -A x, or "
        "from every unit being a pair of nodes, w = G+ - G-", choices=SIGNED_WEIGHTS)
    relu_bias: float = option("circuit", float, 0.45, "bias of the relu neurons' diodes (about "
                              "the diode's turn-on voltage: knee near 0 V)", unit="V",
                              low=-MAX_VOLTS, high=MAX_VOLTS)
    clamp_low: float = option("circuit", float, -0.5, "lower bound of the clamp neurons",
                              unit="V", low=-MAX_VOLTS, high=MAX_VOLTS)
    clamp_high: float = option("circuit", float, 0.5, "upper bound of the clamp neurons",
                               unit="V", low=-MAX_VOLTS, high=MAX_VOLTS)
    diode_is: float = option("circuit", float, 1e-12, "saturation current IS of the neuron "
                             "diodes", unit="A", low=0, low_open=True, high=1.0)
    diode_n: float = option("circuit", float, 1.0, "emission coefficient N of the neuron diodes",
                            low=0.5, high=10.0)
    diode_rs: float = option("circuit", float, 0.0, "series resistance RS of the neuron diodes",
                             unit="ohm", low=0, high=1e9)
    diode_spread: float = option("circuit", float, 0.0, "relative spread of the neuron diodes' IS "
                                 "from device to device (drawn from the seed)", low=0, high=10.0)
    bias_rail: float = option("circuit", float, 1.0, "voltage of the bias rails (+ and -)",
                              unit="V", low=0, low_open=True, high=MAX_VOLTS)
    amplifier_gain: float | None = option("circuit", float, 4.0, "gain of the bidirectional "
                                          "amplifiers after each hidden layer", low=0,
                                          low_open=True, high=1e3, none="no amplifiers")
    amplifier_open_loop_gain: float | None = option(
        "circuit", float, None, "finite open-loop gain A0 of the amplifiers (ngspice only)",
        low=0, low_open=True, high=1e12, none="ideal amplifiers")
    amplifier_backward_ratio: float = option(
        "circuit", float, 1.0, "backward current gain of the amplifiers over their forward voltage "
        "gain (1: reciprocal; ngspice only)", low=0, low_open=True, high=1e3)
    neuron_model: str | None = option(
        "circuit", str, None, "a user's neuron subcircuit (.subckt NAME node gnd) in place of "
        "the diodes and bias sources of every hidden unit; its file is checked as data (ngspice "
        "only)", none="the built-in diode neuron", metavar="FILE:NAME")
    amplifier_model: str | None = option(
        "circuit", str, None, "a user's amplifier subcircuit (.subckt NAME in out, supplies "
        "inside) from every hidden unit to the next crossbar, in place of the built-in one, whose "
        "amplifier_gain it ignores (ngspice only)",
        none="the built-in amplifier, where amplifier_gain is set", metavar="FILE:NAME")
    node_capacitance: float = option("circuit", float, 1e-10, "capacitance of every free node to "
                                     "ground, for transient analyses (verify rbp)", unit="F",
                                     low=0, low_open=True, high=1.0)
    differential_outputs: bool = option("circuit", bool, False,
                                        "read each output as a pair of nodes")
    ideal_diodes: bool = option("circuit", bool, False, "ideal diodes (native engine only; set "
                                "relu_bias = 0, an ideal diode has no turn-on voltage)")
    wire_resistance: float = option("circuit", float, 0.0, "resistance of each crossbar wire "
                                    "segment: IR drop along rows and columns (ngspice)",
                                    unit="ohm", low=0, high=1e9)
    # [training]
    dataset: str = option("training", str, "digits", "dataset", choices=DATASET_NAMES,
                          suffix=".csv", metavar="NAME|FILE.csv")
    epochs: int = option("training", int, 10, "epochs to train", low=1, high=1_000_000)
    batch_size: int = option("training", int, 16, "samples per mini-batch", low=1,
                             high=1_000_000)
    beta: float = option("training", float, 1e-6, "nudging strength", unit="W for cross-entropy, "
                         "S for squared error", low=0, low_open=True, high=1.0)
    estimator: EstimatorKind = option("training", str, "symmetric", "EP estimator", choices=ESTIMATORS)
    nudging: NudgingMode = option("training", str, "exact", "nudging currents that follow the output "
                          "voltages (exact) or fixed at their free-state value (current)",
                          choices=NUDGING_MODES)
    cost: str = option("training", str, "cross-entropy", "cost of the outputs", choices=COSTS)
    softmax_gain: float = option("training", float, 20.0, "gain of the softmax over the output "
                                 "voltages (cross-entropy)", unit="1/V", low=0, low_open=True,
                                 high=1e4)
    target_high: float = option("training", float, 0.2, "target voltage of the right class "
                                "(squared error)", unit="V", low=-MAX_VOLTS, high=MAX_VOLTS)
    target_low: float = option("training", float, -0.1, "target voltage of the other classes "
                               "(squared error)", unit="V", low=-MAX_VOLTS, high=MAX_VOLTS)
    lr: tuple[float, ...] | None = option(
        "training", float, None, "learning rate(s), one or one per crossbar", many=True, low=0,
        low_open=True, high=1.0, none=f"{INPUT_LR:g} for the crossbar from the inputs, {LR:g} "
        "for the others")
    lr_decay: float = option("training", float, 0.75, "factor on the learning rates after each "
                             "epoch", low=0, low_open=True, high=10.0)
    seed: int = option("training", int, 0, "seed of the initial conductances, the shuffling and "
                       "every random draw", low=0)
    init_from: str | None = option(
        "training", str, None, "CSV of element, conductance (S) to start training from, e.g. "
        "measured on a chip (a weight map); each within [g_min, g_max]",
        none="drawn in [init_low, init_high]", metavar="FILE.csv")
    test_fraction: float = option("training", float, 0.2, "share of the samples held out for "
                                  "testing", low=0, high=1, low_open=True, high_open=True)
    phase_time: float = option("training", float, 1e-6, "how long each phase of a training step "
                               "(free, each nudged) holds the circuit: a phase's energy is its "
                               "static power times this (the default is about the settling time "
                               "of the default node capacitance at digits size)", unit="s", low=0,
                               low_open=True, high=1e3)
    step_energy: bool = option(
        "training", bool, True, "record the energy of every training step (its free and nudged "
        "phases, its programming) in metrics.csv and summary.json; false saves what it costs, "
        "about a quarter of a native epoch at 1568-100-10 and batch 4")
    settling_samples: int = option(
        "training", int, 0, "test samples whose inference a finished run simulates in time in "
        "ngspice (node_capacitance on every free node), for the settling time and energy of an "
        "inference in summary.json and the report; about 5 s each at digits size", low=0,
        high=100_000)
    data_dir: str | None = option("training", str, None, "folder of the MNIST IDX files (dataset "
                                  "mnist; fashion-mnist optional)", none="the dataset's own "
                                  "location", metavar="DIR")
    # [engine]
    engine: str = option("engine", str, "ngspice", "the solver of the steady states",
                         choices=ENGINES)
    reltol: float = option("engine", float, 1e-6, "relative tolerance of ngspice's DC solutions",
                           low=0, high=1, low_open=True, high_open=True)
    spice_workers: int | None = option(
        "engine", int, None, "ngspice processes that solve a mini-batch together, each a share of "
        "its samples (other counts agree to the solver's tolerance, not to the bit)", low=1,
        high=256, none="one per available core; 1 in a sweep, whose runs run in parallel already")
    matrix_solver: str = option(
        "engine", str, "auto", "ngspice's matrix solver: klu (ngspice >= 42, 5.7x faster per point "
        "at 784-100-10), sparse (the older one), or auto: klu where the library has it, else sparse "
        "(said on stderr); results agree to the solver's tolerance", choices=MATRIX_SOLVERS)
    input_crossbar: str = option(
        "engine", str, "auto", "how ngspice sweeps hold the first crossbar: auto, as its exact "
        "Norton equivalent at each column (without wire resistance; 65x faster at "
        "784-100-10), or full, every device; exported netlists hold every device either way",
        choices=INPUT_CROSSBARS)
    check_engine: str | None = option(
        "engine", str, None, "a second engine that solves a fixed mini-batch beside the training "
        "engine every check_every epochs; the largest voltage difference goes to metrics.csv",
        choices=ENGINES, none="no check")
    check_every: int = option("engine", int, 1, "epochs between two engine checks", low=1,
                              high=100000)
    check_tolerance: float = option(
        "engine", float, 1e-6, "largest voltage difference the engine check accepts; above it "
        "the run stops", unit="V", low=0, low_open=True, high=10.0)
    spice_timeout: float | None = option(
        "engine", float, None, "seconds one ngspice call may take before its process is taken "
        "for hung, killed and restarted (the mini-batch is skipped)", unit="s", low=0,
        low_open=True, high=1e6, none="a minute plus 20 times the expected time, from the "
        "circuit's size")
    # [device]: how requested conductance changes are programmed, and what a read sees
    device: str = option("device", str, "clipped", "how conductance changes are programmed",
                         choices=DEVICES)
    levels: int = option("device", int, 16, "quantized: conductance levels from g_min to g_max",
                         low=2)
    scheme: str = option("device", str, "cst", "memristor programming scheme", choices=SCHEMES)
    pulse: float = option("device", float, 1e-3, "memristor pulse width dt / dt_max (rprop: the "
                          "largest)", low=0, low_open=True, high=1)
    rprop_eta: float = option("device", float, 1.01, "rprop: growth of the pulse width while the "
                              "sign holds", low=1, high=10.0)
    pulse_energy: float = option("device", float, 1e-9, "memristor: energy of a programming "
                                 "pulse of width dt_max, in proportion for other widths (the "
                                 "default gives a pulse of the default width 1 pJ)", unit="J",
                                 low=0, high=1.0)
    nonlinearity: float = option("device", float, 0.0, "memristor nonlinearity beta, for "
                                 "potentiation and depression alike (0: linear)", low=0,
                                 high=100.0)
    eps_intra: float = option("device", float, 0.0, "cycle-to-cycle noise, relative to g_max - "
                              "g_min", low=0, high=1.0)
    eps_inter: float = option("device", float, 0.0, "device-to-device spread of the pulse "
                              "amplitude (relative)", low=0, high=10.0)
    read_noise: float = option("device", float, 0.0, "relative noise of every read", low=0,
                               high=1.0)
    read_noise_floor: float = option("device", float, 0.0, "absolute noise of every read "
                                     "(standard deviation)", unit="S", low=0)
    stuck: float = option("device", float, 0.0, "fraction of devices stuck at g_min or g_max",
                          low=0, high=1, high_open=True)

    def __post_init__(self) -> None:
        for name, spec in OPTIONS.items():
            object.__setattr__(self, name, spec.check(getattr(self, name)))
        paths = absolute_paths({name: getattr(self, name) for name in PATH_OPTIONS})
        for name, value in paths.items():  # from the working folder, kept absolute
            object.__setattr__(self, name, value)
        if self.lr is not None and len(self.lr) not in (1, len(self.hidden) + 1):
            raise ConfigError(f"lr needs 1 value or one per crossbar ({len(self.hidden) + 1}), "
                              f"got {len(self.lr)}")
        if not self.target_low < self.target_high:
            raise ConfigError(f"target_low ({self.target_low} V) must be below target_high "
                              f"({self.target_high} V)")
        if self.ideal_diodes and self.neuron == "relu" and self.relu_bias != 0:
            raise ConfigError(f"ideal diodes have no turn-on voltage for relu_bias "
                              f"({self.relu_bias:g} V) to offset: set relu_bias = 0 "
                              "(--relu-bias 0)")
        if self.check_engine == self.engine:
            raise ConfigError(f"check_engine {self.check_engine} is the training engine itself: "
                              "check against the other one, or set check_engine = \"none\"")
        if self.settling_samples and self.ideal_diodes:
            raise ConfigError("settling_samples simulates the circuit in ngspice: ideal diodes "
                              "have no SPICE model; set settling_samples = 0")
        if self.check_engine == "ngspice" and self.ideal_diodes:
            raise ConfigError("check_engine ngspice: ideal diodes have no SPICE model; check "
                              "a Shockley diode circuit (ideal_diodes = false)")
        circuit = self.circuit_spec(1, 1)  # validates the circuit options together
        refusal = native_refusal(circuit) if self.check_engine == "native" else None
        if refusal:  # said now, not at the first check some epochs in
            raise ConfigError(f"check_engine native: {refusal}")
        self.device_model()  # validates the device options together
        if not self.g_min <= self.init_low < self.init_high <= self.g_max:
            raise ConfigError(f"initial conductances [init_low, init_high] = [{self.init_low:g}, "
                              f"{self.init_high:g}] S must be an interval within [g_min, g_max] = "
                              f"[{self.g_min:g}, {self.g_max:g}] S")

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
            # a user's amplifier has its own gain inside: the built-in one's is not used
            amplifier_gain=None if self.amplifier_model else self.amplifier_gain,
            amplifier_open_loop_gain=self.amplifier_open_loop_gain,
            amplifier_backward_ratio=self.amplifier_backward_ratio,
            differential_outputs=self.differential_outputs,
            ideal_diodes=self.ideal_diodes, wire_resistance=self.wire_resistance,
            diode_spread=self.diode_spread, diode_spread_seed=self.seed,
            neuron_model=self.user_subcircuit("neuron"),
            amplifier_model=self.user_subcircuit("amplifier"))

    def user_subcircuit(self, role: str) -> UserSubcircuit | None:
        """The subcircuit ``neuron_model`` or ``amplifier_model`` names, its file read and
        checked (None where the option is unset)."""
        reference = getattr(self, f"{role}_model")
        return None if reference is None else read_subcircuit(reference, role)

    def device_model(self) -> Device:
        """The device model of every conductance, with this config's options."""
        device: Device
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
                self.rprop_eta, self.pulse_energy)
        if self.read_noise or self.stuck or self.read_noise_floor:
            device = FaultyDevice(device, self.read_noise, self.stuck, self.read_noise_floor)
        return device

    def learning_rates(self) -> LearningRates:
        """The schedule of the crossbars' learning rates (defaults where ``lr`` is none)."""
        n = len(self.hidden) + 1
        if self.lr is None:
            rates = (INPUT_LR,) + (LR,) * (n - 1)
        else:
            rates = self.lr * n if len(self.lr) == 1 else self.lr
        return LearningRates(rates, self.lr_decay)

    def training_options(self) -> TrainingOptions:
        """Epochs, batch size, learning-rate schedule, seed, nudging, initial conductances and
        the time each phase holds the circuit."""
        return TrainingOptions(self.learning_rates(), self.epochs, self.batch_size, self.seed,
                               self.nudging, (self.init_low, self.init_high),
                               phase_time=self.phase_time, step_energy=self.step_energy)

    def cost_model(self) -> Cost:
        """The cost of the outputs, with its softmax gain or target voltages."""
        return make_cost(self.cost, self.softmax_gain, self.target_high, self.target_low)

    def engine_for(self, name: str | None = None, *, precise: bool = False) -> Engine:
        """The engine ``name`` (default this config's) with this config's tolerance, timeout,
        processes, matrix solver and input crossbar; ``precise``: the tight tolerances of gradient
        checks."""
        return make_engine(name or self.engine, reltol=self.reltol, precise=precise,
                           timeout=self.spice_timeout, workers=self.spice_workers,
                           matrix_solver=self.matrix_solver, input_crossbar=self.input_crossbar)

    def engine_check(self) -> EngineCheck | None:
        """The check of the training engine against ``check_engine`` (None without one); its
        engine is the caller's to close."""
        if self.check_engine is None:
            return None
        return EngineCheck(self.engine_for(self.check_engine), self.check_every,
                           self.check_tolerance)

    def ep_estimator(self) -> EPEstimator:
        """The EP estimator at this config's nudging strength."""
        return EPEstimator(self.estimator, self.beta)


OPTIONS: dict[str, Option] = options_of(RunConfig)
PATH_OPTIONS = (*USER_SUBCIRCUIT_OPTIONS, "init_from", "dataset", "data_dir")
SECTIONS: dict[str, tuple[str, ...]] = {
    section: tuple(name for name, spec in OPTIONS.items() if spec.section == section)
    for section in TABLES}


__all__ = ["RunConfig", "OPTIONS", "SECTIONS"]
