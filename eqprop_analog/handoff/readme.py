"""The README.txt of a hand-off folder: for a circuit engineer who has not seen this tool."""

from __future__ import annotations

from eqprop_analog.circuit.layered import RAIL_N, RAIL_P, LayeredNetwork
from eqprop_analog.handoff.bench import OUTPUTS_FILE, BenchCheck, output_names
from eqprop_analog.spice.netlist import number


def _nets(nets: tuple[str, ...]) -> str:
    return nets[0] if len(nets) == 1 else f"{nets[0]} ... {nets[-1]} ({len(nets)} nets)"


def readme_text(network: LayeredNetwork, dataset: str, samples: int, engine: dict[str, object],
                check: BenchCheck | None, missing: str | None) -> str:
    """The README of a hand-off folder of ``network`` trained on ``dataset``; ``engine``: the
    training engine's name and description; ``check``: the bench run at export (or why not,
    ``missing``)."""
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
{copies}  README.txt           this file

Running the bench
  ngspice -b bench.cir
  writes {OUTPUTS_FILE} in the folder ngspice runs in: a header line (v-sweep, then
  {names[0]} ... {names[-1]}), then one row per sample: the sweep point k (sample k of expected.csv)
  and each output (V). The predicted class of a sample is the output with the largest value
  (y<k> is class k).
  {verdict}

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
