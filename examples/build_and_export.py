"""Build a network, export its netlist and weight map, solve it once in ngspice."""

import numpy as np

from eqprop_analog import CircuitSpec, LayeredNetwork
from eqprop_analog.engines import make_engine
from eqprop_analog.spice.netlist import write_netlist

network = LayeredNetwork(CircuitSpec(layers=(4, 6, 3), amplifier_gain=4.0, relu_bias=0.45))
conductances = network.initial_conductances(np.random.default_rng(0), 1e-6, 2e-5)
netlist, weights = write_netlist("example-4-6-3.cir", network, conductances)
print(f"wrote {netlist} and {weights}")

engine = make_engine("ngspice")
try:
    x = np.random.default_rng(1).uniform(0, 1, (3, 4))
    free = engine.solve(network, conductances, x).phase(0.0)
    print("output voltages (V):\n", network.readout(free))
finally:
    engine.close()
