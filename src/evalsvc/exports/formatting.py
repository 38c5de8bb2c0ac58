"""How numbers and withheld figures are shown: one rule per column unit, for every format.

A column's unit (`evalsvc.domain.columns`) and, for scores, the row's measure
(`design.Measure.decimals`, from the course) decide how a number is rounded for
reading; nothing here knows a column by its name. The HTML report formats with
`fmt_unit`, the workbook sets `excel_format` as the cell's number format (the cell
keeps full precision).

* ``measure`` and ``gain``: the measure's decimals (2 when no measure applies);
* ``value``: 2 decimals; ``share``: a percentage with 1 decimal;
* ``p``: 3 decimals, "< 0.001" below that; ``effect`` and ``statistic``: 2;
  ``df``: 1 (whole numbers as such); ``people`` and ``count``: whole numbers.

Negative numbers use the minus sign (−). An undefined figure is "—"; a withheld one
shows the reason in words (`withheld_words`, in the report's language), never a count
it does not have.
"""

from __future__ import annotations

import math
from typing import Final

from evalsvc.domain.design import Measure
from evalsvc.exports.report_i18n import R_, tr

DASH: Final = "—"
MINUS: Final = "\u2212"
NBSP: Final = "\u00a0"

_DECIMALS: Final = {
    "value": 2,
    "share": 1,
    "p": 3,
    "effect": 2,
    "statistic": 2,
    "df": 1,
    "people": 0,
    "count": 0,
}
_SCORE_UNITS: Final = frozenset({"measure", "gain"})
DEFAULT_SCORE_DECIMALS: Final = 2


def decimals(unit: str, measure: Measure | None = None) -> int:
    """Decimals shown for a number of this unit (for scores: of this measure)."""
    if unit in _SCORE_UNITS:
        return measure.decimals if measure is not None else DEFAULT_SCORE_DECIMALS
    return _DECIMALS.get(unit, 2)


def excel_format(unit: str, measure: Measure | None = None, *, whole: bool = False) -> str:
    """The Excel number format of a cell of this unit (`whole`: an int value)."""
    if unit == "share":
        return "0.0%"
    places = 0 if whole else decimals(unit, measure)
    return "0" if places == 0 else "0." + "0" * places


def _number(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    if text.startswith("-"):
        text = text[1:] if float(text[1:]) == 0 else MINUS + text[1:]
    return text


def fmt(value: float | int | None, places: int = 2, *, signed: bool = False) -> str:
    """`value` rounded to `places`; "—" when undefined; `signed`: "+" before a rise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    text = _number(float(value), places)
    if signed and not text.startswith(MINUS) and float(text) != 0:
        text = "+" + text
    return text


def fmt_p(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    return DASH if value is None else f"{_number(100 * value, 1)}%"


def fmt_unit(
    value: object, unit: str, measure: Measure | None = None, *, signed: bool = False
) -> str:
    """A figure as the report shows it, by its column unit (see the module docstring)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return DASH if value is None else str(value)
    if unit == "p":
        return fmt_p(float(value))
    if unit == "share":
        return fmt_share(float(value))
    if isinstance(value, int) and unit in ("people", "count", "df"):
        return str(value)
    return fmt(value, decimals(unit, measure), signed=signed)


def fmt_interval(low: float | None, high: float | None, places: int) -> str:
    """ "[low, high]", or "" when either end is undefined."""
    if low is None or high is None:
        return ""
    return f"[{fmt(low, places)}, {fmt(high, places)}]"


def fmt_share_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"[{fmt_share(low)}, {fmt_share(high)}]"


# -- withheld figures -------------------------------------------------------------------

_WITHHELD_WORDS: Final = {
    "small_group": R_("withheld: fewer than %(k)s people"),
    "complementary": R_("withheld to protect another group"),
}
_WITHHELD_WHY: Final = {
    "small_group": R_("Computed over fewer than %(k)s people, so not shown."),
    "complementary": R_(
        "Not shown, although the group is not small: with it, a smaller group's withheld "
        "figures could be worked out from the figures shown (complementary suppression)."
    ),
}


def withheld_words(reason: str, k: int) -> str:
    """The short words for a withheld figure: the reason, never a made-up count."""
    return tr(_WITHHELD_WORDS.get(reason, R_("withheld")), k=k)


def withheld_why(reason: str, k: int) -> str:
    """A sentence explaining the reason (tooltips, footnotes)."""
    unknown = R_("Not shown to protect participants.")  # not nested: Babel would miss it
    return tr(_WITHHELD_WHY.get(reason, unknown), k=k)
