"""Small SVG charts for the HTML report, written as text: vector, self-contained and drawn in
well under a millisecond each (matplotlib took 1.6 s for the report's figures, most of a small
training run, and every run writes its report).

Each chart is one ``<svg class="figure">`` whose ``aria-label`` names it; axes are linear or
logarithmic with 1-2-5 or decade ticks, or categorical (one row or column per label).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BLUE, RED, ORANGE, GREY = "#3a6ea5", "#b5472f", "#e08a2b", "#999"
CHAR_WIDTH = 6.6  # px per character of 11 px sans-serif text, to size margins


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>'
            f"{html.escape(text)}</text>")


def _label(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class Axis:
    """Data values [low, high] onto pixels [start, end] (end < start for a vertical axis),
    linearly or logarithmically."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False
    integer: bool = False  # ticks at whole numbers only (epochs)

    @classmethod
    def fitted(cls, values: Sequence[float], start: float, end: float, log: bool = False,
               zero: bool = False, integer: bool = False) -> Axis:
        """An axis that holds ``values`` (and 0, with ``zero``), out to whole ticks."""
        finite = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
        if log:
            if not finite:
                return cls(1.0, 10.0, start, end, True)
            low = 10.0 ** math.floor(math.log10(min(finite)))
            high = 10.0 ** math.ceil(math.log10(max(finite)))
            return cls(low, high if high > low else low * 10.0, start, end, True)
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if zero:
            low, high = min(low, 0.0), max(high, 0.0)
        if high == low:
            pad = abs(low) * 0.1 or 1.0
            low, high = low - pad, high + pad
        step = _step(low, high, integer)
        return cls(math.floor(low / step) * step, math.ceil(high / step) * step, start, end,
                   integer=integer)

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.low)
            t = math.log10(value / self.low) / math.log10(self.high / self.low)
        else:
            t = (value - self.low) / (self.high - self.low)
        return self.start + t * (self.end - self.start)

    def ticks(self) -> list[float]:
        if self.log:
            first, last = round(math.log10(self.low)), round(math.log10(self.high))
            every = max(1, math.ceil((last - first) / 6))
            return [10.0 ** k for k in range(first, last + 1, every)]
        step = _step(self.low, self.high, self.integer)
        first = math.ceil(self.low / step - 1e-9)
        return [k * step for k in range(first, math.floor(self.high / step + 1e-9) + 1)]


def _step(low: float, high: float, integer: bool = False, target: int = 5) -> float:
    """A 1-2-5 step that cuts [low, high] into about ``target`` parts (at least 1 for
    ``integer``)."""
    raw = max((high - low) / target, 1.0 if integer else 0.0)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class Chart:
    """One SVG chart: a plot area with margins, its axes, and the shapes drawn in it."""

    def __init__(self, name: str, width: int = 640, height: int = 300, left: float = 64,
                 bottom: float = 44, title: str = "") -> None:
        self.name, self.width, self.height, self.title = name, width, height, title
        self.left, self.top = left, 28.0
        self.right, self.bottom = float(width - 24), float(height - bottom)
        self.parts: list[str] = []

    def x_axis(self, axis: Axis, label: str) -> None:
        for tick in axis.ticks():
            x = axis(tick)
            self.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" '
                              f'y2="{self.bottom}" stroke="#ddd"/>')
            self.parts.append(_text(x, self.bottom + 15, _label(tick)))
        self.parts.append(_text((self.left + self.right) / 2, self.height - 8, label))

    def y_axis(self, axis: Axis, label: str) -> None:
        for tick in axis.ticks():
            y = axis(tick)
            self.parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" '
                              f'y2="{y:.1f}" stroke="#ddd"/>')
            self.parts.append(_text(self.left - 5, y + 4, _label(tick), "end"))
        middle = (self.top + self.bottom) / 2
        self.parts.append(_text(14, middle, label, extra=f' transform="rotate(-90 14 {middle})"'))

    def categories(self, labels: Sequence[str]) -> list[float]:
        """One row per label down the plot area, named on the left; the rows' centres."""
        step = (self.bottom - self.top) / max(len(labels), 1)
        centres = [self.top + (k + 0.5) * step for k in range(len(labels))]
        for label, y in zip(labels, centres):
            self.parts.append(_text(self.left - 6, y + 4, label, "end"))
        return centres

    def svg(self) -> str:
        frame = (f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" '
                 f'height="{self.bottom - self.top}" fill="none" stroke="#444"/>')
        title = _text(self.width / 2, 17, self.title, extra=' font-size="13"') if self.title else ""
        return (f'<svg class="figure" role="img" aria-label="{html.escape(self.name)}" '
                f'xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
                f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
                f'font-family="sans-serif" font-size="11">{title}{"".join(self.parts)}{frame}'
                "</svg>")


def line_chart(name: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
               xlabel: str, ylabel: str, log_y: bool = False, title: str = "") -> str:
    """Each series as a line with a marker at every point, and a legend (x: whole numbers)."""
    chart = Chart(name, width=420, title=title)
    xs = [x for s in series.values() for x in s[0]]
    ys = [y for s in series.values() for y in s[1]]
    x_axis = Axis.fitted(xs, chart.left, chart.right, integer=True)
    y_axis = Axis.fitted(ys, chart.bottom, chart.top, log=log_y)
    chart.x_axis(x_axis, xlabel)
    chart.y_axis(y_axis, ylabel)
    for k, (label, (sx, sy)) in enumerate(series.items()):
        colour = (BLUE, ORANGE, RED, GREY)[k % 4]
        shown = [(x, y) for x, y in zip(sx, sy) if math.isfinite(x) and math.isfinite(y)
                 and (y > 0 or not log_y)]  # a diverged epoch's cost has no point
        sx, sy = [x for x, _ in shown], [y for _, y in shown]
        points = " ".join(f"{x_axis(x):.1f},{y_axis(y):.1f}" for x, y in zip(sx, sy))
        chart.parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                           'stroke-width="2"/>')
        chart.parts += [f'<circle cx="{x_axis(x):.1f}" cy="{y_axis(y):.1f}" r="3" '
                        f'fill="{colour}"/>' for x, y in zip(sx, sy)]
        y = chart.top + 14 + 15 * k
        chart.parts.append(f'<rect x="{chart.right - 70}" y="{y - 8}" width="10" height="10" '
                           f'fill="{colour}"/>')
        chart.parts.append(_text(chart.right - 55, y + 1, label, "start"))
    return chart.svg()


def histogram(name: str, counts: Sequence[int], edges: Sequence[float], xlabel: str,
              ylabel: str, log_x: bool = False, title: str = "") -> str:
    """Counts per bin between consecutive ``edges``."""
    chart = Chart(name, width=420, title=title)
    x_axis = Axis.fitted([edges[0], edges[-1]], chart.left, chart.right, log=log_x)
    y_axis = Axis.fitted([0, max(counts, default=1)], chart.bottom, chart.top)
    chart.x_axis(x_axis, xlabel)
    chart.y_axis(y_axis, ylabel)
    for count, a, b in zip(counts, edges, edges[1:]):
        if count:
            x0, x1, y = x_axis(a), x_axis(b), y_axis(count)
            chart.parts.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                               f'height="{chart.bottom - y:.1f}" fill="{BLUE}"/>')
    return chart.svg()


def horizontal_bars(name: str, labels: Sequence[str], starts: Sequence[float],
                    ends: Sequence[float], xlabel: str, colours: Sequence[str] | None = None,
                    log_x: bool = False, title: str = "") -> str:
    """One bar per label from its start to its end value (on a log axis a start at or below
    the axis begins at its left edge)."""
    left = 16 + CHAR_WIDTH * max((len(label) for label in labels), default=4)
    chart = Chart(name, width=700, height=60 + 26 * len(labels), left=left, title=title)
    x_axis = Axis.fitted([*starts, *ends], chart.left, chart.right, log=log_x, zero=not log_x)
    chart.x_axis(x_axis, xlabel)
    centres = chart.categories(labels)
    for k, (y, a, b) in enumerate(zip(centres, starts, ends)):
        if not (math.isfinite(a) and math.isfinite(b)) or (log_x and b <= 0):
            continue  # nothing to draw
        x0, x1 = sorted((x_axis(a), x_axis(b)))
        colour = colours[k] if colours else BLUE
        chart.parts.append(f'<rect x="{x0:.1f}" y="{y - 8:.1f}" width="{max(x1 - x0, 1.0):.1f}" '
                           f'height="16" fill="{colour}"/>')
    if not log_x and x_axis.low < 0 < x_axis.high:
        x = x_axis(0.0)
        chart.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{chart.top}" '
                           f'y2="{chart.bottom}" stroke="#000"/>')
    return chart.svg()


def heatmap(name: str, counts: Sequence[Sequence[int]], xlabel: str, ylabel: str,
            title: str = "") -> str:
    """A square grid of counts, shaded from white to blue, each cell's count written in it
    (up to 20 x 20)."""
    n = len(counts)
    cell = max(12.0, min(40.0, 480.0 / max(n, 1)))
    chart = Chart(name, width=int(80 + cell * n + 20), height=int(28 + cell * n + 48),
                  left=70, title=title)
    top, peak = chart.top, max((max(row) for row in counts), default=0) or 1
    for i, row in enumerate(counts):
        chart.parts.append(_text(chart.left - 6, top + (i + 0.5) * cell + 4, str(i), "end"))
        for j, count in enumerate(row):
            shade = count / peak
            colour = "#" + "".join(f"{round(255 + shade * (c - 255)):02x}"
                                   for c in (0x3a, 0x6e, 0xa5))  # white to BLUE
            x, y = chart.left + j * cell, top + i * cell
            chart.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" '
                               f'height="{cell:.1f}" fill="{colour}" stroke="#fff"/>')
            if n <= 20:
                ink = ' fill="#fff"' if shade > 0.5 else ""
                chart.parts.append(_text(x + cell / 2, y + cell / 2 + 4, str(count), extra=ink))
    for j in range(n):
        chart.parts.append(_text(chart.left + (j + 0.5) * cell, top + n * cell + 15, str(j)))
    chart.right, chart.bottom = chart.left + n * cell, top + n * cell
    chart.parts.append(_text((chart.left + chart.right) / 2, chart.height - 8, xlabel))
    middle = (chart.top + chart.bottom) / 2
    chart.parts.append(_text(14, middle, ylabel, extra=f' transform="rotate(-90 14 {middle})"'))
    return chart.svg()
