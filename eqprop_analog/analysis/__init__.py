"""What the steady states of a trained network show a hardware engineer: the static power of each
element group, the voltage ranges of the layers, how each class is predicted."""
