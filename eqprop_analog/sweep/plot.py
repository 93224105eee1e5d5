"""Accuracy against each swept option, from a sweep's results table: one panel per option, one
line per value of the option with the fewest values among the others (e.g. the scheme), each point
the mean over seeds of the runs' final test accuracy (averaged over the remaining options first),
with the spread over seeds as error bars."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from eqprop_analog.errors import DataError
from eqprop_analog.report.plots import plain, write_figure
from eqprop_analog.sweep.results import ENERGY_METRICS, METRICS, read_table


def read_results(path: str | Path, metric: str = "test_accuracy") -> tuple[list[dict], list[str]]:
    """Successful rows and the swept options (the columns between status and seed)."""
    path = Path(path)
    columns, rows = read_table(path)
    rows = [row for row in rows if row["status"] == "ok"]
    swept = list(columns[columns.index("status") + 1:columns.index("seed")])
    if not rows:
        raise DataError(f"{path} holds no successful run to plot")
    if not swept:
        raise DataError(f"{path} has no swept option to plot against")
    for row in rows:
        if _number(row.get(metric, "")) is None:
            raise DataError(f"{path}: run {row['run_id']} has no numeric {metric} "
                            f"({row.get(metric)!r})")
    return rows, swept


def plot_sweep(results: str | Path, out: str | Path, metric: str = "test_accuracy") -> Path:
    """Draw the figure into the file ``out`` (PNG where it has no suffix); return the file
    written."""
    from matplotlib.figure import Figure

    if metric not in METRICS + ENERGY_METRICS:
        raise DataError(f"metric must be one of {', '.join(METRICS + ENERGY_METRICS)}, got "
                        f"{metric!r}")
    rows, swept = read_results(results, metric)
    figure = Figure(figsize=(4.2 * len(swept), 3.4), layout="constrained")
    axes = figure.subplots(1, len(swept), squeeze=False)[0]
    for ax, option in zip(axes, swept):
        others = [o for o in swept if o != option]
        lines = min(others, key=lambda o: len({r[o] for r in rows})) if others else None
        values = sorted({r[lines] for r in rows}, key=_sort_key) if lines else []
        for label in values or [None]:
            subset = [r for r in rows if lines is None or r[lines] == label]
            xs, means, spreads = _points(subset, option, metric)
            ax.errorbar(xs, means, yerr=spreads, marker="o", capsize=3,
                        label=plain(f"{lines} = {label}") if lines else None)
        ax.set_xlabel(plain(option))
        ax.set_ylabel(metric.replace("_", " "))
        if lines:
            ax.legend(fontsize="small")
    return write_figure(figure, out, dpi=120)


def _points(rows: list[dict], option: str, metric: str):
    """x values (numbers where they parse, else category positions), mean over seeds, spread."""
    by_value: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_value[row[option]][row["seed"]].append(float(row[metric]))
    values = sorted(by_value, key=_sort_key)
    means, spreads = [], []
    for value in values:
        per_seed = [np.mean(v) for v in by_value[value].values()]
        means.append(np.mean(per_seed))
        spreads.append(np.std(per_seed))
    numeric = all(_number(v) is not None for v in values)
    xs = [_number(v) for v in values] if numeric else [plain(v) for v in values]
    return xs, means, spreads


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _sort_key(text: str):
    number = _number(text)
    return (0, number, "") if number is not None else (1, 0.0, text)
