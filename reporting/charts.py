"""Small line charts drawn on the server as SVG, so pages need no chart library and print as
they look. One chart a figure: its months along the bottom, a dashed target line, a gap where
a month has no figure to show (no data, or suppressed for a small group), the month being
read highlighted. Every text is escaped; the SVG carries a <title> and <desc> (the values in
words) for screen readers, and pages put a table of the same values beside it.

Colours and fonts are presentation attributes, not CSS classes, so a chart looks the same
inline in a page and opened on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reporting.sponsor import (
    CONFIDENCE,
    FREQUENCY,
    NPS,
    RATE,
    RATE_AT_MOST,
    Trend,
    format_value,
)

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 14, 28
LINE = "#0d6efd"
HIGHLIGHT = "#052c65"
TARGET = "#6c757d"
GRID = "#dee2e6"
TEXT = "#495057"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    ticks: list[float]


def _scale(trend: Trend) -> _Scale:
    values = [float(p.value) for p in trend.points if p.value is not None]
    target = float(trend.target)
    if trend.kind in (RATE, RATE_AT_MOST):
        return _Scale(0, 100, [0, 50, 100])
    if trend.kind == NPS:
        return _Scale(-100, 100, [-100, 0, 100])
    if trend.kind == FREQUENCY:
        high = max([target, *values, 1])
        high = math.ceil(high * 1.1)
        return _Scale(0, high, [0, high / 2, high])
    if trend.kind == CONFIDENCE:
        low = math.floor(min([0.0, *values]) * 2) / 2
        high = math.ceil(max([target, *values, 0.5]) * 1.1 * 2) / 2
        ticks = sorted({low, 0.0, high})
        return _Scale(low, high, ticks)
    high = max([1.0, *values])
    return _Scale(0, high, [0, high])


def _tick_text(trend: Trend, value: float) -> str:
    if trend.kind in (RATE, RATE_AT_MOST):
        return f"{value:.0f}%"
    if trend.kind in (NPS, CONFIDENCE):
        decimal = Decimal(str(value)).quantize(Decimal(1) if trend.kind == NPS else Decimal("0.1"))
        return format_value(trend.kind, decimal)
    return f"{value:g}"


def chart_description(trend: Trend) -> str:
    """The chart in words: every month's figure, and the target."""
    if not trend.points:
        return f"No months with figures yet; {trend.target_text}."
    months = "; ".join(f"{p.month:%B %Y}: {p.text}" for p in trend.points)
    return f"{months}. {trend.target_text.capitalize()}."


PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class _Plot:
    """Where a month and a value fall on the chart."""

    scale: _Scale
    count: int  # months along the bottom

    def x(self, i: int) -> float:
        if self.count == 1:
            return LEFT + PLOT_WIDTH / 2
        return LEFT + PLOT_WIDTH * i / (self.count - 1)

    def y(self, value: float) -> float:
        span = self.scale.high - self.scale.low or 1
        clamped = min(max(value, self.scale.low), self.scale.high)
        return TOP + PLOT_HEIGHT * (1 - (clamped - self.scale.low) / span)


def trend_svg(
    trend: Trend, *, highlight: date | None = None, id_prefix: str = "chart"
) -> SafeString:
    """The SVG of ``trend``; ``highlight`` marks one month (the page's)."""
    plot = _Plot(_scale(trend), len(trend.points))
    parts = [
        *_opening(trend, f"{id_prefix}-{trend.kpi}"),
        *_highlight_band(trend, plot, highlight),
        *_grid(trend, plot),
        _target_line(trend, plot),
        *_line(trend, plot),
        *_points(trend, plot, highlight),
        *_month_labels(trend, plot, highlight),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped by its step)


def _opening(trend: Trend, ident: str) -> list[str]:
    """The <svg> tag, and the title and description a screen reader announces."""
    title = f"{trend.label}, month by month"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" class="trend-chart" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{escape(FONT)}" font-size="10">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(chart_description(trend))}</desc>',
    ]


def _highlight_band(trend: Trend, plot: _Plot, highlight: date | None) -> list[str]:
    """A soft band behind the highlighted month, drawn first so everything else is on top."""
    parts = []
    for i, point in enumerate(trend.points):
        if point.month == highlight:
            band = PLOT_WIDTH / max(plot.count - 1, 1) if plot.count > 1 else PLOT_WIDTH
            left = max(LEFT, plot.x(i) - band / 2)
            right = min(LEFT + PLOT_WIDTH, plot.x(i) + band / 2)
            parts.append(
                f'<rect x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" '
                f'height="{PLOT_HEIGHT}" fill="#e7f1ff"/>'
            )
    return parts


def _grid(trend: Trend, plot: _Plot) -> list[str]:
    """Grid lines with their values on the left, so a point can be read without the table."""
    parts = []
    for tick in plot.scale.ticks:
        ty = plot.y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{ty + 3:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_tick_text(trend, tick))}</text>"
        )
    return parts


def _target_line(trend: Trend, plot: _Plot) -> str:
    """Dashed, so it reads as a goal rather than as figures."""
    target_y = plot.y(float(trend.target))
    return (
        f'<line x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{target_y:.1f}" y2="{target_y:.1f}" '
        f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="5 3"/>'
    )


def _line(trend: Trend, plot: _Plot) -> list[str]:
    """The line, broken where a month has nothing to show rather than drawn across the gap."""
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, point in enumerate(trend.points):
        if point.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{plot.x(i):.1f},{plot.y(float(point.value)):.1f}")
    if segment:
        segments.append(segment)
    return [
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" '
        f'stroke-width="2" stroke-linejoin="round"/>'
        for points in segments
        if len(points) > 1
    ]


def _points(trend: Trend, plot: _Plot, highlight: date | None) -> list[str]:
    """A dot a month with a figure (the highlighted one larger, with its value written above);
    a small tick on the axis for a month without."""
    parts = []
    for i, point in enumerate(trend.points):
        if point.value is None:
            # A small hollow tick on the axis: a month is there, its figure is not.
            parts.append(
                f'<line x1="{plot.x(i):.1f}" x2="{plot.x(i):.1f}" y1="{TOP + PLOT_HEIGHT - 4}" '
                f'y2="{TOP + PLOT_HEIGHT}" stroke="{TARGET}" stroke-width="1"/>'
            )
            continue
        is_highlight = point.month == highlight
        cy = plot.y(float(point.value))
        parts.append(
            f'<circle cx="{plot.x(i):.1f}" cy="{cy:.1f}" '
            f'r="{4.5 if is_highlight else 3}" '
            f'fill="{HIGHLIGHT if is_highlight else LINE}" stroke="#fff" stroke-width="1"/>'
        )
        if is_highlight:
            parts.append(
                f'<text x="{plot.x(i):.1f}" y="{cy - 7:.1f}" text-anchor="middle" '
                f'fill="{HIGHLIGHT}" font-weight="700" stroke="#fff" stroke-width="3" '
                f'paint-order="stroke">{escape(point.text)}</text>'
            )
    return parts


def _month_labels(trend: Trend, plot: _Plot, highlight: date | None) -> list[str]:
    """All months when they fit, else every second or third one (and the highlight); the year
    under the first month and under each January."""
    step = 1 if plot.count <= 8 else 2 if plot.count <= 16 else 3
    parts = []
    for i, point in enumerate(trend.points):
        is_highlight = point.month == highlight
        if i % step and not is_highlight:
            continue
        weight = ' font-weight="700"' if is_highlight else ""
        parts.append(
            f'<text x="{plot.x(i):.1f}" y="{HEIGHT - 13}" text-anchor="middle" '
            f'fill="{TEXT}"{weight}>{point.month:%b}</text>'
        )
        if i == 0 or point.month.month == 1:
            parts.append(
                f'<text x="{plot.x(i):.1f}" y="{HEIGHT - 3}" text-anchor="middle" fill="{TEXT}" '
                f'font-size="8">{point.month:%Y}</text>'
            )
    return parts
