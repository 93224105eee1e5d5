"""Layered resistive network: node names, element names and the layout of the conductances.

A :class:`LayeredNetwork` is the single description that the netlist writer, the engines and the
learning rules share. Crossbar ``l`` (1-based) joins the *row nets* of layer l-1 (the input sources
for l = 1, otherwise the hidden nodes, or their amplifier outputs) plus the two bias rails to the
*column nets* of layer l. Its conductances form a matrix of shape (n_rows + 2, n_cols); the last two
rows are the bias conductances to the positive and the negative rail. With differential pairs each
unit of layer l has two column nets, its + node and its - node, next to each other.

The elements themselves, named and connected by this layout, are listed by :mod:`.elements`.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from eqprop_analog.circuit.spec import CircuitSpec
from eqprop_analog.errors import ConfigError, DataError

GROUND = "0"
RAIL_P, RAIL_N = "rail_p", "rail_n"
DIODE_MODEL = "DNEURON"
AMPLIFIER_SUBCKT = "BIDIR_AMP"
DIFFERENTIAL_AMPLIFIER_SUBCKT = "BIDIR_DIFF_AMP"


def index_width(n: int) -> int:
    """Digits of the widest of n indices (at least 3), so that names sort in index order."""
    return max(3, len(str(max(n - 1, 0))))


class LayeredNetwork:
    """Names, topology and parameter layout of the resistive network described by a CircuitSpec."""

    def __init__(self, spec: CircuitSpec) -> None:
        self.spec = spec
        self.n_crossbars = len(spec.layers) - 1

    # -- nets -------------------------------------------------------------------------------------
    @cached_property
    def input_nets(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Nets driven by +A x_i and by -A x_i (none of the latter with differential pairs)."""
        w = index_width(self.spec.n_inputs)
        if self.spec.pairs:
            return tuple(f"in_{i:0{w}d}" for i in range(self.spec.n_inputs)), ()
        return (tuple(f"in_{i:0{w}d}p" for i in range(self.spec.n_inputs)),
                tuple(f"in_{i:0{w}d}n" for i in range(self.spec.n_inputs)))

    @cached_property
    def hidden_units(self) -> tuple[tuple[str, ...], ...]:
        """Names of the hidden units, per layer: their net, or the stem of their pair of nets."""
        return tuple(tuple(f"h{l}_{j:0{index_width(n)}d}" for j in range(n))
                     for l, n in enumerate(self.spec.hidden, start=1))

    @cached_property
    def hidden_nets(self) -> tuple[tuple[str, ...], ...]:
        """Nets of the hidden nodes, per layer: one per unit, or each unit's + and - node."""
        suffixes = "pn" if self.spec.pairs else ("",)
        return tuple(tuple(u + s for u in units for s in suffixes) for units in self.hidden_units)

    @cached_property
    def output_nets(self) -> tuple[str, ...]:
        n = self.spec.n_outputs
        w = index_width(n)
        if self.spec.paired_outputs:
            return tuple(f"out_{k:0{w}d}{s}" for k in range(n) for s in "pn")
        return tuple(f"out_{k:0{w}d}" for k in range(n))

    @cached_property
    def free_nets(self) -> tuple[str, ...]:
        """Nets whose voltages the circuit settles: hidden nodes, then output nodes, in order; with
        a user's amplifier then its output nets (layer by layer); with wire resistance then every
        crossbar's crossing points (its row crossings, then its column crossings, each in the
        crossbar's row-major order)."""
        nets = tuple(n for layer in self.hidden_nets for n in layer) + self.output_nets
        if self.spec.amplifier_model is not None:
            nets += tuple(u + "a" for units in self.hidden_units for u in units)
        if self.spec.wire_resistance:
            for l in range(1, self.n_crossbars + 1):
                rows, cols = self.crossing_nets(l)
                nets += tuple(rows.flat) + tuple(cols.flat)
        return nets

    def crossing_nets(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Where device (i, j) of crossbar ``layer`` meets its row wire and its column wire (nets
        of a crossbar with wire resistance), two arrays of the crossbar's shape."""
        n_rows, n_cols = self.shapes[layer - 1]
        rows = np.array([[f"w{layer}r{i}_{j}" for j in range(n_cols)] for i in range(n_rows)])
        cols = np.array([[f"w{layer}c{j}_{i}" for j in range(n_cols)] for i in range(n_rows)])
        return rows, cols

    @cached_property
    def layer_slices(self) -> tuple[slice, ...]:
        """Slice of ``free_nets`` holding the nodes of layer l (1..L), index l-1."""
        slices, start = [], 0
        for n in [len(h) for h in self.hidden_nets] + [len(self.output_nets)]:
            slices.append(slice(start, start + n))
            start += n
        return tuple(slices)

    def driving_nets(self, layer: int) -> tuple[str, ...]:
        """Row nets of crossbar ``layer`` (1-based), bias rails excluded."""
        if layer == 1:
            plus, minus = self.input_nets
            return tuple(n for pair in zip(plus, minus) for n in pair) if minus else plus
        if self.spec.amplified:
            return tuple(u + "a" for u in self.hidden_units[layer - 2])
        return self.hidden_nets[layer - 2]

    def column_nets(self, layer: int) -> tuple[str, ...]:
        return self.hidden_nets[layer - 1] if layer < self.n_crossbars else self.output_nets

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """Shape of each crossbar's conductance matrix, bias rows included: the driving nets and
        two bias rails by the column nets."""
        return self.spec.crossbar_shapes

    @property
    def n_parameters(self) -> int:
        return self.spec.n_conductances

    # -- element names ----------------------------------------------------------------------------
    @cached_property
    def resistor_names(self) -> tuple[np.ndarray, ...]:
        """Element names of every crossbar conductance, arrays of the shapes in :attr:`shapes`."""
        names = []
        for l, (rows, cols) in enumerate(self.shapes, start=1):
            wr, wc = index_width(rows - 2), index_width(cols)
            row_tags = [f"{i:0{wr}d}" for i in range(rows - 2)] + ["BP", "BN"]
            grid = np.array([[f"R_L{l}_{r}_{j:0{wc}d}" for j in range(cols)] for r in row_tags])
            names.append(grid)
        return tuple(names)

    def resistor_nets(self, layer: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(row nets including the rails, column nets) of crossbar ``layer``."""
        return self.driving_nets(layer) + (RAIL_P, RAIL_N), self.column_nets(layer)

    def device_nets(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """The two nets of every device of crossbar ``layer``, arrays of its shape: its row and
        its column net, or with wire resistance the crossing points of the two."""
        if self.spec.wire_resistance:
            return self.crossing_nets(layer)
        rows, cols = self.resistor_nets(layer)
        shape = self.shapes[layer - 1]
        return (np.broadcast_to(np.array(rows)[:, None], shape),
                np.broadcast_to(np.array(cols)[None, :], shape))

    @cached_property
    def saturation_currents(self) -> tuple[np.ndarray, ...]:
        """IS of every neuron diode, per hidden layer an array (diodes per unit, units): one relu
        diode per unit, or the clamp's low and high diodes. All IS unless ``diode_spread`` > 0."""
        spec = self.spec
        per_node = 1 if spec.neuron == "relu" else 2
        mean, spread = spec.diode.saturation_current, spec.diode_spread
        sigma = np.sqrt(np.log1p(spread ** 2))
        out = []
        for l, size in enumerate(spec.hidden, start=1):
            rng = np.random.default_rng([spec.diode_spread_seed, l])
            draws = rng.lognormal(np.log(mean) - 0.5 * sigma ** 2, sigma, (per_node, size))
            out.append(draws if spread > 0 else np.full((per_node, size), mean))
        return tuple(out)

    def diode_model_name(self, layer: int, node: int, which: str = "") -> str:
        """Model of a neuron diode: the shared one, or the device's own with a diode spread."""
        if self.spec.diode_spread == 0:
            return DIODE_MODEL
        return f"DN_L{layer}_{node:0{index_width(self.spec.hidden[layer - 1])}d}{which}"

    def input_tags(self) -> list[tuple[str, str, str | None]]:
        """(index tag, + net, - net or None) of every input, the tag naming its source elements."""
        plus, minus = self.input_nets
        if not minus:
            return [(p[3:], p, None) for p in plus]
        return [(p[3:-1], p, m) for p, m in zip(plus, minus)]

    # -- parameters ---------------------------------------------------------------------------------
    def check_conductances(self, conductances: list[np.ndarray] | tuple[np.ndarray, ...]
                           ) -> tuple[np.ndarray, ...]:
        """Validate the shapes and the range of a set of conductances; return float64 arrays."""
        if len(conductances) != self.n_crossbars:
            raise ConfigError(f"expected {self.n_crossbars} conductance matrices, got "
                              f"{len(conductances)}")
        out = []
        for l, (g, shape) in enumerate(zip(conductances, self.shapes), start=1):
            g = np.asarray(g, dtype=np.float64)
            if g.shape != shape:
                raise ConfigError(f"crossbar {l} conductances have shape {g.shape}, expected {shape}")
            if not (g.min() > 0 and g.max() < np.inf):  # two reductions, no temporaries
                raise ConfigError(f"crossbar {l} conductances must be finite and > 0 S")
            out.append(g)
        return tuple(out)

    def check_features(self, features: np.ndarray) -> np.ndarray:
        """Validate a batch of features (or one sample) and return it as a 2-D float64 array."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.spec.n_inputs:
            raise DataError(f"features must have {self.spec.n_inputs} columns (the network's input "
                            f"width), got shape {np.shape(features)}")
        if x.shape[0] == 0:
            raise DataError("features hold no sample")
        if not np.all(np.isfinite(x)):
            raise DataError("features contain NaN or infinite values; clean or impute them first")
        return x

    def initial_conductances(self, rng: np.random.Generator, low: float | None = None,
                             high: float | None = None) -> tuple[np.ndarray, ...]:
        """Conductances drawn uniformly in [low, high] (default: [g_min, g_max])."""
        low = self.spec.g_min if low is None else low
        high = self.spec.g_max if high is None else high
        if not self.spec.g_min <= low < high <= self.spec.g_max:
            raise ConfigError(f"initial conductance range [{low:g}, {high:g}] S must lie within "
                              f"[g_min, g_max] = [{self.spec.g_min:g}, {self.spec.g_max:g}] S")
        return tuple(rng.uniform(low, high, size=shape) for shape in self.shapes)

    # -- voltages seen by each crossbar -------------------------------------------------------------
    def input_voltages(self, features: np.ndarray) -> np.ndarray:
        """(batch, rows) voltages of the input nets, in row order of crossbar 1 (+A x_i, and
        -A x_i after it with doubled inputs)."""
        v = self.spec.input_gain * np.asarray(features, dtype=np.float64)
        if self.spec.pairs:
            return v
        return np.stack([v, -v], axis=-1).reshape(v.shape[0], -1)

    def unit_signals(self, voltages: np.ndarray) -> np.ndarray:
        """Each unit's value from its node voltages (last axis): the node's voltage, or the
        difference of its pair."""
        if self.spec.pairs:
            return voltages[..., 0::2] - voltages[..., 1::2]
        return voltages

    def row_voltages(self, layer: int, features: np.ndarray, free: np.ndarray) -> np.ndarray:
        """(batch, n_rows + 2) voltages at the row nets of crossbar ``layer``, rails included.

        ``free`` holds the voltages of :attr:`free_nets`, shape (batch, n_free)."""
        if layer == 1:
            v = self.input_voltages(features)
        elif self.spec.amplifier_model is not None:  # a user's amplifier: its output, as solved
            v = free[:, self.amplifier_output_slice(layer - 1)]
        else:
            v = self.spec.forward_gain * self.unit_signals(free[:, self.layer_slices[layer - 2]])
        rails = np.broadcast_to([self.spec.bias_rail, -self.spec.bias_rail], (v.shape[0], 2))
        return np.concatenate([v, rails], axis=1)

    def amplifier_output_slice(self, hidden_layer: int) -> slice:
        """Slice of ``free_nets`` holding the user amplifiers' outputs of hidden layer l (1..)."""
        start = self.layer_slices[-1].stop + sum(self.spec.hidden[:hidden_layer - 1])
        return slice(start, start + self.spec.hidden[hidden_layer - 1])

    def column_voltages(self, layer: int, free: np.ndarray) -> np.ndarray:
        return free[:, self.layer_slices[layer - 1]]

    def device_drops(self, layer: int, features: np.ndarray, free: np.ndarray) -> np.ndarray:
        """(batch, rows, columns) voltage across every device of crossbar ``layer``: row minus
        column voltage, taken at the device's own crossing points when the wires have resistance."""
        if not self.spec.wire_resistance:
            rows = self.row_voltages(layer, features, free)
            return rows[:, :, None] - self.column_voltages(layer, free)[:, None, :]
        rows, cols = self.crossing_voltages(layer, free)
        return rows - cols

    def crossing_voltages(self, layer: int, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(batch, rows, columns) voltages of crossbar ``layer``'s row and column wires where they
        cross (a crossbar with wire resistance), from ``free`` as in :meth:`row_voltages`."""
        shape = self.shapes[layer - 1]
        start = len(self.free_nets) - 2 * sum(r * c for r, c in self.shapes[layer - 1:])
        size = shape[0] * shape[1]
        return (free[:, start:start + size].reshape(-1, *shape),
                free[:, start + size:start + 2 * size].reshape(-1, *shape))

    def readout(self, free: np.ndarray) -> np.ndarray:
        """(batch, n_outputs) output signals: node voltages, or differences of the pairs."""
        out = free[..., self.layer_slices[-1]]
        if self.spec.paired_outputs:
            return out[..., 0::2] - out[..., 1::2]
        return out
