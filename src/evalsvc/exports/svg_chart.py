"""The HTML report's charts as inline SVG: from and to means with the gain's interval.

One band per skill or group: a bar for the mean in the comparison's from phase, one
for its to phase, and a whisker on the to bar spanning ``from_mean + gain_ci_low`` to
``from_mean + gain_ci_high`` (the 95% interval of the mean gain, placed on the from
mean): where it stays clear of the end of the from bar, the interval excludes no
change. The value axis runs over the measure's range (`design.Measure`: 0-100 for
percentages, the course's own self-assessment scale for confidence).

Drawn with presentation attributes only -- no ``style=""`` attribute and no script --
so the served page passes a CSP of ``default-src 'self'; style-src 'self'``; every
text goes through `markupsafe.escape`, so the result can be passed to the template
as safe markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from evalsvc.domain.design import Measure
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.formatting import fmt, fmt_interval, withheld_words
from evalsvc.exports.report_i18n import tr

FROM_COLOUR, TO_COLOUR, INK, MUTED, GRID = "#9db9d3", "#0a58a6", "#1a1a1a", "#4b5563", "#d1d5db"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Bar:
    label: str
    n: int
    from_mean: float | None = None
    to_mean: float | None = None
    low: float | None = None
    """Whisker from from_mean + gain_ci_low ..."""
    high: float | None = None
    """... to from_mean + gain_ci_high."""
    gain: str = ""
    status: str | None = None
    """Shown instead of bars: why there are none."""
    pooled: bool = False


def bar(label: str, row: SummaryRow | None, measure: Measure, k: int, pooled: bool = False) -> Bar:
    """The bar of one summary row (None: the report has no such row)."""
    if row is None or row.n_paired == 0:
        return Bar(label, 0, status=tr("nobody answered both"), pooled=pooled)
    reason = row.withheld.get("from_mean") or row.withheld.get("mean_gain")
    if reason is not None:
        return Bar(label, row.n_paired, status=withheld_words(reason, k), pooled=pooled)
    places = measure.decimals
    low = high = None
    if row.from_mean is not None and row.gain_ci_low is not None and row.gain_ci_high is not None:
        low, high = row.from_mean + row.gain_ci_low, row.from_mean + row.gain_ci_high
    gain = fmt(row.mean_gain, places, signed=True)
    interval = fmt_interval(row.gain_ci_low, row.gain_ci_high, places)
    return Bar(
        label,
        row.n_paired,
        from_mean=row.from_mean,
        to_mean=row.to_mean,
        low=low,
        high=high,
        gain=f"{gain} {interval}".strip(),
        pooled=pooled,
    )


def ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of 10."""
    span = high - low
    if span <= 0:
        return [low]
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if span / (m * magnitude) <= most)
    first = math.ceil(low / step - 1e-9) * step
    count = int(math.floor((high - first) / step + 1e-9)) + 1
    return [round(first + i * step, 10) for i in range(count)]


def _tick_text(value: float) -> str:
    return str(int(value)) if value == int(value) else fmt(value, 1)


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """`text` in at most `lines` lines of about `width` characters (the last cut with …)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    out.append(current)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [line if len(line) <= width else line[: width - 1].rstrip() + "…" for line in out]


LABEL_CHARS = 30
"""Characters per label line: about 260 px of Cyrillic at 12 px, inside the label column."""
LEGEND_CHARS = 24
"""Characters of a phase name in the legend (two names and the whisker fit in 530 px)."""
CHAR_WIDTH = 7
"""About the width of a character at 12 px, for laying out the legend."""


def from_to_svg(
    svg_id: str,
    title: str,
    bars: Sequence[Bar],
    measure: Measure,
    from_label: str,
    to_label: str,
    axis_label: str,
) -> Markup:
    """Horizontal from/to bars with the gain's interval as a whisker on the to bar.

    One band per bar, tall enough for its label (up to three lines) and "n = …".
    Inline in HTML, so without an xmlns (the HTML parser puts <svg> in the SVG
    namespace).
    """
    lo, hi = measure.minimum, measure.maximum
    width, label_w, right_w, top = 800, 270, 150, 46
    plot_x, plot_w = label_w, width - label_w - right_w
    line_h = 14
    labels = [_wrap(b.label, LABEL_CHARS, 3) for b in bars]
    bands = [max(44, line_h * (len(lines) + 1) + 6) for lines in labels]
    bottom = top + sum(bands)
    height = bottom + 34

    def x(value: float) -> float:
        return plot_x + plot_w * (min(max(value, lo), hi) - lo) / (hi - lo)

    e = escape
    parts = [
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{svg_id}-title" '
        f'font-family="{FONT}" font-size="12" fill="{INK}">',
        f'<title id="{svg_id}-title">{e(title)}</title>',
    ]
    legend = [
        (FROM_COLOUR, _wrap(from_label, LEGEND_CHARS, 1)[0]),
        (TO_COLOUR, _wrap(to_label, LEGEND_CHARS, 1)[0]),
    ]
    needed = sum(19 + CHAR_WIDTH * len(shown) + 18 for _, shown in legend) + 28 + 125
    # aligned with the plot when it fits, else moved left far enough to fit
    lx = float(max(4, min(plot_x, width - needed)))
    for colour, shown in legend:
        parts += [
            f'<rect x="{lx:.0f}" y="6" width="14" height="10" fill="{colour}"/>',
            f'<text x="{lx + 19:.0f}" y="15">{e(shown)}</text>',
        ]
        lx += 19 + CHAR_WIDTH * len(shown) + 18
    # translated outside the f-strings: Babel does not extract messages inside them
    interval_words, axis_words = tr("95% CI of the gain"), tr("Gain [95% CI]")
    parts += [
        f'<path d="M{lx:.0f} 6v10M{lx:.0f} 11h22M{lx + 22:.0f} 6v10" stroke="{INK}" '
        'stroke-width="1.5" fill="none"/>',
        f'<text x="{lx + 28:.0f}" y="15">{e(interval_words)}</text>',
        f'<text x="{width - 4}" y="{top - 8}" text-anchor="end" font-weight="bold">'
        f"{e(axis_words)}</text>",
    ]
    for tick in ticks(lo, hi):
        tx = x(tick)
        parts += [
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="{GRID}" '
            'stroke-width="1"/>',
            f'<text x="{tx:.1f}" y="{bottom + 15}" text-anchor="middle" fill="{MUTED}">'
            f"{_tick_text(tick)}</text>",
        ]
    parts.append(
        f'<text x="{plot_x + plot_w / 2:.1f}" y="{bottom + 29}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{e(axis_label)}</text>'
    )
    y0 = top
    for one, lines, band in zip(bars, labels, bands, strict=True):
        parts += _bar_parts(one, lines, y0, band, x, plot_x, label_w, width, measure.decimals)
        y0 += band
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - every text above went through escape()


def _bar_parts(
    one: Bar,
    lines: list[str],
    y0: float,
    band: float,
    x: Callable[[float], float],
    plot_x: float,
    label_w: float,
    width: float,
    places: int,
) -> list[str]:
    e = escape
    bar_h, line_h = 13, 14
    middle = y0 + band / 2
    parts = []
    weight = ' font-weight="bold"' if one.pooled else ""
    if one.pooled:
        parts.append(
            f'<line x1="4" y1="{y0}" x2="{width - 4}" y2="{y0}" stroke="{MUTED}" stroke-width="1"/>'
        )
    first_y = middle - line_h * len(lines) / 2 + 4
    parts.append(f'<text x="{label_w - 10}" y="{first_y:.1f}" text-anchor="end"{weight}>')
    for j, line in enumerate(lines):
        parts.append(f'<tspan x="{label_w - 10}" dy="{0 if j == 0 else line_h}">{e(line)}</tspan>')
    parts.append("</text>")
    parts.append(
        f'<text x="{label_w - 10}" y="{first_y + line_h * len(lines) - 1:.1f}" '
        f'text-anchor="end" fill="{MUTED}" font-size="10">n = {one.n}</text>'
    )
    if one.status is not None or one.from_mean is None or one.to_mean is None:
        status = one.status or tr("not available")
        parts.append(
            f'<text x="{plot_x + 8}" y="{middle + 4:.1f}" fill="{MUTED}" '
            f'font-style="italic">{e(status)}</text>'
        )
        return parts
    from_y, to_y = middle - bar_h - 1.5, middle + 1.5
    whisker_end = x(one.high) if one.high is not None else plot_x
    for value, colour, top_y, after in (
        (one.from_mean, FROM_COLOUR, from_y, plot_x),
        (one.to_mean, TO_COLOUR, to_y, whisker_end),
    ):
        parts += [
            f'<rect x="{plot_x}" y="{top_y:.1f}" width="{max(0.0, x(value) - plot_x):.1f}" '
            f'height="{bar_h}" fill="{colour}"/>',
            f'<text x="{max(x(value), after) + 4:.1f}" y="{top_y + 10.5:.1f}" font-size="10" '
            f'fill="{MUTED}">{fmt(value, places)}</text>',
        ]
    if one.low is not None and one.high is not None:
        cy = to_y + bar_h / 2
        x1, x2 = x(one.low), x(one.high)
        parts.append(
            f'<path d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}v10'
            f'M{x2:.1f} {cy - 5:.1f}v10" stroke="{INK}" stroke-width="1.5" fill="none"/>'
        )
    parts.append(
        f'<text x="{width - 4}" y="{middle + 4:.1f}" text-anchor="end"{weight}>{e(one.gain)}</text>'
    )
    return parts
