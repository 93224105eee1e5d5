"""Figures of the ``verify`` statements: processes over time, errors per layer, orders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eqprop_analog.report.plots import new_figure, save_figure


def plot_processes(dashed: dict[str, np.ndarray], solid: dict[str, np.ndarray],
                   path: str | Path, title: str = "", labels: tuple[str, str] = ("EP", "BPTT"),
                   times: np.ndarray | None = None, time_label: str = "step t",
                   per_panel: int = 5, seed: int = 0) -> Path:
    """One panel per layer: ``per_panel`` elements drawn at random, the first process dashed and
    the second solid in the same colour."""
    names = list(dashed)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    fig = new_figure(4.2 * columns, 3.0 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    rng = np.random.default_rng(seed)
    for ax, name in zip(axes, names):
        a = dashed[name].reshape(len(dashed[name]), -1)
        b = solid[name].reshape(len(solid[name]), -1)
        t = np.arange(len(a)) if times is None else times
        moving = np.flatnonzero(np.abs(b).max(axis=0) > 0)
        chosen = rng.choice(moving, size=min(per_panel, len(moving)), replace=False)
        for k, j in enumerate(chosen):
            colour = f"C{k}"
            ax.plot(t, b[:, j], color=colour, lw=1.5)
            ax.plot(t, a[:, j], color=colour, lw=1.5, ls="--")
        ax.set(title=name, xlabel=time_label)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].plot([], [], color="k", ls="--", label=labels[0])
    axes[0].plot([], [], color="k", label=labels[1])
    axes[0].legend(fontsize=8)
    return save_figure(fig, path, title)


def plot_relmse_bars(relmse: dict[str, dict[str, dict[str, float]]], path: str | Path,
                     title: str = "") -> Path:
    """RelMSE per layer, one panel per setting, a bar per estimator (log scale)."""
    settings = list(relmse)
    columns = min(4, len(settings))
    rows = -(-len(settings) // columns)
    fig = new_figure(3.6 * columns, 3.0 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, setting in zip(axes, settings):
        estimators = list(relmse[setting])
        layers = list(relmse[setting][estimators[0]])
        width = 0.8 / len(estimators)
        for k, estimator in enumerate(estimators):
            values = [max(relmse[setting][estimator][layer], 1e-16) for layer in layers]
            ax.bar(np.arange(len(layers)) + (k - (len(estimators) - 1) / 2) * width, values,
                   width, label=estimator)
        ax.set_xticks(np.arange(len(layers)), layers, fontsize=8)
        ax.set(yscale="log", title=setting, ylabel="RelMSE")
        ax.grid(alpha=0.3, axis="y")
    for ax in axes[len(settings):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    return save_figure(fig, path, title)


def plot_orders(rows: dict[str, list[dict]], path: str | Path, x_label: str, y_label: str,
                title: str = "") -> Path:
    """Log-log curves: for each series (an estimator, say) one panel, one line per layer;
    ``rows[series]`` lists {"x": value, "values": {layer: error}}."""
    series = list(rows)
    fig = new_figure(4.2 * len(series), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(series))).ravel()
    for ax, name in zip(axes, series):
        xs = [r["x"] for r in rows[name]]
        for layer in rows[name][0]["values"]:
            ax.loglog(xs, [max(r["values"][layer], 1e-300) for r in rows[name]], marker="o",
                      label=layer)
        ax.set(xlabel=x_label, ylabel=y_label, title=name)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return save_figure(fig, path, title)


def plot_accuracies(rows: dict[str, dict], path: str | Path, title: str = "") -> Path:
    """Test accuracy per estimator: each seed a dot, the mean a bar."""
    fig = new_figure(4.5, 3.5)
    ax = fig.subplots()
    for k, row in enumerate(rows.values()):
        values = 100 * np.asarray(row["test_accuracy"])
        ax.bar(k, values.mean(), 0.6, color=f"C{k}", alpha=0.5)
        ax.plot(np.full(len(values), k), values, "o", color=f"C{k}")
    ax.set_xticks(range(len(rows)), list(rows))
    ax.set(ylabel="test accuracy (%)")
    low = min(100 * min(row["test_accuracy"]) for row in rows.values())
    ax.set_ylim(max(0.0, low - 5), 100)
    ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, path, title)


def plot_truncation(truncation: dict, path: str | Path, title: str = "") -> Path:
    """Relative error of truncated EP and truncated recurrent backprop against dJ/dG over time."""
    fig = new_figure(5.0, 3.6)
    ax = fig.subplots()
    ax.semilogy(truncation["times"], truncation["rbp"], label="recurrent backprop (exact)")
    ax.semilogy(truncation["times"], truncation["ep"], ls="--", label="EP")
    ax.set(xlabel="truncation time t (s)", ylabel="relative error against dJ/dG")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path, title)


def plot_asymmetry(by_gain: list[dict], by_ratio: list[dict], path: str | Path,
                   title: str = "") -> Path:
    """Cosine and relative error of EP against the open-loop gain and the gain ratio."""
    fig = new_figure(9.0, 3.6)
    left, right = fig.subplots(1, 2)
    for ax, rows, label, log_x in ((left, by_gain, "open-loop gain A0", True),
                                   (right, by_ratio, "backward / forward gain", False)):
        xs = [r["value"] for r in rows]
        ax.plot(xs, [1 - r["cosine"] for r in rows], marker="o", label="1 - cosine")
        ax.plot(xs, [r["relative_error"] for r in rows], marker="s", label="relative error")
        ax.set(xlabel=label, yscale="log", xscale="log" if log_x else "linear")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    left.set_ylabel("EP against finite differences")
    return save_figure(fig, path, title)
