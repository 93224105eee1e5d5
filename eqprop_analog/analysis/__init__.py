"""What the states of a trained network show a hardware engineer: the static power of each
element group (:mod:`.power`), the voltage ranges of the layers and how each class is predicted
(:mod:`.inference`), the energy of a training step's phases (:mod:`.step_energy`), and the settling
time and energy of an inference from its transient (:mod:`.settling`)."""
