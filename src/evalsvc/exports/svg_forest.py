"""Forest plots as inline SVG: each course's mean gain with its interval, and the pooled one.

One row per course: a square at its mean gain (its area follows the course's share
of the random-effects weight) and a line over its 95% interval (mean ± 1.96·se, the
interval the meta-analysis weighs it by); the written value and weight on the right,
so that nothing is read from the drawing alone. Below: the pooled random-effects
estimate as a diamond over its 95% interval, and the 95% prediction interval as a
line under it. A dashed vertical line marks no change.

Presentation attributes only, texts escaped: safe under the report's CSP, as
`svg_chart`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from evalsvc.exports.formatting import fmt, fmt_interval
from evalsvc.exports.svg_chart import FONT, GRID, INK, MUTED, TO_COLOUR, ticks

Z_975 = 1.959963984540054


@dataclass(frozen=True)
class ForestRow:
    label: str
    n: int
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    weight: float | None = None
    """Share of the random-effects weight (None: not pooled)."""
    status: str | None = None
    """Why the course is not drawn (withheld, no data...)."""


@dataclass(frozen=True)
class Pooled:
    label: str
    estimate: float
    low: float
    high: float
    pi_low: float | None
    pi_high: float | None
    pi_label: str


def forest_svg(
    svg_id: str,
    title: str,
    rows: Sequence[ForestRow],
    pooled: Pooled | None,
    places: int,
    axis_label: str,
    value_heading: str,
    weight_heading: str,
    no_change: str,
) -> Markup:
    width, label_w, right_w, top, row_h = 800, 250, 190, 34, 30
    plot_x, plot_w = label_w, width - label_w - right_w
    extra = 2 if pooled is not None else 0
    bottom = top + row_h * (len(rows) + extra)
    height = bottom + 36
    values = [0.0]
    for row in rows:
        values += [v for v in (row.low, row.high, row.estimate) if v is not None]
    if pooled is not None:
        values += [pooled.low, pooled.high]
        values += [v for v in (pooled.pi_low, pooled.pi_high) if v is not None]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad

    def x(value: float) -> float:
        return plot_x + plot_w * (value - lo) / (hi - lo)

    e = escape
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{svg_id}-title" font-family="{FONT}" font-size="12" fill="{INK}">',
        f'<title id="{svg_id}-title">{e(title)}</title>',
        f'<text x="{width - right_w + 8}" y="{top - 12}" font-weight="bold">'
        f"{e(value_heading)}</text>",
        f'<text x="{width - 4}" y="{top - 12}" text-anchor="end" font-weight="bold">'
        f"{e(weight_heading)}</text>",
    ]
    for tick in ticks(lo, hi):
        tx = x(tick)
        parts += [
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="{GRID}"/>',
            f'<text x="{tx:.1f}" y="{bottom + 15}" text-anchor="middle" fill="{MUTED}">'
            f"{e(fmt(tick, 0 if tick == int(tick) else 1))}</text>",
        ]
    zero = x(0.0)
    parts += [
        f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{bottom}" stroke="{INK}" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{zero + 3:.1f}" y="{top - 12}" fill="{MUTED}" font-size="10">'
        f"{e(no_change)}</text>",
        f'<text x="{plot_x + plot_w / 2:.1f}" y="{bottom + 30}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{e(axis_label)}</text>',
    ]
    y = top
    for row in rows:
        middle = y + row_h / 2
        parts.append(
            f'<text x="{label_w - 10}" y="{middle:.1f}" text-anchor="end">{e(_cut(row.label))}'
            f'<tspan x="{label_w - 10}" dy="12" fill="{MUTED}" font-size="10">n = {row.n}'
            "</tspan></text>"
        )
        if row.status is not None or row.estimate is None:
            parts.append(
                f'<text x="{plot_x + 8}" y="{middle + 4:.1f}" fill="{MUTED}" font-style="italic">'
                f"{e(row.status or '')}</text>"
            )
        else:
            if row.low is not None and row.high is not None:
                parts.append(
                    f'<line x1="{x(row.low):.1f}" y1="{middle:.1f}" x2="{x(row.high):.1f}" '
                    f'y2="{middle:.1f}" stroke="{INK}" stroke-width="1.5"/>'
                )
            side = 5 + 9 * math.sqrt(row.weight or 0.0)
            parts.append(
                f'<rect x="{x(row.estimate) - side / 2:.1f}" y="{middle - side / 2:.1f}" '
                f'width="{side:.1f}" height="{side:.1f}" fill="{TO_COLOUR}"/>'
            )
            interval = fmt_interval(row.low, row.high, places)
            text = f"{fmt(row.estimate, places, signed=True)} {interval}"
            parts.append(
                f'<text x="{width - right_w + 8}" y="{middle + 4:.1f}">{e(text.strip())}</text>'
            )
            if row.weight is not None:
                parts.append(
                    f'<text x="{width - 4}" y="{middle + 4:.1f}" text-anchor="end">'
                    f"{e(fmt(100 * row.weight, 1))}%</text>"
                )
        y += row_h
    if pooled is not None:
        parts.append(f'<line x1="4" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="{MUTED}"/>')
        middle = y + row_h / 2
        left, right, centre = x(pooled.low), x(pooled.high), x(pooled.estimate)
        parts += [
            f'<text x="{label_w - 10}" y="{middle + 4:.1f}" text-anchor="end" '
            f'font-weight="bold">{e(_cut(pooled.label))}</text>',
            f'<path d="M{left:.1f} {middle:.1f}L{centre:.1f} {middle - 7:.1f}L{right:.1f} '
            f'{middle:.1f}L{centre:.1f} {middle + 7:.1f}Z" fill="{INK}"/>',
            f'<text x="{width - right_w + 8}" y="{middle + 4:.1f}" font-weight="bold">'
            f"{e(fmt(pooled.estimate, places, signed=True))} "
            f"{e(fmt_interval(pooled.low, pooled.high, places))}</text>",
        ]
        if pooled.pi_low is not None and pooled.pi_high is not None:
            below = middle + row_h
            parts += [
                f'<text x="{label_w - 10}" y="{below + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                f"{e(_cut(pooled.pi_label))}</text>",
                f'<path d="M{x(pooled.pi_low):.1f} {below:.1f}H{x(pooled.pi_high):.1f}'
                f"M{x(pooled.pi_low):.1f} {below - 5:.1f}v10M{x(pooled.pi_high):.1f} "
                f'{below - 5:.1f}v10" stroke="{INK}" stroke-width="1.5" fill="none"/>',
                f'<text x="{width - right_w + 8}" y="{below + 4:.1f}" fill="{MUTED}">'
                f"{e(fmt_interval(pooled.pi_low, pooled.pi_high, places))}</text>",
            ]
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - every text above went through escape()


def _cut(text: str, most: int = 36) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def normal_interval(estimate: float, sd: float, n: int) -> tuple[float, float]:
    """mean ± 1.96·sd/√n: the interval a course is weighed by in the meta-analysis."""
    se = sd / math.sqrt(n)
    return estimate - Z_975 * se, estimate + Z_975 * se
