"""Step curves as inline SVG (no JavaScript, no fonts to fetch): people out against time.

Made for pages that must load on a 2G link: a few hundred bytes per curve, scaled by the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape


@dataclass(frozen=True)
class Series:
    """A cumulative count against time: ``points`` are (time, count), in time order."""

    label: str
    points: Sequence[tuple[datetime, int]]
    css_class: str = ""
    until: datetime | None = None  # the line stops here (e.g. now); default: the end of the axis


def cumulative(times: Sequence[datetime]) -> list[tuple[datetime, int]]:
    """The count of ``times`` at or before each of them (the times sorted)."""
    return [(t, i + 1) for i, t in enumerate(sorted(times))]


def clearance_svg(
    series: Sequence[Series],
    *,
    start: datetime,
    end: datetime,
    total: int,
    title: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """An SVG of each series as a step line over [start, end], 0 to ``total`` people."""
    pad = 36
    span = max((end - start).total_seconds(), 1.0)
    top = max(total, 1, *(p[1] for s in series for p in s.points))

    def x(t: datetime) -> float:
        fraction = min(max((t - start).total_seconds() / span, 0.0), 1.0)
        return pad + fraction * (width - 2 * pad)

    def y(n: int) -> float:
        return height - pad - (n / top) * (height - 2 * pad)

    parts = [
        f'<svg class="curve" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}"/>',
        f'<line class="axis" x1="{pad}" y1="{y(0):.1f}" x2="{pad}" y2="{y(top):.1f}"/>',
        f'<text x="{pad - 4}" y="{y(top) + 4:.1f}" text-anchor="end">{top}</text>',
        f'<text x="{pad}" y="{height - 8}">{start:%H:%M}</text>',
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{end:%H:%M}</text>',
    ]
    for index, s in enumerate(series):
        coords = [(x(start), y(0))]
        count = 0
        for t, n in s.points:
            coords.append((x(t), y(count)))
            coords.append((x(t), y(n)))
            count = n
        coords.append((x(s.until or end), y(count)))
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        # A line, never an area: the style attribute wins over any stylesheet rule that colours
        # the series (its ``fill`` is meant for the legend's text and would fill the step line
        # down to its closing chord, drawing a wedge).
        parts.append(
            f'<polyline class="series s{index} {escape(s.css_class)}" points="{path}" '
            'fill="none" style="fill:none"/>'
        )
        legend = f"{escape(s.label)}: {count}"
        parts.append(f'<text class="legend s{index}" x="{pad + 8}" y="{pad + 14 * index}">{legend}</text>')
    parts.append("</svg>")
    return "".join(parts)
