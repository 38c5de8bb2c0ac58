"""Numbers and withheld figures as the HTML report shows them.

Display conventions: knowledge scores with 1 decimal, confidence with 2; p-values
with 3 decimals ("< 0.001" below that); effect sizes and correlations with 2; shares
as percentages with 1. Negative numbers use the minus sign (−). A figure that is
withheld shows as "suppressed (n < k)" (or "suppressed (complementary)"), a figure
that is undefined as "—".
"""

from __future__ import annotations

import math

DASH = "—"
MINUS = "\u2212"


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
        if float(text[1:]) == 0:
            text = text[1:]
    return text


def fmt(value: float | int | None, decimals: int = 2, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    text = _number(float(value), decimals)
    return "+" + text if signed and value > 0 and text.strip("0.") else text


def fmt_p(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    return DASH if value is None else f"{_number(100 * value, 1)}%"


def fmt_interval(low: float | None, high: float | None, decimals: int) -> str:
    if low is None or high is None:
        return ""
    return f"[{fmt(low, decimals)}, {fmt(high, decimals)}]"


def score_decimals(measure: str) -> int:
    return 1 if measure == "knowledge" else 2


def suppressed_text(reason: str | None, k: int) -> str:
    if reason == "complementary":
        return "suppressed (complementary)"
    return f"suppressed (n < {k})"
