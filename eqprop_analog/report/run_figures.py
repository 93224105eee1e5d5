"""The figures of a run's report, as SVG text: training curves, the energy of a training step,
conductances per crossbar, voltage ranges, power per group and the confusion matrix."""

from __future__ import annotations

import numpy as np

from eqprop_analog.analysis.inference import finite_number
from eqprop_analog.report.svg import BLUE, RED, heatmap, histogram, horizontal_bars, line_chart


def training_curves(history: list[dict]) -> list[str]:
    """The free state's cost (log scale) and the accuracy per epoch, train and test."""
    epochs = [h["epoch"] for h in history]
    cost = {split: (epochs, [h[f"{split}_loss"] for h in history]) for split in ("train", "test")}
    accuracy = {split: (epochs, [100 * h[f"{split}_accuracy"] for h in history])
                for split in ("train", "test")}
    return [line_chart("cost per epoch", cost, "epoch", "cost (free state)", log_y=True),
            line_chart("accuracy per epoch", accuracy, "epoch", "accuracy (%)")]


def step_energy_curves(history: list[dict], keys: dict[str, str]) -> str | None:
    """The mean energy of a training step per epoch (log scale), one line per ``keys`` entry
    (label: row key) that some epoch's row holds; None where none does."""
    series = {}
    for label, key in keys.items():
        rows = [h for h in history if finite_number(h.get(key)) and h[key] > 0]
        if rows:
            series[label] = ([h["epoch"] for h in rows], [h[key] for h in rows])
    if not series:
        return None
    return line_chart("energy per training step", series, "epoch", "energy per step (J)",
                      log_y=True)


def conductance_histograms(conductances: tuple[np.ndarray, ...], g_min: float, g_max: float
                           ) -> list[str]:
    """One histogram per crossbar of its conductances, 40 log bins from g_min to g_max."""
    edges = np.geomspace(g_min, g_max, 41)
    out = []
    for l, g in enumerate(conductances, start=1):
        counts, _ = np.histogram(np.clip(g, g_min, g_max), bins=edges)
        out.append(histogram(f"conductances of crossbar {l}", counts.tolist(), edges.tolist(),
                             "conductance (S)", "devices", log_x=True,
                             title=f"crossbar {l}: {g.shape[0]} x {g.shape[1]}"))
    return out


def voltage_ranges(ranges: dict[str, list[float]]) -> str:
    """Each voltage range as a bar from its minimum to its maximum."""
    names = list(ranges)
    return horizontal_bars("voltage ranges", names, [ranges[n][0] for n in names],
                           [ranges[n][1] for n in names], "voltage (V)")


def power_bars(power: dict[str, float]) -> str:
    """How much static power each group absorbs (blue) or delivers (red) in one inference, in
    mW on a log scale (a group at 0 W, as ideal amplifiers are, has no bar)."""
    shown = {g: 1e3 * w for g, w in power.items() if g not in ("supplied", "imbalance")}
    names = list(shown)
    return horizontal_bars("static power per group", names, [0.0] * len(names),
                           [abs(shown[n]) for n in names],
                           "power per inference (mW): absorbed in blue, delivered in red",
                           colours=[RED if shown[n] < 0 else BLUE for n in names], log_x=True)


def confusion_matrix(confusion: list[list[int]]) -> str:
    """Counts of each label (rows) predicted as each class (columns)."""
    return heatmap("confusion matrix", confusion, "predicted class", "label")
