"""The README.txt of a hand-off folder: for a circuit engineer who has not seen this tool."""

from __future__ import annotations

import textwrap

from eqprop_analog.circuit.layered import RAIL_N, RAIL_P, LayeredNetwork
from eqprop_analog.handoff.bench import OUTPUTS_FILE, BenchCheck, output_names
from eqprop_analog.handoff.dialects import EXTENSIONS, SAMPLES, XYCE_OUTPUTS
from eqprop_analog.spice.netlist import number


def _nets(nets: tuple[str, ...]) -> str:
    return nets[0] if len(nets) == 1 else f"{nets[0]} ... {nets[-1]} ({len(nets)} nets)"


def _dialect_section(network: LayeredNetwork, dialect: str) -> str:
    """What the README says of the files in Xyce's or Spectre's dialect."""
    if dialect == "ngspice":
        return ""
    netlist, bench = f"network{EXTENSIONS[dialect]}", f"bench{EXTENSIONS[dialect]}"
    names = output_names(network.spec.n_outputs)
    if dialect == "xyce":
        files = (f"  {netlist:<21}the circuit in Xyce's dialect, inputs at DC 0 V\n"
                 f"  {bench:<21}the bench: each input source at a .GLOBAL_PARAM, the samples\n"
                 f"                       one .DATA table ({SAMPLES}) swept by .DC DATA={SAMPLES};\n"
                 f"                       .PRINT writes {XYCE_OUTPUTS}, one row per sample; its\n"
                 f"                       output columns, in order, are {names[0]} ... {names[-1]}\n"
                 f"  Run: Xyce {bench}\n")
        checked = ("PySpice 1.5's SPICE parser, which recovered every element, node and value "
                   "of the netlist (instance parameters after the first read from the "
                   "statements); the bench's table by the tests' own reader")
    else:
        files = (f"  {netlist:<21}the circuit in Spectre's dialect (simulator lang=spectre),\n"
                 "                       inputs at DC 0 V\n"
                 f"  {bench:<21}the bench: each input source at a parameter, the samples one\n"
                 f"                       paramset ({SAMPLES}) swept around a dc analysis; the output\n"
                 "                       nets are saved (y<k> as below: out_<k>, or the difference\n"
                 "                       of the pair out_<k>p, out_<k>n)\n"
                 f"  Run: spectre {bench}\n")
        checked = ("analogpy 0.2.22's Spectre reader, which recovered every element, node and "
                   "value of the netlist and its parameters; eda-netlist-parser 0.1.2, which "
                   "recovered the amplifier's ports; and the tests' own reader of Spectre's "
                   "grammar, which recovered the diode models and the bench's paramset")
    checked = textwrap.fill(f"Checked in eqprop-analog's tests by {checked}.", width=94,
                            initial_indent="  ", subsequent_indent="  ")
    return f"""
In {dialect.capitalize()}'s dialect (written from its reference manual's syntax; NOT RUN: no
{dialect.capitalize()} was at hand, so only the ngspice bench above can be run here)
{files}{checked}
  Numbers carry no scale suffix: Spectre reads M as mega where SPICE reads milli (MEG is mega).
"""


def readme_text(network: LayeredNetwork, dataset: str, samples: int, engine: dict[str, object],
                check: BenchCheck | None, missing: str | None, dialect: str = "ngspice") -> str:
    """The README of a hand-off folder of ``network`` trained on ``dataset``; ``engine``: the
    training engine's name and description; ``check``: the bench run at export (or why not,
    ``missing``); ``dialect``: the other simulator's files the folder holds, if any."""
    spec = network.spec
    plus, minus = network.input_nets
    names = output_names(spec.n_outputs)
    if spec.paired_outputs:
        outputs = (f"output k is the difference of a pair of nets, y<k> = V(out_<k>p) - "
                   f"V(out_<k>n) ({_nets(network.output_nets)})")
    else:
        outputs = f"output k is the voltage of net out_<k> ({_nets(network.output_nets)})"
    inputs = (f"  inputs       {_nets(plus)}: +A x_i, A = {number(spec.input_gain)} V, x_i in [0, 1]")
    if minus:
        inputs += f"\n               {_nets(minus)}: -A x_i (each input doubled, signed weights)"
    engine_words = str(engine["engine"]) + (
        f" {engine['ngspice_version']} at tight tolerances, "
        + ("the first crossbar as its exact Norton equivalent"
           if engine.get("input_crossbar") == "norton" else "every device")
        if "ngspice_version" in engine else " engine")
    if check is not None:
        verdict = (f"Checked at export: {check.simulator} ran bench.cir and reproduced\n"
                   f"  expected.csv within {check.largest_difference:.2g} V, "
                   + ("with the same predicted class for every sample."
                      if check.same_classes else "BUT NOT THE SAME PREDICTED CLASSES."))
    else:
        verdict = f"Not run at export: {missing}."
    models = "model DNEURON" if spec.diode_spread == 0 else "each diode its own model DN_L..."
    if spec.neuron_model is not None:
        neurons = f"your subcircuit {spec.neuron_model.name} from each hidden net to ground"
    elif spec.pairs:
        neurons = (f"{spec.neuron} diodes across each pair, in series with bias sources "
                   f"stacked on its - net ({models})")
    elif spec.neuron == "relu":
        neurons = (f"relu: a diode per hidden unit to a bias source at +/-"
                   f"{number(spec.relu_bias)} V ({models})")
    else:
        neurons = (f"clamp: two diodes per hidden unit to {number(spec.clamp_low)} V and "
                   f"{number(spec.clamp_high)} V ({models})")
    copies = "".join(f"  {model.role + '_model.lib':<21}your {model.role} {model.name} as trained "
                     "(also in the netlists)\n" for model in spec.user_subcircuits)
    hidden = "\n".join(f"  hidden {l}     {_nets(nets)}" for l, nets in
                       enumerate(network.hidden_nets, start=1))
    return f"""\
eqprop-analog hand-off: a {'-'.join(map(str, spec.layers))} resistive network trained on {dataset}
==========================================================================================

Files
  network.cir          the circuit, inputs at DC 0 V (ngspice dialect); each resistor also carries
                       its exact conductance as a comment ($ G=...)
  network.weights.csv  every trained conductance: element, layer, row, column, nets, siemens
  bench.cir            the circuit driven by the first {samples} test samples, one DC sweep
  expected.csv         what the bench should give: each sample's label, output voltages (V)
                       and predicted class, from the training engine ({engine_words})
  config.toml          the options the network was trained with; eqprop-analog evaluate reads
                       it to evaluate network.cir once you have edited it
  outputs.txt          what bench.cir wrote when the export ran it in ngspice (the check under
                       "Running the bench"; running the bench again overwrites it); absent
                       where the export did not run the bench
{copies}  README.txt           this file

Running the bench
  ngspice -b bench.cir
  writes {OUTPUTS_FILE} in the folder ngspice runs in: a header line (v-sweep, then
  {names[0]} ... {names[-1]}), then one row per sample: the sweep point k (sample k of expected.csv)
  and each output (V). The predicted class of a sample is the output with the largest value
  (y<k> is class k).
  {verdict}
{_dialect_section(network, dialect)}
Nets and units (all voltages to ground, net 0)
{inputs}
  bias rails   {RAIL_P} = +{number(spec.bias_rail)} V, {RAIL_N} = -{number(spec.bias_rail)} V
{hidden}
  neurons      {neurons}
  outputs      {outputs}
  Resistances in ohms, conductances in siemens, in [{number(spec.g_min)}, {number(spec.g_max)}] S.
  Crossbar l joins the row nets of layer l-1 (inputs, or hidden units and their amplifiers)
  and the two bias rails to the nets of layer l: element R_L<l>_<row>_<column>.
"""
