"""Charts as inline SVG, drawn on the server: no script, nothing fetched from elsewhere.

Only numbers and escaped labels go into the markup; colours come from the stylesheet through
class names, so the strict Content-Security-Policy needs no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
BAR_AREA_HEIGHT = 180
LABEL_HEIGHT = 36
LEFT = 40
TOP = 12


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Bars per label, stacked by series, with a legend; values must not be negative."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_ceiling(max(totals, default=0))
    slot = (WIDTH - LEFT - 8) / max(len(labels), 1)
    bar = max(min(slot * 0.6, 48), 4)
    height = TOP + BAR_AREA_HEIGHT + LABEL_HEIGHT + 20 * ((len(series) + 3) // 4)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + BAR_AREA_HEIGHT * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(top * fraction)}</text>"
        )
    for index, label in enumerate(labels):
        x = LEFT + slot * index + (slot - bar) / 2
        y_bottom = float(TOP + BAR_AREA_HEIGHT)
        for number, one in enumerate(series):
            value = one.values[index]
            if value <= 0:
                continue
            h = BAR_AREA_HEIGHT * value / top
            y_bottom -= h
            parts.append(
                f'<rect class="series-{number % 8}" x="{x:.1f}" y="{y_bottom:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(label)} · '
                f"{escape(one.name)}: {_number(value)}</title></rect>"
            )
        parts.append(
            f'<text class="axis" x="{x + bar / 2:.1f}" y="{TOP + BAR_AREA_HEIGHT + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    legend_y = TOP + BAR_AREA_HEIGHT + LABEL_HEIGHT
    for number, one in enumerate(series):
        lx = LEFT + (number % 4) * 150
        ly = legend_y + (number // 4) * 20
        parts.append(
            f'<rect class="series-{number % 8}" x="{lx}" y="{ly}" width="12" height="12"/>'
            f'<text class="legend" x="{lx + 18}" y="{ly + 11}">{escape(one.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text is escaped above


def bars(title: str, labels: Sequence[str], values: Sequence[float], unit: str = "") -> Markup:
    """A single series of bars, e.g. the median response time per week."""
    return stacked_bars(title, labels, [Series(unit or title, values)])


def _nice_ceiling(value: float) -> float:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least the value."""
    if value <= 0:
        return 1  # an empty chart still gets a readable axis
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
