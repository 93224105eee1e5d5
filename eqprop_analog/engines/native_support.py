"""What the native engine can solve, said without importing it (the config checks a check engine
with it, and torch is slow to import)."""

from __future__ import annotations

from eqprop_analog.circuit.spec import CircuitSpec


def native_refusal(spec: CircuitSpec) -> str | None:
    """Why the native engine cannot solve a circuit (what to change), or None where it can."""
    if spec.user_subcircuits:
        model = spec.user_subcircuits[0]
        return (f"the native engine knows only the built-in neuron and amplifier: "
                f"{model.role}_model {model.name} needs the ngspice engine (--engine ngspice)")
    if spec.wire_resistance or not spec.reciprocal:
        return ("the native engine models ideal wires and amplifiers; set wire_resistance = 0, "
                "no amplifier_open_loop_gain and amplifier_backward_ratio = 1, or use the ngspice "
                "engine")
    return None
