"""Bar charts as plain geometry for the templates to draw as inline SVG (no script, no CDN).

Colours come from CSS classes (s0, s1, ...) in dashboard.css: the Content-Security-Policy allows no
inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    """One rectangle, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class Label:
    """A text label at a point."""

    x: float
    y: float
    text: str


@dataclass
class Chart:
    """Everything a template needs to draw one chart."""

    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[int, str]] = field(default_factory=list)
    top: str = ""


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return value


def columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    width: int = 640,
    height: int = 170,
) -> Chart:
    """Grouped vertical bars: one group per category (e.g. a day), one bar per series."""
    left, bottom, top = 36, 20, 10
    chart = Chart(width, height, legend=[(i, name) for i, (name, _) in enumerate(series)])
    peak = _nice_max(max((v for _, values in series for v in values), default=0))
    chart.top = f"{peak:g}{unit}"
    plot_w, plot_h = width - left - 4, height - bottom - top
    group = plot_w / max(len(categories), 1)
    bar_w = max((group - 4) / max(len(series), 1), 1)
    for c, category in enumerate(categories):
        for s, (name, values) in enumerate(series):
            value = values[c]
            h = plot_h * value / peak
            chart.bars.append(
                Bar(
                    round(left + c * group + 2 + s * bar_w, 1),
                    round(top + plot_h - h, 1),
                    round(bar_w - 1, 1),
                    round(h, 1),
                    s,
                    f"{category} {name}: {value:g}{unit}",
                )
            )
        if c % max(len(categories) // 7, 1) == 0:
            chart.labels.append(Label(round(left + c * group + 2, 1), height - 6, category[5:]))
    chart.labels.append(Label(0, top + 8, chart.top))
    chart.labels.append(Label(0, top + plot_h, "0"))
    return chart


def rows(items: Sequence[tuple[str, float]], *, width: int = 640, row: int = 18) -> Chart:
    """Horizontal bars, one per item (e.g. intents by count), largest first."""
    left = 170
    chart = Chart(width, max(len(items), 1) * row + 4)
    peak = max((v for _, v in items), default=0) or 1
    for i, (name, value) in enumerate(items):
        w = (width - left - 50) * value / peak
        chart.bars.append(Bar(left, i * row + 2, round(max(w, 1), 1), row - 4, 0, f"{name}: {value:g}"))
        chart.labels.append(Label(0, i * row + row - 5, name))
        chart.labels.append(Label(round(left + w + 4, 1), i * row + row - 5, f"{value:g}"))
    return chart
