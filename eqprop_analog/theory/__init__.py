"""The seeds' reference models and the checks of their statements on circuits (``verify``).

Models and algorithms:

- :mod:`.relmse`: the relative mean squared error between two processes (thesis part IV, eq. 2.14);
- :mod:`.discrete`: discrete-time EP against BPTT, step by step, for any model (seed 000,
  Theorem 1);
- :mod:`.fully_connected`: the seed's prototypical and energy-based layered models;
- :mod:`.circuit_dynamics`: the explicit-Euler dynamics of a compiled circuit with node
  capacitances, a model of the same kind built on the circuit's own co-content;
- :mod:`.continual`: continual EP (thesis part V);
- :mod:`.recurrent_backprop`: recurrent backprop in continuous time, solved exactly from the
  circuit's Jacobian, and EP's temporal derivatives (seed 003).

The statements, one module each with ``run(request) -> Verdict`` (:mod:`.verify` holds what they
share): :mod:`.gdu`, :mod:`.rbp`, :mod:`.bias`, :mod:`.cep`, :mod:`.asymmetry`.
"""
