"""What the free steady states of a test set tell a hardware engineer: how each class was
predicted (the confusion matrix), the voltage range of each layer's nodes, of the amplifiers'
outputs and across the crossbars' devices (to size diodes, amplifiers and read voltages), and
the static power of one inference, group by group."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from eqprop_analog.analysis.power import static_power
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.errors import DataError


def _layer_names(network: LayeredNetwork) -> list[str]:
    return [f"hidden {h}" for h in range(1, len(network.spec.hidden) + 1)] + ["output"]


def _largest_drop(network: LayeredNetwork, layer: int, x: np.ndarray, free: np.ndarray
                  ) -> float:
    """The largest |voltage| across a device of crossbar ``layer`` over the samples: every row
    meets every column, so it is the widest gap between a row and a column voltage (without
    wire resistance; with it, the crossing points' own voltages)."""
    if network.spec.wire_resistance:
        return float(np.abs(network.device_drops(layer, x, free)).max())
    rows = network.row_voltages(layer, x, free)
    cols = network.column_voltages(layer, free)
    return float(max((rows.max(axis=1) - cols.min(axis=1)).max(),
                     (cols.max(axis=1) - rows.min(axis=1)).max()))


class InferenceProfile:
    """Gathers, batch by batch, the confusion matrix, the voltage ranges and the static power of
    the free states of a set of samples; :meth:`summary` is JSON-ready."""

    def __init__(self, network: LayeredNetwork, n_classes: int) -> None:
        self.network = network
        self.confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        self.ranges: dict[str, list[float]] = {}
        self.power: dict[str, list[np.ndarray]] = {}  # per group, each batch's samples (W)
        self.imbalances: list[np.ndarray] = []

    def _widen(self, name: str, low: float, high: float) -> None:
        seen = self.ranges.setdefault(name, [np.inf, -np.inf])
        seen[0], seen[1] = min(seen[0], low), max(seen[1], high)

    def add(self, conductances: tuple[np.ndarray, ...], x: np.ndarray, labels: np.ndarray,
            free: np.ndarray) -> None:
        """One batch: features, labels and the free voltages (samples, free nets)."""
        network = self.network
        predicted = network.readout(free).argmax(axis=1)
        np.add.at(self.confusion, (np.asarray(labels), predicted), 1)
        for name, part in zip(_layer_names(network), network.layer_slices):
            self._widen(f"{name} nodes", float(free[:, part].min()), float(free[:, part].max()))
        for h in range(1, len(network.spec.hidden) + 1):
            if network.spec.amplified:
                out = network.row_voltages(h + 1, x, free)[:, :-2]
                self._widen(f"hidden {h} amplifier outputs", float(out.min()), float(out.max()))
        for l in range(1, network.n_crossbars + 1):
            drop = _largest_drop(network, l, x, free)
            self._widen(f"crossbar {l} device drops", -drop, drop)
        budget = static_power(network, conductances, x, free)
        for group, watts in {**budget.absorbed, "supplied": budget.supplied}.items():
            self.power.setdefault(group, []).append(watts)
        self.imbalances.append(budget.imbalance)

    def sample_power(self) -> dict[str, np.ndarray]:
        """Each sample's absorbed power per group, ``supplied`` and ``imbalance`` (W), in the
        order the samples were added."""
        return {g: np.concatenate(w) for g, w in
                {**self.power, "imbalance": self.imbalances}.items()}

    def summary(self) -> dict[str, object]:
        """Samples, accuracy, the confusion matrix (rows: labels, columns: predicted classes),
        each voltage range [min, max] (V; a device drop's as [-largest, largest]) and each power
        group's mean absorbed power per inference (W; sources deliver, so they are negative;
        ``supplied`` is what they deliver in all), and the largest Tellegen imbalance of a sample
        (W)."""
        samples = int(self.confusion.sum())
        power = {g: float(np.mean(np.concatenate(w))) for g, w in self.power.items()}
        imbalance = max((float(np.abs(i).max()) for i in self.imbalances if i.size), default=0.0)
        return {"samples": samples,
                "accuracy": float(np.trace(self.confusion) / samples) if samples else 0.0,
                "confusion": self.confusion.tolist(),
                "voltage_ranges": {k: [float(v) for v in r] for k, r in self.ranges.items()},
                "static_power_w": power, "largest_imbalance_w": imbalance}


def finite_number(value: object) -> bool:
    """Whether ``value``, read back from a JSON file, is a finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def checked_profile(value: object, where: str) -> dict:
    """``value`` as a profile :meth:`InferenceProfile.summary` wrote (read back from a file):
    its entries of the right types and finite, else a DataError naming ``where``."""
    def fail(what: str) -> DataError:
        return DataError(f"{where}: the inference profile's {what}; write it again "
                         "(eqprop-analog report RUN evaluates the run)")

    if not isinstance(value, dict):
        raise fail("entry is not a table")
    confusion = value.get("confusion")
    if not (isinstance(confusion, list) and confusion and all(
            isinstance(row, list) and len(row) == len(confusion) and all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in row)
            for row in confusion)):
        raise fail("confusion matrix is not a square table of counts")
    if value.get("samples") != sum(map(sum, confusion)) or \
            not finite_number(value.get("accuracy")):
        raise fail("samples or accuracy do not fit its confusion matrix")
    ranges, power = value.get("voltage_ranges"), value.get("static_power_w")
    if not (isinstance(ranges, dict) and all(
            isinstance(r, list) and len(r) == 2 and all(map(finite_number, r)) and r[0] <= r[1]
            for r in ranges.values())):
        raise fail("voltage ranges are not [min, max] pairs of finite volts")
    if not (isinstance(power, dict) and "supplied" in power
            and all(map(finite_number, power.values()))
            and finite_number(value.get("largest_imbalance_w"))):
        raise fail("power is not a table of finite watts")
    return value


def profile(network: LayeredNetwork, conductances: tuple[np.ndarray, ...], n_classes: int,
            batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, object]:
    """The summary of :class:`InferenceProfile` over ``batches`` of (features, labels, free
    voltages)."""
    gathered = InferenceProfile(network, n_classes)
    for x, labels, free in batches:
        gathered.add(conductances, x, labels, free)
    return gathered.summary()
