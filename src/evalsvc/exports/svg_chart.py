"""The HTML report's pre/post bar charts as inline SVG.

Drawn with presentation attributes only -- no ``style=""`` attribute and no script --
so the served page passes a CSP of ``default-src 'self'; style-src 'self'``; every
text goes through `markupsafe.escape`, so the result can be passed to the template
as safe markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.formatting import fmt, fmt_interval, score_decimals, suppressed_text

PRE_COLOUR, POST_COLOUR, INK, MUTED, GRID = "#9db9d3", "#0a58a6", "#1a1a1a", "#4b5563", "#d1d5db"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Bar:
    label: str
    n: int
    pre: float | None = None
    post: float | None = None
    low: float | None = None
    """Whisker from pre + gain_ci_low ..."""
    high: float | None = None
    """... to pre + gain_ci_high."""
    gain: str = ""
    status: str | None = None
    """Shown instead of bars: why there are none."""
    pooled: bool = False


def summary_bar(label: str, row: SummaryRow | None, k: int, pooled: bool = False) -> Bar:
    if row is None or row.n_paired == 0:
        return Bar(label, 0, status="no paired participants", pooled=pooled)
    if row.suppressed:
        return Bar(
            label, row.n_paired, status=suppressed_text(row.suppressed_reason, k), pooled=pooled
        )
    d = score_decimals(row.measure)
    low = high = None
    if row.pre_mean is not None and row.gain_ci_low is not None and row.gain_ci_high is not None:
        low, high = row.pre_mean + row.gain_ci_low, row.pre_mean + row.gain_ci_high
    gain = fmt(row.mean_gain, d, signed=True)
    interval = fmt_interval(row.gain_ci_low, row.gain_ci_high, d)
    return Bar(
        label,
        row.n_paired,
        pre=row.pre_mean,
        post=row.post_mean,
        low=low,
        high=high,
        gain=f"{gain} {interval}".strip(),
        pooled=pooled,
    )


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
"""Characters per label line: about 260 px of Cyrillic at 12 px, inside the 270 px label column."""


def prepost_svg(svg_id: str, title: str, bars: Sequence[Bar], measure: str) -> Markup:
    """Horizontal pre/post bars with the gain's interval as a whisker on the post bar.

    One band per bar, tall enough for its label (up to three lines) and "n = …";
    the value axis is 0..100 for knowledge and 1..5 for confidence. Inline in HTML,
    so without an xmlns (the HTML parser puts <svg> in the SVG namespace).
    """
    if measure == "knowledge":
        lo, hi, ticks = 0.0, 100.0, range(0, 101, 20)
    else:
        lo, hi, ticks = 1.0, 5.0, range(1, 6)
    decimals = score_decimals(measure)
    width, label_w, right_w, top = 800, 270, 150, 46
    plot_x, plot_w = label_w, width - label_w - right_w
    line_h = 14
    labels = [_wrap(bar.label, LABEL_CHARS, 3) for bar in bars]
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
        # legend
        f'<rect x="{plot_x}" y="6" width="14" height="10" fill="{PRE_COLOUR}"/>',
        f'<text x="{plot_x + 19}" y="15">Before the course</text>',
        f'<rect x="{plot_x + 135}" y="6" width="14" height="10" fill="{POST_COLOUR}"/>',
        f'<text x="{plot_x + 154}" y="15">After the course</text>',
    ]
    wx = plot_x + 265
    parts += [
        f'<path d="M{wx} 6v10M{wx} 11h22M{wx + 22} 6v10" stroke="{INK}" stroke-width="1.5" '
        'fill="none"/>',
        f'<text x="{wx + 28}" y="15">95% CI of the gain</text>',
        f'<text x="{width - 4}" y="{top - 8}" text-anchor="end" font-weight="bold">'
        "Gain [95% CI]</text>",
    ]
    # grid and axis
    for tick in ticks:
        tx = x(float(tick))
        parts += [
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="{GRID}" '
            'stroke-width="1"/>',
            f'<text x="{tx:.1f}" y="{bottom + 15}" text-anchor="middle" fill="{MUTED}">'
            f"{tick}</text>",
        ]
    axis_label = "% of points" if measure == "knowledge" else "rating (1–5)"
    parts.append(
        f'<text x="{plot_x + plot_w / 2:.1f}" y="{bottom + 29}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{axis_label}</text>'
    )
    y0 = top
    for bar, lines, band in zip(bars, labels, bands, strict=True):
        parts += _bar_parts(bar, lines, y0, band, x, plot_x, label_w, width, decimals)
        y0 += band
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - every text above went through escape()


def _bar_parts(
    bar: Bar,
    lines: list[str],
    y0: float,
    band: float,
    x: Callable[[float], float],
    plot_x: float,
    label_w: float,
    width: float,
    decimals: int,
) -> list[str]:
    e = escape
    bar_h, line_h = 13, 14
    middle = y0 + band / 2
    parts = []
    weight = ' font-weight="bold"' if bar.pooled else ""
    if bar.pooled:
        parts.append(
            f'<line x1="4" y1="{y0}" x2="{width - 4}" y2="{y0}" stroke="{MUTED}" stroke-width="1"/>'
        )
    # the label and "n = ..." centred on the band
    first_y = middle - line_h * len(lines) / 2 + 4
    parts.append(f'<text x="{label_w - 10}" y="{first_y:.1f}" text-anchor="end"{weight}>')
    for j, line in enumerate(lines):
        parts.append(f'<tspan x="{label_w - 10}" dy="{0 if j == 0 else line_h}">{e(line)}</tspan>')
    parts.append("</text>")
    parts.append(
        f'<text x="{label_w - 10}" y="{first_y + line_h * len(lines) - 1:.1f}" '
        f'text-anchor="end" fill="{MUTED}" font-size="10">n = {bar.n}</text>'
    )
    if bar.status is not None or bar.pre is None or bar.post is None:
        parts.append(
            f'<text x="{plot_x + 8}" y="{middle + 4:.1f}" fill="{MUTED}" '
            f'font-style="italic">{e(bar.status or "not available")}</text>'
        )
        return parts
    pre_y, post_y = middle - bar_h - 1.5, middle + 1.5
    whisker_end = x(bar.high) if bar.high is not None else plot_x
    for value, colour, top_y, after in (
        (bar.pre, PRE_COLOUR, pre_y, plot_x),
        (bar.post, POST_COLOUR, post_y, whisker_end),
    ):
        parts += [
            f'<rect x="{plot_x}" y="{top_y:.1f}" width="{max(0.0, x(value) - plot_x):.1f}" '
            f'height="{bar_h}" fill="{colour}"/>',
            f'<text x="{max(x(value), after) + 4:.1f}" y="{top_y + 10.5:.1f}" font-size="10" '
            f'fill="{MUTED}">{fmt(value, decimals)}</text>',
        ]
    if bar.low is not None and bar.high is not None:
        cy = post_y + bar_h / 2
        x1, x2 = x(bar.low), x(bar.high)
        parts.append(
            f'<path d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}v10'
            f'M{x2:.1f} {cy - 5:.1f}v10" stroke="{INK}" stroke-width="1.5" fill="none"/>'
        )
    parts.append(
        f'<text x="{width - 4}" y="{middle + 4:.1f}" text-anchor="end"{weight}>{e(bar.gain)}</text>'
    )
    return parts
