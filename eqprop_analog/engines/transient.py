"""Phases in time on ngspice: every free node gets a capacitance C to ground and the transient
starts at an operating point. The nudged phase starts at the free state and switches the nudging
currents on at t = 0; an inference starts at the network's rest with its inputs at 0 V and
switches the sample's inputs on at t = 0 (each a ramp of ``rise`` seconds, far shorter than the
circuit's fastest time constant). ngspice reports each node's voltage and its capacitor's current
C dV/dt at its own time points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eqprop_analog.circuit.elements import input_elements
from eqprop_analog.circuit.layered import GROUND, LayeredNetwork
from eqprop_analog.engines.ngspice import nudge_sources, output_signals
from eqprop_analog.engines.nudging import Cost
from eqprop_analog.errors import ConfigError
from eqprop_analog.spice.netlist import element_line, netlist_text, number
from eqprop_analog.spice.worker import NgspiceProcess

# Tight tolerances: the nudged motion is beta / G times the circuit's voltages, and its
# derivative is the quantity read (measured: reltol 1e-6 leaves it 1e-3 off on these circuits)
TRANSIENT_OPTIONS = {"reltol": 1e-8, "vntol": 1e-14, "abstol": 1e-20, "chgtol": 1e-24,
                     "trtol": 1.0}
SWITCH_NET = "nudge_on"


@dataclass(frozen=True)
class Transient:
    """One sample's nudged phase: times (n_times,), voltages of the free nets and the current
    into each free net's capacitor (n_times, n_free)."""

    times: np.ndarray
    voltages: np.ndarray
    capacitor_currents: np.ndarray

    def on(self, times: np.ndarray) -> Transient:
        """The same, linearly interpolated on ``times``."""
        def at(values: np.ndarray) -> np.ndarray:
            return np.stack([np.interp(times, self.times, v) for v in values.T], axis=1)
        return Transient(times, at(self.voltages), at(self.capacitor_currents))


def capacitor_name(net: str) -> str:
    return f"C_{net}".upper()


def transient_netlist(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                      features: np.ndarray, cost: Cost, targets: np.ndarray, beta: float,
                      capacitance: float, rise: float) -> str:
    """The netlist of one sample's nudged phase (``features`` and ``targets`` of one sample)."""
    lines = [element_line(e) for e in input_elements(network, features[None])]
    lines += _capacitors(network, capacitance)
    lines.append(f"* the nudge, switched on at t = 0 over {number(rise)} s")
    lines.append(f"V_NUDGE_ON {SWITCH_NET} {GROUND} PWL(0 0 {number(rise)} 1)")
    strength = f"({number(beta)}*V({SWITCH_NET}))"
    lines += nudge_sources(network, cost.current_expressions(
        output_signals(network), [number(y) for y in targets], strength))
    lines += _save_lines(network)
    return netlist_text(network, conductances, title="eqprop-analog nudged transient",
                        stimulus=lines, options=TRANSIENT_OPTIONS, annotate=False)


def _capacitors(network: LayeredNetwork, capacitance: float) -> list[str]:
    if not (np.isfinite(capacitance) and capacitance > 0):
        raise ConfigError(f"node capacitance must be > 0 F, got {capacitance!r}")
    return ["* a capacitance on every free node"] + [
        f"{capacitor_name(n)} {n} {GROUND} {number(capacitance)}" for n in network.free_nets]


def _saved(network: LayeredNetwork) -> tuple[str, ...]:
    """The vectors a transient keeps: each free net's voltage, then its capacitor's current."""
    free = network.free_nets
    return tuple(free) + tuple(f"@{capacitor_name(n).lower()}[i]" for n in free)


def _save_lines(network: LayeredNetwork) -> list[str]:
    """The ``.save`` cards of :func:`_saved`'s vectors, 16 to a line."""
    saved = [f"v({n})" for n in network.free_nets] + list(_saved(network)[len(network.free_nets):])
    return [".save " + " ".join(saved[i:i + 16]) for i in range(0, len(saved), 16)]


def inference_netlist(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                      features: np.ndarray, capacitance: float, rise: float) -> str:
    """The netlist of one inference (``features`` of one sample): inputs from 0 V to the
    sample's over ``rise`` seconds from t = 0, every other source on throughout."""
    lines = [f"* the inputs, switched on at t = 0 over {number(rise)} s"]
    for i, (tag, plus, minus) in enumerate(network.input_tags()):
        volts = network.spec.input_gain * features[i]
        lines.append(f"V_IN_{tag}P {plus} {GROUND} PWL(0 0 {number(rise)} {number(volts)})")
        if minus is not None:
            lines.append(f"E_IN_{tag}N {minus} {GROUND} {plus} {GROUND} -1")
    lines += _capacitors(network, capacitance)
    lines += _save_lines(network)
    return netlist_text(network, conductances, title="eqprop-analog inference transient",
                        stimulus=lines, options=TRANSIENT_OPTIONS, annotate=False)


def inference_transient(process: NgspiceProcess, network: LayeredNetwork,
                        conductances: tuple[np.ndarray, ...], features: np.ndarray,
                        capacitance: float, stop: float, step: float, rise: float,
                        timeout: float | None = None) -> Transient:
    """Run one sample's inference to ``stop`` seconds, time steps at most ``step``."""
    text = inference_netlist(network, network.check_conductances(conductances),
                             network.check_features(features[None])[0], capacitance, rise)
    out = process.transient(text, step, stop, _saved(network), timeout=timeout)
    n = len(network.free_nets)
    return Transient(out[:, 0], out[:, 1:1 + n], out[:, 1 + n:])


def nudged_transient(process: NgspiceProcess, network: LayeredNetwork,
                     conductances: tuple[np.ndarray, ...], features: np.ndarray, cost: Cost,
                     targets: np.ndarray, beta: float, capacitance: float, stop: float,
                     step: float, rise: float, timeout: float | None = None) -> Transient:
    """Run one sample's nudged phase to ``stop`` seconds, time steps at most ``step``."""
    text = transient_netlist(network, network.check_conductances(conductances),
                             network.check_features(features[None])[0], cost, targets, beta,
                             capacitance, rise)
    out = process.transient(text, step, stop, _saved(network), timeout=timeout)
    n = len(network.free_nets)
    return Transient(out[:, 0], out[:, 1:1 + n], out[:, 1 + n:])
