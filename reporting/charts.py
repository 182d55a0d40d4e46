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


def trend_svg(
    trend: Trend, *, highlight: date | None = None, id_prefix: str = "chart"
) -> SafeString:
    """The SVG of ``trend``; ``highlight`` marks one month (the page's)."""
    scale = _scale(trend)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(trend.points)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y(value: float) -> float:
        span = scale.high - scale.low or 1
        clamped = min(max(value, scale.low), scale.high)
        return TOP + plot_h * (1 - (clamped - scale.low) / span)

    ident = f"{id_prefix}-{trend.kpi}"
    title = f"{trend.label}, month by month"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" class="trend-chart" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{escape(FONT)}" font-size="10">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(chart_description(trend))}</desc>',
    ]
    # Highlighted month: a soft band behind it.
    for i, point in enumerate(trend.points):
        if point.month == highlight:
            band = plot_w / max(count - 1, 1) if count > 1 else plot_w
            left = max(LEFT, x(i) - band / 2)
            right = min(LEFT + plot_w, x(i) + band / 2)
            parts.append(
                f'<rect x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" height="{plot_h}" '
                f'fill="#e7f1ff"/>'
            )
    # Grid and y labels.
    for tick in scale.ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{ty + 3:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_tick_text(trend, tick))}</text>"
        )
    # Target.
    target_y = y(float(trend.target))
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{target_y:.1f}" y2="{target_y:.1f}" '
        f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="5 3"/>'
    )
    # The line, broken where a month has nothing to show.
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, point in enumerate(trend.points):
        if point.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(float(point.value)):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" '
                f'stroke-width="2" stroke-linejoin="round"/>'
            )
    for i, point in enumerate(trend.points):
        if point.value is None:
            # A small hollow tick on the axis: a month is there, its figure is not.
            parts.append(
                f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP + plot_h - 4}" '
                f'y2="{TOP + plot_h}" stroke="{TARGET}" stroke-width="1"/>'
            )
            continue
        is_highlight = point.month == highlight
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(float(point.value)):.1f}" '
            f'r="{4.5 if is_highlight else 3}" '
            f'fill="{HIGHLIGHT if is_highlight else LINE}" stroke="#fff" stroke-width="1"/>'
        )
        if is_highlight:
            parts.append(
                f'<text x="{x(i):.1f}" y="{y(float(point.value)) - 7:.1f}" text-anchor="middle" '
                f'fill="{HIGHLIGHT}" font-weight="700" stroke="#fff" stroke-width="3" '
                f'paint-order="stroke">{escape(point.text)}</text>'
            )
    # Month labels: all of them when they fit, else every other one (and the highlight);
    # the year under the first month and under each January.
    step = 1 if count <= 8 else 2 if count <= 16 else 3
    for i, point in enumerate(trend.points):
        is_highlight = point.month == highlight
        if i % step and not is_highlight:
            continue
        weight = ' font-weight="700"' if is_highlight else ""
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 13}" text-anchor="middle" fill="{TEXT}"{weight}>'
            f"{point.month:%b}</text>"
        )
        if i == 0 or point.month.month == 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 3}" text-anchor="middle" fill="{TEXT}" '
                f'font-size="8">{point.month:%Y}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
