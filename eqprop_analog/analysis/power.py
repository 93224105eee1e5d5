"""Static power of a network's steady states, element group by element group.

Each group's power comes from its own elements' equations: a crossbar's from its devices' drops
(G dV^2), the wires' from their segments, the neuron diodes' from the SPICE level-1 model at their
branch voltages, the built-in amplifiers' from their controlled sources. A source's current is
what the elements on its net carry away (KCL at the source's net). Every figure is absorbed power
in watts, as ngspice's ``@element[p]``: a source that delivers power is negative. By Tellegen's
theorem the groups sum to zero; what they leave (``imbalance``) is each free node's voltage times
the current KCL leaves over there, a measure of how far the steady state is from exact.

Where no equation is known, a group takes the current KCL leaves at its node, and that node then
balances by construction: an ideal diode that holds its node at its bound (no voltage across it,
so it dissipates nothing and its bias source delivers what it carries; one off its bound carries
nothing), and user subcircuits, whose power is what their terminals take in. A user neuron and a
user amplifier on the same node cannot be told apart, so they are one group then. The imbalance
is thus a check of the output nodes, the wires' crossings and the nodes of built-in Shockley
neurons.

An ideal built-in amplifier (forward gain a; its input draws a times the output current) takes
a V_in I_out at its input and gives the same a V_in I_out at its output: its net power is 0 W, as
an ideal transformer's, and its supplies are outside the model. A finite open-loop gain or a
backward ratio other than 1 makes it non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.engines.neurons import hidden_neurons
from eqprop_analog.errors import DataError

SOURCE_GROUPS = ("input sources", "bias rails", "neuron bias sources", "nudging sources")
CHUNK_VALUES = 2_000_000  # values of one array held at once (16 MB)
IDEAL_HOLD = 1e-9  # V: an ideal diode within this of its bound holds its node there


@dataclass(frozen=True)
class PowerBudget:
    """Absorbed power (W) of each element group, one value per sample."""

    absorbed: dict[str, np.ndarray]

    @property
    def supplied(self) -> np.ndarray:
        """Power the sources deliver, per sample (W)."""
        return -sum((p for g, p in self.absorbed.items() if g in SOURCE_GROUPS),
                    np.zeros(self.n_samples))

    @property
    def imbalance(self) -> np.ndarray:
        """The sum over every group, per sample (W): zero for an exact steady state."""
        return sum(self.absorbed.values(), np.zeros(self.n_samples))

    @property
    def n_samples(self) -> int:
        return len(next(iter(self.absorbed.values())))


def static_power(network: LayeredNetwork, conductances: tuple[np.ndarray, ...],
                 features: np.ndarray, free: np.ndarray,
                 nudging: np.ndarray | None = None) -> PowerBudget:
    """The power budget of the steady states ``free`` (samples, free nets) reached with inputs
    ``features``; ``nudging``: the currents (A) that nudging sources inject into the output nets
    (samples, output nets), for a nudged state."""
    g = network.check_conductances(conductances)
    x = network.check_features(features)
    v = np.asarray(free, dtype=np.float64)
    if v.shape != (len(x), len(network.free_nets)):
        raise DataError(f"free voltages must have shape {(len(x), len(network.free_nets))} "
                        f"(samples, free nets), got {v.shape}")
    if nudging is not None and np.shape(nudging) != (len(x), len(network.output_nets)):
        raise DataError(f"nudging currents must have shape {(len(x), len(network.output_nets))}"
                        f" (samples, output nets), got {np.shape(nudging)}")
    # with wire resistance every device's drop is formed; without, a row's or column's values
    per_sample = network.n_parameters if network.spec.wire_resistance else \
        max(rows + columns for rows, columns in network.shapes)
    chunk = max(1, CHUNK_VALUES // per_sample)
    parts = [_power(network, g, x[s:s + chunk], v[s:s + chunk],
                    None if nudging is None else np.asarray(nudging)[s:s + chunk])
             for s in range(0, len(x), chunk)]
    return PowerBudget({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def _power(network: LayeredNetwork, g: tuple[np.ndarray, ...], x: np.ndarray, v: np.ndarray,
           nudging: np.ndarray | None) -> dict[str, np.ndarray]:
    spec = network.spec
    absorbed: dict[str, np.ndarray] = {}
    # per crossbar: what leaves its rows, the rails last (of the first crossbar's only the
    # rails: its input rows count only as the power their sources deliver), and what arrives
    # at its columns
    leaving, arriving, wires = [], [], np.zeros(len(x))
    for l in range(1, network.n_crossbars + 1):
        if spec.wire_resistance:
            drops = network.device_drops(l, x, v)
            absorbed[f"crossbar {l}"] = np.einsum("nij,nij,ij->n", drops, drops, g[l - 1])
            along_rows, along_columns = _wire_drops(network, l, x, v)
            wires += (np.square(along_rows).sum(axis=(1, 2))
                      + np.square(along_columns).sum(axis=(1, 2))) / spec.wire_resistance
            # what the first segment of each row and the last of each column carry
            out_of_rows = -along_rows[:, :, 0] / spec.wire_resistance
            arriving.append(-along_columns[:, -1, :] / spec.wire_resistance)
            if l == 1:
                input_power = np.einsum("ni,ni->n", network.input_voltages(x),
                                        out_of_rows[:, :-2])
                out_of_rows = out_of_rows[:, -2:]
            leaving.append(out_of_rows)
            continue
        # sum_j G_ij (r_i - c_j) and sum_i G_ij (r_i - c_j) as matrix products, and the
        # crossbar's power as what its terminals take in: no (samples, rows, columns) array
        conductance = g[l - 1]
        r, c = network.row_voltages(l, x, v), network.column_voltages(l, v)
        row_sums, from_rows = conductance.sum(axis=1), r @ conductance
        into_columns = from_rows - c * conductance.sum(axis=0)
        # sum_i r_i (what leaves row i) = sum_i r_i^2 G_i. - sum_j c_j sum_i r_i G_ij
        out_of_rows_power = (np.einsum("ni,ni,i->n", r, r, row_sums)
                             - np.einsum("nj,nj->n", c, from_rows))
        absorbed[f"crossbar {l}"] = out_of_rows_power - np.einsum("nj,nj->n", c, into_columns)
        arriving.append(into_columns)
        rows = slice(-2, None) if l == 1 else slice(None)
        out_of_rows = r[:, rows] * row_sums[rows] - c @ conductance[rows].T
        if l == 1:  # what leaves every row but the rails'
            input_power = out_of_rows_power - np.einsum("nk,nk->n", r[:, -2:], out_of_rows)
        leaving.append(out_of_rows)
    if spec.wire_resistance:
        absorbed["wires"] = wires
    absorbed["input sources"] = -input_power
    absorbed["bias rails"] = -spec.bias_rail * np.sum([r[:, -2] - r[:, -1] for r in leaving],
                                                      axis=0)
    if spec.hidden:
        absorbed.update(_hidden_layers(network, x, v, leaving, arriving))
    if nudging is not None:
        absorbed["nudging sources"] = -np.einsum("nk,nk->n", v[:, network.layer_slices[-1]],
                                                 nudging)
    return absorbed


def _wire_drops(network: LayeredNetwork, layer: int, x: np.ndarray, v: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """The voltage across each wire segment of a crossbar, in the direction of
    :func:`~eqprop_analog.circuit.elements.wire_segments`: (samples, rows, columns) along the
    rows from each driver, (samples, rows, columns) along the columns towards each neuron."""
    row_points, column_points = network.crossing_voltages(layer, v)
    drivers = network.row_voltages(layer, x, v)[:, :, None]
    neurons = network.column_voltages(layer, v)[:, None, :]
    return (np.diff(np.concatenate([drivers, row_points], axis=2), axis=2),
            np.diff(np.concatenate([column_points, neurons], axis=1), axis=1))


def _hidden_layers(network: LayeredNetwork, x: np.ndarray, v: np.ndarray,
                   leaving: list[np.ndarray], arriving: list[np.ndarray]
                   ) -> dict[str, np.ndarray]:
    """Power of the neurons, their bias sources and the amplifiers, from the currents
    ``leaving`` each crossbar's row nets (the first's: its rails only) and ``arriving`` at its
    column nets."""
    spec = network.spec
    zero = np.zeros(len(x))
    neurons, biases, amplifiers = zero.copy(), zero.copy(), zero.copy()
    for h in range(1, len(spec.hidden) + 1):
        c = v[:, network.layer_slices[h - 1]]
        into = arriving[h - 1].copy()  # what reaches each node from elsewhere than its neuron
        drives = leaving[h][:, :-2]  # into the next crossbar's rows, from each unit
        if not spec.amplified:
            into -= drives
        elif spec.amplifier_model is None:  # built-in: controlled sources
            k = (spec.amplifier_gain or 1.0) * spec.amplifier_backward_ratio
            given = network.row_voltages(h + 1, x, v)[:, :-2]
            amplifiers += np.einsum("nj,nj->n", drives, k * network.unit_signals(c) - given)
            if spec.pairs:
                into[:, 0::2] -= k * drives
                into[:, 1::2] += k * drives
            else:
                into -= k * drives
        else:  # a user's: its output gives what the next crossbar takes
            given = v[:, network.amplifier_output_slice(h)]
            amplifiers -= np.einsum("nj,nj->n", given, drives)
        if spec.neuron_model is None:
            n_absorbed, b_absorbed, into = _neuron_diodes(network, h, c, into)
            neurons += n_absorbed
            biases += b_absorbed
        # what is left at the node goes into its user subcircuit(s)
        if spec.neuron_model is not None and spec.amplifier_model is None:
            neurons += np.einsum("nj,nj->n", c, into)
        elif spec.amplifier_model is not None:
            amplifiers += np.einsum("nj,nj->n", c, into)
    if spec.neuron_model is not None and spec.amplifier_model is not None:
        return {"neurons and amplifiers": amplifiers}
    out = {"neurons": neurons}
    if spec.neuron_model is None:
        out["neuron bias sources"] = biases
    if spec.amplified:
        out["amplifiers"] = amplifiers
    return out


def _neuron_diodes(network: LayeredNetwork, layer: int, c: np.ndarray, into: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(diodes' power, their bias sources' power, what is left at each node) of hidden layer
    ``layer``'s built-in neurons at node voltages ``c``, where ``into`` reaches each node from
    the other elements. Each diode's branch voltage and current, signed as the diode conducts."""
    spec = network.spec
    neurons = hidden_neurons(network, torch.float64)
    u = network.unit_signals(c)
    if spec.pairs:  # never ideal: nothing is asked of the diodes
        into_units = np.zeros_like(u)
    else:
        into_units = into

    def diode_current(which: int, w: np.ndarray, asked: np.ndarray) -> np.ndarray:
        """The diode's current at branch voltage ``w``: its model's, or (ideal, single-ended
        nodes only) what KCL ``asked`` of it where it holds its node at the bound."""
        if spec.ideal_diodes:
            return np.where(w >= -IDEAL_HOLD, np.maximum(asked, 0.0), 0.0)
        return neurons.diodes[layer - 1][which].current(torch.from_numpy(w))[0].numpy()

    if spec.neuron == "relu":
        sign = neurons.relu_signs[layer - 1].numpy()
        w = spec.relu_bias - sign * u
        i = diode_current(0, w, -sign * into_units)
        diodes = np.einsum("nj,nj->n", w, i)
        bias = -spec.relu_bias * i.sum(axis=1)
        to_node = sign * i
    else:
        low, high = spec.clamp_low - u, u - spec.clamp_high
        i_low, i_high = (diode_current(0, low, -into_units),
                         diode_current(1, high, into_units))
        diodes = np.einsum("nj,nj->n", low, i_low) + np.einsum("nj,nj->n", high, i_high)
        bias = (spec.clamp_high * i_high - spec.clamp_low * i_low).sum(axis=1)
        to_node = i_low - i_high
    left = into.copy()
    if spec.pairs:
        left[:, 0::2] += to_node
        left[:, 1::2] -= to_node
    else:
        left += to_node
    return diodes, bias, left
