"""The network and its test bench in Xyce's and Spectre's dialects (ngspice's is
:mod:`eqprop_analog.spice.netlist` and :mod:`eqprop_analog.handoff.bench`).

The rules each dialect follows here, from the simulators' reference manuals:

- numbers: exponent notation without a scale suffix (:func:`~eqprop_analog.spice.scales.write_number`),
  the one text every dialect reads alike; Spectre's ``M`` (mega) is SPICE's ``MEG``, SPICE's ``M``
  is milli (:mod:`eqprop_analog.spice.scales`).
- comments: Xyce ``*`` lines and ``;`` after a statement; Spectre ``//``.
- elements: Xyce as SPICE (``R1 a b 1e4``, ``V1 a 0 DC 1``, ``E1 a 0 b 0 -1``, ``D1 a c MODEL``,
  ``X1 a b SUB PARAMS: gain=2``); Spectre ``name (nodes) master key=value``: ``resistor r=``,
  ``vsource type=dc dc=``, ``vcvs gain=``, ``cccs probe= gain=``, a diode instance naming its
  model, a subcircuit instance naming its subcircuit.
- diode model cards: Xyce ``.MODEL DNEURON D (IS=.. N=.. RS=..)``; Spectre ``model DNEURON
  diode is=.. n=.. rs=..``.
- subcircuits: Xyce ``.SUBCKT NAME ports PARAMS: k=v`` .. ``.ENDS``; Spectre ``subckt NAME (ports)``,
  ``parameters k=v``, .. ``ends NAME``; expressions Xyce ``{...}``, Spectre bare.
- the test bench: Xyce ``.DATA`` (one row per sample) swept by ``.DC DATA=`` and written by
  ``.PRINT DC FORMAT=CSV FILE=``; Spectre a ``paramset`` (one row per sample) swept by ``sweep
  paramset=`` around a ``dc`` analysis, the outputs kept by ``save``.

The amplifiers are written out in each dialect from the same equations as the ngspice library's:
forward a V(in) through a VCVS and a zero-volt sense source, backward a CCCS at the input of a
times the sensed current, a = gain / (1 + gain / open_loop).
"""

from __future__ import annotations

import numpy as np

from eqprop_analog.circuit.elements import Element, circuit_elements
from eqprop_analog.circuit.layered import (
    AMPLIFIER_SUBCKT,
    DIFFERENTIAL_AMPLIFIER_SUBCKT,
    LayeredNetwork,
)
from eqprop_analog.errors import ConfigError
from eqprop_analog.handoff.bench import BENCH_OPTIONS
from eqprop_analog.spice.netlist import one_line
from eqprop_analog.spice.scales import write_number

DIALECTS = ("ngspice", "xyce", "spectre")
EXTENSIONS = {"ngspice": ".cir", "xyce": ".xyce.cir", "spectre": ".scs"}
SAMPLES = "samples"  # the bench's table of samples
XYCE_OUTPUTS = "outputs.csv"
# the built-in amplifiers' parameters and their defaults, as in the ngspice library
AMPLIFIER_PARAMETERS = (("gain", 1.0), ("open_loop", 1e30), ("backward", 1.0))


def _bench_inputs(network: LayeredNetwork, features: np.ndarray
                  ) -> tuple[list[str], np.ndarray, list[str]]:
    """A bench's inputs: the parameter of each input source, the samples' voltages (samples,
    inputs) and the names of the + sources that take the parameters (the - sources follow them
    through their VCVS)."""
    voltages = network.spec.input_gain * network.check_features(features)
    tags = [tag for tag, _, _ in network.input_tags()]
    return [f"vin_{i:05d}" for i in range(len(tags))], voltages, [f"V_IN_{t}P" for t in tags]


def _check(network: LayeredNetwork, dialect: str) -> None:
    spec = network.spec
    if spec.user_subcircuits:
        raise ConfigError(f"--dialect {dialect} does not translate your subcircuits "
                          f"({', '.join(m.path for m in spec.user_subcircuits)}), which are "
                          "ngspice text: export --dialect ngspice")
    if spec.ideal_diodes:
        raise ConfigError("ideal diodes have no SPICE model: there is no netlist to hand off")


# each element kind's statement, per dialect: fields name, nets, model, value (V: volts, E: gain,
# W: ohms), ohms and siemens (a crossbar device), parameters (a subcircuit instance's k=v)
STATEMENTS = {
    "xyce": {"D": "{name} {nets} {model}", "V": "{name} {nets} DC {value}",
             "E": "{name} {nets} {value}", "W": "{name} {nets} {value}",
             "R": "{name} {nets} {ohms} ; G={siemens}",
             "X": "{name} {nets} {model} PARAMS: {parameters}"},
    "spectre": {"D": "{name} ({nets}) {model}", "V": "{name} ({nets}) vsource type=dc dc={value}",
                "E": "{name} ({nets}) vcvs gain={value}", "W": "{name} ({nets}) resistor r={value}",
                "R": "{name} ({nets}) resistor r={ohms} // G={siemens}",
                "X": "{name} ({nets}) {model} {parameters}"},
}


def _statement(dialect: str, element: Element, values: dict[str, str] | None = None) -> str:
    """``element`` in ``dialect``; ``values`` replace the value of the sources they name (a
    bench's parameters)."""
    value = element.value
    fields = {"name": element.name, "nets": " ".join(element.nets), "model": element.model,
              "value": (values or {}).get(element.name) or write_number(value or 0.0)}
    if element.kind == "R":
        assert value is not None
        fields.update(ohms=write_number(1.0 / value), siemens=write_number(value))
    if element.kind == "X":
        fields["parameters"] = " ".join(f"{k}={write_number(v)}" for k, v in _parameters(element))
    if element.kind not in STATEMENTS[dialect]:
        raise ValueError(f"unknown element kind {element.kind!r}")
    return STATEMENTS[dialect][element.kind].format(**fields)


def _parameters(element: Element) -> list[tuple[str, float]]:
    """An amplifier instance's parameters: its gain, then the others it sets."""
    assert element.value is not None
    return [("gain", element.value), *element.parameters]


# -- Xyce ---------------------------------------------------------------------------------------
def _xyce_header(network: LayeredNetwork, title: str) -> list[str]:
    spec = network.spec
    lines = [f"* {one_line(title)}", f"* eqprop-analog layered resistive network, layers "
             f"{'-'.join(map(str, spec.layers))}, Xyce dialect"]
    if spec.hidden:
        lines += [f".PARAM {_diode_parameters(network)}",
                  ".MODEL DNEURON D (IS={diode_is} N={diode_n} RS={diode_rs})"]
        lines += [f".MODEL {name} D (IS={write_number(i)} N={{diode_n}} RS={{diode_rs}})"
                  for name, i in _spread_models(network)]
    defaults = " ".join(f"{k}={write_number(v)}" for k, v in AMPLIFIER_PARAMETERS)
    if spec.pairs and spec.hidden:
        lines += [f".SUBCKT {DIFFERENTIAL_AMPLIFIER_SUBCKT} inp inn out PARAMS: {defaults}",
                  "E_FWD mid 0 inp inn {gain/(1+gain/open_loop)}", "V_SENSE mid out DC 0",
                  "F_BWD_P inp 0 V_SENSE {gain*backward}",
                  "F_BWD_N 0 inn V_SENSE {gain*backward}", ".ENDS"]
    elif spec.amplifier_gain is not None and spec.hidden:
        lines += [f".SUBCKT {AMPLIFIER_SUBCKT} in out PARAMS: {defaults}",
                  "E_FWD mid 0 in 0 {gain/(1+gain/open_loop)}", "V_SENSE mid out DC 0",
                  "F_BWD in 0 V_SENSE {gain*backward}", ".ENDS"]
    return lines


def _diode_parameters(network: LayeredNetwork) -> str:
    """The neuron diode's parameters, as the ngspice netlist's .param card names them."""
    d = network.spec.diode
    return (f"diode_is={write_number(d.saturation_current)} "
            f"diode_n={write_number(d.emission_coefficient)} "
            f"diode_rs={write_number(d.series_resistance)}")


def _spread_models(network: LayeredNetwork) -> list[tuple[str, float]]:
    """(model name, IS) of every neuron diode that has its own model (a diode spread)."""
    if network.spec.diode_spread == 0:
        return []
    kinds = [""] if network.spec.neuron == "relu" else ["L", "H"]
    return [(network.diode_model_name(l, j, which), float(i))
            for l, currents in enumerate(network.saturation_currents, start=1)
            for which, row in zip(kinds, currents) for j, i in enumerate(row)]


def xyce_bench(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
               features: np.ndarray, title: str) -> str:
    """The Xyce test bench: every input source at a parameter, the samples a ``.DATA`` table
    swept by ``.DC DATA=``, the outputs printed to a CSV file."""
    params, voltages, sources = _bench_inputs(network, features)
    lines = _network("xyce", network, conductances, title,
                     {source: f"{{{name}}}" for source, name in zip(sources, params)})
    lines.append("* the inputs' parameters, one row of the table per sample")
    lines += [".GLOBAL_PARAM " + " ".join(f"{name}=0" for name in params[i:i + 8])
              for i in range(0, len(params), 8)]
    lines += [f".DATA {SAMPLES}", "+ " + " ".join(params)]
    lines += ["+ " + " ".join(write_number(v) for v in row) for row in voltages]
    lines.append(".ENDDATA")
    signals = _signals(network, "{{V({})-V({})}}", "{{V({})}}")
    lines += [f".DC DATA={SAMPLES}",
              f".PRINT DC FORMAT=CSV FILE={XYCE_OUTPUTS} " + " ".join(signals),
              f".OPTIONS NONLIN RELTOL={write_number(BENCH_OPTIONS['reltol'])}", ".END"]
    return "\n".join(lines) + "\n"


def _signals(network: LayeredNetwork, pair: str, single: str) -> list[str]:
    """The output signals written with the dialect's templates (class k is signal k)."""
    out = network.output_nets
    if network.spec.paired_outputs:
        return [pair.format(out[2 * k], out[2 * k + 1]) for k in range(network.spec.n_outputs)]
    return [single.format(net) for net in out]


# -- Spectre ------------------------------------------------------------------------------------
def _spectre_header(network: LayeredNetwork, title: str) -> list[str]:
    spec = network.spec
    lines = [f"// {one_line(title)}", f"// eqprop-analog layered resistive network, layers "
             f"{'-'.join(map(str, spec.layers))}, Spectre dialect", "simulator lang=spectre"]
    if spec.hidden:
        lines += [f"parameters {_diode_parameters(network)}",
                  "model DNEURON diode is=diode_is n=diode_n rs=diode_rs"]
        lines += [f"model {name} diode is={write_number(i)} n=diode_n rs=diode_rs"
                  for name, i in _spread_models(network)]
    defaults = " ".join(f"{k}={write_number(v)}" for k, v in AMPLIFIER_PARAMETERS)
    if spec.pairs and spec.hidden:
        lines += [f"subckt {DIFFERENTIAL_AMPLIFIER_SUBCKT} (inp inn out)",
                  f"parameters {defaults}",
                  "E_FWD (mid 0 inp inn) vcvs gain=gain/(1+gain/open_loop)",
                  "V_SENSE (mid out) vsource type=dc dc=0",
                  "F_BWD_P (inp 0) cccs probe=V_SENSE gain=gain*backward",
                  "F_BWD_N (0 inn) cccs probe=V_SENSE gain=gain*backward",
                  f"ends {DIFFERENTIAL_AMPLIFIER_SUBCKT}"]
    elif spec.amplifier_gain is not None and spec.hidden:
        lines += [f"subckt {AMPLIFIER_SUBCKT} (in out)", f"parameters {defaults}",
                  "E_FWD (mid 0 in 0) vcvs gain=gain/(1+gain/open_loop)",
                  "V_SENSE (mid out) vsource type=dc dc=0",
                  "F_BWD (in 0) cccs probe=V_SENSE gain=gain*backward",
                  f"ends {AMPLIFIER_SUBCKT}"]
    return lines


def spectre_bench(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                  features: np.ndarray, title: str) -> str:
    """The Spectre test bench: every input source at a parameter, the samples a ``paramset``
    swept around a ``dc`` analysis, the output nets saved."""
    params, voltages, sources = _bench_inputs(network, features)
    lines = _network("spectre", network, conductances, title, dict(zip(sources, params)))
    lines.append("// the inputs' parameters, one row of the paramset per sample")
    lines += ["parameters " + " ".join(f"{name}=0" for name in params[i:i + 8])
              for i in range(0, len(params), 8)]
    lines += [f"{SAMPLES} paramset {{", " ".join(params)]
    lines += [" ".join(write_number(v) for v in row) for row in voltages]
    lines.append("}")
    options = BENCH_OPTIONS
    lines += [f"bench_options options reltol={write_number(options['reltol'])} "
              f"vabstol={write_number(options['vntol'])} "
              f"iabstol={write_number(options['abstol'])}",
              f"sweep_samples sweep paramset={SAMPLES} {{", "dc_op dc", "}",
              "save " + " ".join(network.output_nets)]
    return "\n".join(lines) + "\n"


def _network(dialect: str, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
             title: str, inputs: dict[str, str] | None = None) -> list[str]:
    """The network's statements in Xyce's or Spectre's dialect (inputs at DC 0, or the
    expressions ``inputs`` names per input source), without Xyce's ``.END``."""
    _check(network, dialect)
    header = _xyce_header if dialect == "xyce" else _spectre_header
    return header(network, title) + [_statement(dialect, e, inputs)
                                     for e in circuit_elements(network, conductances)]


def netlist_in(dialect: str, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
               title: str) -> str:
    """The network (inputs at DC 0) in Xyce's or Spectre's dialect."""
    end = [".END"] if dialect == "xyce" else []
    return "\n".join(_network(dialect, network, conductances, title) + end) + "\n"


def bench_in(dialect: str, network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
             features: np.ndarray, title: str) -> str:
    """The test bench of ``features`` in Xyce's or Spectre's dialect."""
    bench = xyce_bench if dialect == "xyce" else spectre_bench
    return bench(network, conductances, features, title)
