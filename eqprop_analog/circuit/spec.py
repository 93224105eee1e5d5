"""Parameters of a layered resistive network, validated where the user gives them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from eqprop_analog.circuit.subcircuit import UserSubcircuit
from eqprop_analog.errors import ConfigError

NeuronKind = Literal["relu", "clamp"]
NEURON_KINDS: tuple[str, ...] = ("relu", "clamp")
SignedWeights = Literal["doubled-inputs", "differential-pairs"]
SIGNED_WEIGHTS: tuple[str, ...] = ("doubled-inputs", "differential-pairs")

# far beyond any network EP has trained (the seeds' have a few): more is a mistyped list,
# whose circuit would be built and solved for hours before anything else went wrong
MAX_HIDDEN_LAYERS = 100


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _finite(name: str, value: float) -> None:
    _require(isinstance(value, (int, float)) and not isinstance(value, bool)
             and math.isfinite(value), f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class DiodeModel:
    """SPICE level-1 (Shockley) diode: I = IS (exp(V / (N Vt)) - 1), with series resistance RS."""

    saturation_current: float = 1e-12  # IS, amperes
    emission_coefficient: float = 1.0  # N
    series_resistance: float = 0.0  # RS, ohms

    def __post_init__(self) -> None:
        _finite("diode saturation_current", self.saturation_current)
        _finite("diode emission_coefficient", self.emission_coefficient)
        _finite("diode series_resistance", self.series_resistance)
        _require(self.saturation_current > 0, "diode saturation_current (IS) must be > 0")
        _require(self.emission_coefficient > 0, "diode emission_coefficient (N) must be > 0")
        _require(self.series_resistance >= 0, "diode series_resistance (RS) must be >= 0")


@dataclass(frozen=True)
class CircuitSpec:
    """A layered resistive network: sizes, device ranges and neuron circuits, in SI units.

    ``layers`` lists the number of features, the hidden layer sizes and the number of outputs. Every
    pair of nodes of consecutive layers is joined by a resistor whose conductance lies in
    [``g_min``, ``g_max``]; every hidden and output node also has a trainable conductance to each of the
    two bias rails at +/- ``bias_rail`` volts.

    Conductances are positive; ``signed_weights`` says how the network gets signed weights anyway:

    - ``"doubled-inputs"`` (the default): each feature x_i drives two ideal sources +A x_i and
      -A x_i (A = ``input_gain``, volts per unit), so every weight of the first crossbar is the
      difference of the two devices on rows +x_i and -x_i; relu layers alternate units held
      positive and units held negative, which gives the later crossbars both signs.
    - ``"differential-pairs"``: each feature drives one source +A x_i, and every hidden and output
      unit is a pair of nodes (nets ``h1_000p``/``h1_000n``) whose difference is the unit's value,
      so every weight is a pair of devices on two columns, w = G+ - G-. A hidden unit's neuron
      diodes sit between its two nodes, and a differential bidirectional amplifier (gain
      ``amplifier_gain``, 1 if unset) drives the next crossbar's row with the difference. Outputs
      are read differentially.

    Hidden neurons are diodes in series with bias sources: ``"relu"`` splits each layer into units
    held above about ``relu_bias`` (even indices) and below about ``-relu_bias`` (odd indices; with
    differential pairs every unit is held above), the turn-on voltage of the diode shifting the
    knee (the default puts the knee near 0 V at the currents of these networks); ``"clamp"``
    bounds every unit between ``clamp_low`` and ``clamp_high`` with two diodes. Outputs are linear
    nodes, read single-ended or, with ``differential_outputs`` (and always with pairs), as
    V(out_k p) - V(out_k n) (nets ``out_000p``, ``out_000n``, ...).

    With ``amplifier_gain`` set, each hidden node drives the next crossbar through a bidirectional
    amplifier: voltage gain a forward and current gain a backward, which keeps an energy function.
    A finite ``amplifier_open_loop_gain`` A0 lowers the forward gain to a / (1 + a / A0) (an op-amp
    stage) while the backward gain stays a; ``amplifier_backward_ratio`` r makes the backward gain
    r a (ngspice only). Either breaks the energy function, as real amplifiers do.

    ``ideal_diodes`` replaces the Shockley diodes by ideal ones (no turn-on voltage: relu units are
    held at or above ``relu_bias`` exactly), the limit of deep resistive networks; only the native
    engine solves it, as a box-constrained quadratic programme.

    ``diode_spread`` > 0 gives every neuron diode its own saturation current, drawn log-normal
    around IS with that relative standard deviation (reproducibly, from ``diode_spread_seed``).

    ``neuron_model`` and ``amplifier_model`` replace the built-in neuron (diodes and their bias
    sources) and the bidirectional amplifier by a user's subcircuit (ports: node then ground; input
    then output), on every hidden unit; with a user amplifier the rows of the next crossbar are its
    output nets, whose voltages the engine solves like any other (ngspice only).

    ``wire_resistance`` (ohms) puts a resistor on every segment of the crossbar wires: each row runs
    from its driver past every column, each column past every row to its neuron, and every device
    sits between its own crossing points, so the netlist shows the IR drop along the wires (ngspice
    only).
    """

    layers: tuple[int, ...]
    input_gain: float = 4.0
    g_min: float = 1e-7
    g_max: float = 1e-4
    neuron: NeuronKind = "relu"
    relu_bias: float = 0.45
    clamp_low: float = -0.5
    clamp_high: float = 0.5
    diode: DiodeModel = field(default_factory=DiodeModel)
    bias_rail: float = 1.0
    amplifier_gain: float | None = None
    amplifier_open_loop_gain: float | None = None  # None: ideal amplifiers
    amplifier_backward_ratio: float = 1.0  # backward current gain / a
    differential_outputs: bool = False
    ideal_diodes: bool = False
    wire_resistance: float = 0.0
    diode_spread: float = 0.0
    diode_spread_seed: int = 0
    signed_weights: SignedWeights = "doubled-inputs"
    neuron_model: UserSubcircuit | None = None
    amplifier_model: UserSubcircuit | None = None

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        _require(len(layers) >= 2, f"layers needs at least inputs and outputs, got {list(layers)}")
        _require(len(layers) - 2 <= MAX_HIDDEN_LAYERS,
                 f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(layers) - 2}")
        _require(all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in layers),
                 f"every layer size must be a positive integer, got {list(layers)}")
        for name in ("input_gain", "g_min", "g_max", "relu_bias", "clamp_low", "clamp_high",
                     "bias_rail", "wire_resistance"):
            _finite(name, getattr(self, name))
        _finite("diode_spread", self.diode_spread)
        _require(self.diode_spread >= 0, f"diode_spread must be >= 0, got {self.diode_spread}")
        _require(isinstance(self.diode_spread_seed, int) and self.diode_spread_seed >= 0,
                 f"diode_spread_seed must be a non-negative integer, got {self.diode_spread_seed!r}")
        _require(self.wire_resistance >= 0,
                 f"wire_resistance must be >= 0 ohm, got {self.wire_resistance}")
        _require(self.input_gain > 0, f"input_gain must be > 0 V, got {self.input_gain}")
        _require(self.bias_rail > 0, f"bias_rail must be > 0 V, got {self.bias_rail}")
        for name in ("differential_outputs", "ideal_diodes"):
            value = getattr(self, name)
            _require(isinstance(value, bool), f"{name} must be true or false, got {value!r}")
        _require(self.g_min > 0, f"g_min must be > 0 S, got {self.g_min}")
        _require(self.g_min < self.g_max,
                 f"g_min ({self.g_min:g} S) must be smaller than g_max ({self.g_max:g} S)")
        _require(self.neuron in NEURON_KINDS,
                 f"neuron must be one of {', '.join(NEURON_KINDS)}, got {self.neuron!r}")
        _require(self.clamp_low < self.clamp_high,
                 f"clamp_low ({self.clamp_low} V) must be below clamp_high ({self.clamp_high} V)")
        for role in ("neuron", "amplifier"):
            model = getattr(self, f"{role}_model")
            if model is None:
                continue
            _require(isinstance(model, UserSubcircuit) and model.role == role,
                     f"{role}_model must be a {role} subcircuit")
            _require(not self.pairs, f"{role}_model has two ports, for single-node units: it "
                     "needs signed_weights = doubled-inputs")
            _require(bool(self.hidden), f"{role}_model acts on hidden units: the network has "
                     "none")
        _require(self.neuron_model is None or not self.ideal_diodes,
                 "neuron_model replaces the diodes: it cannot be used with ideal_diodes")
        _require(self.neuron_model is None or (self.neuron == "relu" and self.diode_spread == 0),
                 "neuron_model replaces the built-in diode neuron: leave neuron (relu) and "
                 "diode_spread (0) at their defaults, they would not be used")
        _require(self.amplifier_model is None or (
            self.amplifier_gain is None and self.amplifier_open_loop_gain is None
            and self.amplifier_backward_ratio == 1.0),
            "amplifier_model replaces the built-in amplifier: leave amplifier_gain, "
            "amplifier_open_loop_gain and amplifier_backward_ratio unset")
        if self.neuron_model is not None and self.amplifier_model is not None and \
                self.neuron_model.text != self.amplifier_model.text:
            shared = set(self.neuron_model.definitions) & set(self.amplifier_model.definitions)
            if shared:
                raise ConfigError(f"the neuron's and the amplifier's files both define .subckt "
                                  f"{sorted(shared)[0]}: ngspice would keep one of them; rename "
                                  "it in one file")
        if self.amplifier_gain is not None:
            _finite("amplifier_gain", self.amplifier_gain)
            _require(self.amplifier_gain > 0, f"amplifier_gain must be > 0, got {self.amplifier_gain}")
        if self.amplifier_open_loop_gain is not None:
            _finite("amplifier_open_loop_gain", self.amplifier_open_loop_gain)
            _require(self.amplifier_open_loop_gain > 0, "amplifier_open_loop_gain must be > 0")
            _require(self.amplifier_gain is not None,
                     "amplifier_open_loop_gain needs amplifiers (set amplifier_gain)")
        _finite("amplifier_backward_ratio", self.amplifier_backward_ratio)
        _require(self.amplifier_backward_ratio > 0, "amplifier_backward_ratio must be > 0")
        _require(self.amplifier_backward_ratio == 1.0 or self.amplifier_gain is not None
                 or self.pairs, "amplifier_backward_ratio needs amplifiers (set amplifier_gain)")
        _require(self.signed_weights in SIGNED_WEIGHTS, "signed_weights must be one of "
                 f"{', '.join(SIGNED_WEIGHTS)}, got {self.signed_weights!r}")
        _require(not (self.pairs and self.ideal_diodes),
                 "ideal diodes work with signed_weights = doubled-inputs only (the native solver "
                 "of ideal diodes has no floating neurons)")
        if not isinstance(self.diode, DiodeModel):
            raise ConfigError("diode must be a DiodeModel")

    @property
    def pairs(self) -> bool:
        """Whether every hidden and output unit is a differential pair of nodes."""
        return self.signed_weights == "differential-pairs"

    @property
    def amplified(self) -> bool:
        """Whether each hidden unit drives the next crossbar through an amplifier."""
        return self.pairs or self.amplifier_gain is not None or self.amplifier_model is not None

    @property
    def user_subcircuits(self) -> tuple[UserSubcircuit, ...]:
        return tuple(m for m in (self.neuron_model, self.amplifier_model) if m is not None)

    @property
    def paired_outputs(self) -> bool:
        """Whether each output is read as the difference of a pair of nodes."""
        return self.differential_outputs or self.pairs

    @property
    def reciprocal(self) -> bool:
        """Whether the circuit keeps an energy function: ideal reciprocal amplifiers and no user
        subcircuit (one is not known to)."""
        return (self.amplifier_open_loop_gain is None and self.amplifier_backward_ratio == 1.0
                and not self.user_subcircuits)

    @property
    def forward_gain(self) -> float:
        """Voltage gain of the amplifiers from a hidden node to the next crossbar's row."""
        a = self.amplifier_gain or 1.0
        if self.amplifier_open_loop_gain is None:
            return a
        return a / (1.0 + a / self.amplifier_open_loop_gain)

    @property
    def n_inputs(self) -> int:
        return self.layers[0]

    @property
    def n_outputs(self) -> int:
        return self.layers[-1]

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.layers[1:-1]

    @property
    def crossbar_shapes(self) -> tuple[tuple[int, int], ...]:
        """Shape of each crossbar's conductance matrix (driving nets plus two bias rails, by
        columns), counted without naming a net: a size can be judged before anything is built."""
        node = 2 if self.pairs else 1
        rows = [self.n_inputs * (1 if self.pairs else 2), *self.hidden]
        cols = [n * node for n in self.hidden] + [self.n_outputs * (2 if self.paired_outputs else 1)]
        return tuple((r + 2, c) for r, c in zip(rows, cols))

    @property
    def n_conductances(self) -> int:
        return sum(r * c for r, c in self.crossbar_shapes)
