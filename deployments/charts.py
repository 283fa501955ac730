"""Charts drawn on the server as SVG: bars and lines with axes and a tooltip per bucket.

No chart library and no script: a chart is geometry computed here and drawn by
``templates/deployments/_chart.html``, so it obeys the Content-Security-Policy, prints, and needs
nothing from a CDN. Tooltips are SVG ``<title>`` elements (the browser shows them on hover; screen
readers read them). Coordinates are in a fixed view box that the page scales to its width, and
the text is sized to stay readable from a phone's 420 px to a desktop's two columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 420, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24  # the plot area's margins: axis labels live there
MAX_X_LABELS = 7


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # a CSS class suffix: chart-bar-<kind>


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    kind: str


@dataclass
class Column:
    """One bucket: a full-height hover area carrying the tooltip, and what is drawn in it."""

    x: float
    width: float
    title: str
    bars: list[Bar] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    points: str  # "x,y x,y …" for <polyline>
    kind: str


@dataclass(frozen=True)
class Legend:
    label: str
    kind: str


@dataclass
class Chart:
    title: str
    columns: list[Column]
    y_ticks: list[Tick]
    x_labels: list[XLabel]
    lines: list[Line] = field(default_factory=list)
    legend: list[Legend] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top

    @property
    def label_y(self) -> float:
        return self.bottom + 16


@dataclass(frozen=True)
class Series:
    label: str
    kind: str
    values: Sequence[float | None]


def nice_scale(largest: float, *, whole: bool = False, ticks: int = 4) -> tuple[float, float]:
    """The axis' top and its step: a round step (1, 2, 2.5 or 5 × 10ⁿ) with about ``ticks``
    intervals reaching at least ``largest``. Whole numbers (counts) get a whole step."""
    if largest <= 0:
        return (ticks if whole else 1.0), (1.0 if whole else 0.25)
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1.0, math.ceil(step))
    return step * math.ceil(largest / step - 1e-9), step


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _plot(
    title: str,
    labels: Sequence[str],
    tooltips: Sequence[str],
    top_value: float,
    *,
    whole: bool,
    tick_label: Callable[[float], str],
):
    """The frame shared by both kinds: the scale, ticks, x labels and empty columns."""
    chart = Chart(title=title, columns=[], y_ticks=[], x_labels=[])
    top, step = nice_scale(top_value, whole=whole)
    height = chart.bottom - chart.top
    chart.y_ticks = [
        Tick(round(chart.bottom - height * i * step / top, 1), tick_label(i * step))
        for i in range(int(round(top / step)) + 1)
    ]
    count = max(len(labels), 1)
    width = (chart.right - chart.left) / count
    every = math.ceil(count / MAX_X_LABELS)
    for i, (label, tooltip) in enumerate(zip(labels, tooltips, strict=True)):
        x = chart.left + i * width
        chart.columns.append(Column(round(x, 1), round(width, 1), tooltip))
        if i % every == 0:
            chart.x_labels.append(XLabel(round(x + width / 2, 1), label))

    def y_of(value: float) -> float:
        return round(chart.bottom - height * value / top, 1)

    return chart, y_of, width


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    tooltips: Sequence[str],
    *,
    whole: bool = False,
    tick_label: Callable[[float], str] = _number,
) -> Chart:
    """Bars per bucket; several series are stacked, the first at the bottom."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    chart, y_of, width = _plot(
        title, labels, tooltips, max(totals, default=0), whole=whole, tick_label=tick_label
    )
    bar_width = round(min(width * 0.62, 36), 1)
    for i, column in enumerate(chart.columns):
        base = 0.0
        x = round(column.x + (column.width - bar_width) / 2, 1)
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y0, y1 = y_of(base), y_of(base + value)
            column.bars.append(Bar(x, y1, bar_width, round(max(y0 - y1, 1.0), 1), s.kind))
            base += value
    if len(series) > 1:
        chart.legend = [Legend(s.label, s.kind) for s in series]
    return chart


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    tooltips: Sequence[str],
    *,
    tick_label: Callable[[float], str] = _number,
) -> Chart:
    """A line per series through the buckets that have a value (a gap where one has none)."""
    values = [v for s in series for v in s.values if v is not None]
    chart, y_of, _ = _plot(
        title, labels, tooltips, max(values, default=0), whole=False, tick_label=tick_label
    )
    for s in series:
        run: list[str] = []
        for column, value in zip(chart.columns, s.values, strict=True):
            if value is None:
                if len(run) > 1:
                    chart.lines.append(Line(" ".join(run), s.kind))
                run = []
                continue
            x, y = round(column.x + column.width / 2, 1), y_of(value)
            run.append(f"{x},{y}")
            column.dots.append(Dot(x, y, s.kind))
        if len(run) > 1:
            chart.lines.append(Line(" ".join(run), s.kind))
    chart.legend = [Legend(s.label, s.kind) for s in series]
    return chart


# Durations on an axis: one unit for the whole axis, chosen from its largest value.

UNITS = ((86400.0, "d"), (3600.0, "h"), (60.0, "min"), (1.0, "s"))


def duration_unit(largest_seconds: float) -> tuple[float, str]:
    for size, name in UNITS:
        if largest_seconds >= 3 * size:
            return size, name
    return 1.0, "s"


def duration_text(seconds: float | None) -> str:
    """A duration in words a person reads at a glance: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "—"
    size, name = duration_unit(seconds)
    value = seconds / size
    return f"{value:.1f} {name}" if value < 10 and size > 1 else f"{value:.0f} {name}"
