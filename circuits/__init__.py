"""The SPICE library that compiled netlists copy in: the neuron diode model and the bidirectional
amplifier subcircuits. The wheel ships this folder as the package ``eqprop_analog.circuits``, read
with :mod:`importlib.resources`, so it is found wherever the package is installed."""
