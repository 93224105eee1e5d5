"""Figures as image files (PNG unless named otherwise): the training curves, the bias of EP
against beta, the verify statements' figures."""

from __future__ import annotations

import io
from pathlib import Path

from eqprop_analog.errors import ConfigError
from eqprop_analog.files import atomic_write_bytes


def plain(text: str) -> str:
    """``text`` shown as written: matplotlib reads what stands between two ``$`` as mathematics,
    and fails where that is not valid mathtext, so every ``$`` is escaped (a dataset's name may
    hold some)."""
    return text.replace("$", r"\$")


def new_figure(width: float, height: float):
    """A matplotlib Figure (inches) with its own Agg canvas: no pyplot, so a user's interactive
    backend is left alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def figure_path(path: str | Path) -> Path:
    """The file a figure named ``path`` goes to: ``path``, ``.png`` added where it has no suffix,
    in the format its suffix names. A suffix matplotlib cannot write, a folder or a folder that
    does not exist is a one-line ConfigError."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    if path.is_dir() or not path.name:
        raise ConfigError(f"{path} is a folder; name the figure's file")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the folder {path.parent} does not exist")
    if not path.suffix:
        return path.with_name(path.name + ".png")
    formats = FigureCanvasAgg.get_supported_filetypes()
    if path.suffix[1:].lower() not in formats:
        raise ConfigError(f"{path}: a figure is written as {', '.join(sorted(formats))}; give "
                          "a file name ending in one of them (.png, .svg, .pdf, ...)")
    return path


def write_figure(fig, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` to :func:`figure_path` of ``path``, atomically; return where it went."""
    path = figure_path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:].lower(), dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_figure(fig, path: str | Path, title: str = "") -> Path:
    """Title (shown as written), tight layout, 110 dpi; return the file written."""
    if title:
        fig.suptitle(plain(title))
    fig.tight_layout()
    return write_figure(fig, path, dpi=110)


def plot_curves(history: list[dict], path: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch, train and test, side by side."""
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    fig = new_figure(9, 3.5)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for split in ("train", "test"):
        ax_loss.plot(epochs, [h[f"{split}_loss"] for h in history], marker="o", label=split)
        ax_acc.plot(epochs, [100 * h[f"{split}_accuracy"] for h in history], marker="o", label=split)
    ax_loss.set(xlabel="epoch", ylabel="cost (free state)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path, title)


def plot_bias(rows: list[dict], path: str | Path, title: str = "") -> Path:
    """Relative error of the one-sided and symmetric EP estimates against beta, log-log."""
    from matplotlib.ticker import NullFormatter

    fig = new_figure(5, 4)
    ax = fig.subplots()
    betas = [r["beta"] for r in rows]
    for kind, marker in (("one-sided", "o"), ("symmetric", "s")):
        ax.loglog(betas, [r[kind] for r in rows], marker=marker, label=kind)
    ax.set(xlabel="beta", ylabel="relative error of the EP gradient", title=plain(title))
    ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short decade overlap
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, path)
