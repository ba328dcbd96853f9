"""An inline SVG line chart of NCCL bus bandwidth against message size, for the HTML report.

Self-contained (no script, no external asset): the x axis is the message size on a log2 scale,
the y axis the bus bandwidth in GB/s, one line per node or pool, and the spec's minimum drawn
as a dashed red line. Every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

_W, _H = 760, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 170, 20, 45
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _size(num: float) -> str:
    """`8 B`, `64 KiB`, `1 GiB`."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if num < 1024 or unit == "GiB":
            return f"{num:g} {unit}"
        num /= 1024
    return f"{num:g} GiB"


def busbw_svg(
    series: Mapping[str, Sequence[tuple[int, float]]], minimum: float | None, title: str
) -> str:
    """The chart as an `<svg>` element; an empty string when no series has a point."""
    points = [p for line in series.values() for p in line if p[0] > 0]
    if not points:
        return ""
    xs = [math.log2(size) for size, _ in points]
    x_lo, x_hi = min(xs), max(xs)
    y_hi = max([bw for _, bw in points] + [minimum or 0.0]) * 1.1 or 1.0
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(size: int) -> float:
        span = (x_hi - x_lo) or 1.0
        return _LEFT + (math.log2(size) - x_lo) / span * plot_w

    def y(bw: float) -> float:
        return _TOP + plot_h - bw / y_hi * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#999"/>',
    ]
    for step in range(5):
        value = y_hi * step / 4
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{value:.0f}</text>"
        )
    sizes = sorted({size for size, _ in points})
    for size in sizes[:: max(1, len(sizes) // 6)]:
        parts.append(
            f'<text x="{x(size):.1f}" y="{_H - _BOTTOM + 16}" font-size="11" '
            f'text-anchor="middle">{escape(_size(size))}</text>'
        )
    parts.append(
        f'<text x="{_LEFT + plot_w / 2}" y="{_H - 8}" font-size="12" text-anchor="middle">'
        "message size</text>"
        f'<text x="14" y="{_TOP + plot_h / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {_TOP + plot_h / 2})">bus bandwidth GB/s</text>'
    )
    if minimum is not None:
        parts.append(
            f'<line class="minimum" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(minimum):.1f}" '
            f'y2="{y(minimum):.1f}" stroke="#b00020" stroke-dasharray="6 4"/>'
            f'<text x="{_LEFT + plot_w + 6}" y="{y(minimum) + 4:.1f}" font-size="11" '
            f'fill="#b00020">minimum {minimum:g}</text>'
        )
    for i, (name, line) in enumerate(sorted(series.items())):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(f"{x(s):.1f},{y(bw):.1f}" for s, bw in line if s > 0)
        parts.append(
            f'<polyline class="series" data-name="{escape(name)}" fill="none" '
            f'stroke="{colour}" stroke-width="2" points="{coords}"/>'
            f'<text x="{_LEFT + plot_w + 6}" y="{_TOP + 14 + 16 * i}" font-size="11" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
