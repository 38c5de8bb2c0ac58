"""Groups x skills at a glance: the mean gain with its interval in every cell.

"What did agency X learn in skill Y" without reading every table row: one grid per
measure (and comparison) and breakdown, a row per group (the pooled row first), a
column per skill and the total. Every cell *writes* its mean gain and 95% interval
and carries a symbol -- ▲ the interval lies above no change, ▼ below it, ○ it
includes no change, – there is no interval -- so colour is never the only signal;
the colour (seven shades, by the gain relative to the measure's range, turned round
for a measure where lower is better) only helps the eye. A withheld cell says so in
words, on a hatched ground, with the reason as its tooltip.

Built from the report's own rows (`SummaryRow` and `ProgrammeRow` alike): nothing is
computed anew and nothing is shown that the tables withhold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalsvc.domain.design import ALL, Measure
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.formatting import NBSP, fmt, fmt_interval
from evalsvc.exports.report_i18n import Speaker

UP, DOWN, ACROSS, NO_INTERVAL = "▲", "▼", "○", "–"
SHADES = 3
"""Shades each side of no change (classes heat-m3 .. heat-0 .. heat-p3)."""


@dataclass(frozen=True)
class HeatCell:
    text: str
    symbol: str
    kind: str
    """CSS classes: "heat heat-p2", "heat withheld", "heat empty"."""
    title: str


@dataclass(frozen=True)
class HeatRow:
    label: str
    cells: list[HeatCell]
    pooled: bool = False


@dataclass(frozen=True)
class HeatMap:
    id: str
    title: str
    caption: str
    columns: list[str]
    rows: list[HeatRow]
    legend: list[tuple[str, str]]
    """(symbol, meaning) pairs."""


def heat_map(
    map_id: str,
    rows: Sequence[SummaryRow],
    measure: Measure,
    comparison: str,
    breakdown: str,
    groups: Sequence[tuple[str, str]],
    skills: Sequence[tuple[str, str]],
    k: int,
    tr: Speaker,
    *,
    title: str,
    everyone: str,
    row_group: str = ALL,
    withheld_words: dict[str, str],
) -> HeatMap | None:
    """The grid of one measure, comparison and breakdown; None when no group has a row.

    `groups` and `skills` are (id, name) pairs in display order; `withheld_words`
    gives the short words per withheld reason in the report's language.
    """
    index = {
        (r.breakdown, r.group, r.skill): r
        for r in rows
        if r.measure == measure.id and r.comparison == comparison
    }
    wanted = [(ALL, ALL, everyone)] + [(breakdown, g, name) for g, name in groups]
    out_rows: list[HeatRow] = []
    for kind, group, name in wanted:
        cells = [
            _cell(index.get((kind, group, skill)), measure, k, tr, withheld_words)
            for skill, _ in skills
        ]
        if kind != ALL and all(c.kind == "heat empty" for c in cells):
            continue
        out_rows.append(HeatRow(name, cells, pooled=kind == ALL))
    if len(out_rows) <= 1:
        return None
    better = tr("higher is better") if measure.higher_is_better else tr("lower is better")
    return HeatMap(
        id=map_id,
        title=title,
        caption=tr(
            "Mean gain in %(unit)s (%(better)s) with its 95%% interval, by group and skill. "
            "The symbol, not only the colour, says whether the interval lies above or below "
            "no change.",
            unit=tr(measure.gain_unit),
            better=better,
        ),
        columns=[name for _, name in skills],
        rows=out_rows,
        legend=[
            (UP, tr("the interval lies above no change (a rise)")),
            (DOWN, tr("the interval lies below no change (a fall)")),
            (ACROSS, tr("the interval includes no change")),
            (NO_INTERVAL, tr("no interval (too few people, or every gain equal)")),
        ],
    )


def _cell(
    row: SummaryRow | None,
    measure: Measure,
    k: int,
    tr: Speaker,
    withheld_words: dict[str, str],
) -> HeatCell:
    if row is None or row.n_paired == 0:
        return HeatCell("—", "", "heat empty", tr("nobody answered both phases"))
    reason = row.withheld.get("mean_gain")
    if reason is not None:
        words = withheld_words.get(reason, tr("withheld"))
        return HeatCell(words, "", "heat withheld", words)
    if row.mean_gain is None:
        return HeatCell("—", "", "heat empty", tr("not defined for these data"))
    places = measure.decimals
    interval = fmt_interval(row.gain_ci_low, row.gain_ci_high, places).replace(" ", NBSP)
    text = f"{fmt(row.mean_gain, places, signed=True)} {interval}".strip()
    symbol = ACROSS
    if row.gain_ci_low is None or row.gain_ci_high is None:
        symbol = NO_INTERVAL
    elif row.gain_ci_low > 0:
        symbol = UP
    elif row.gain_ci_high < 0:
        symbol = DOWN
    span = (measure.maximum - measure.minimum) or 1.0
    relative = row.mean_gain / span * (1 if measure.higher_is_better else -1)
    shade = _shade(relative)
    return HeatCell(
        text,
        symbol,
        f"heat heat-{'p' if shade > 0 else 'm' if shade < 0 else ''}{abs(shade)}",
        tr("%(n)s paired people", n=row.n_paired),
    )


def _shade(relative: float) -> int:
    """-3..3 by the gain as a share of the measure's range: beyond 2%, 10% and 20%."""
    steps = (0.02, 0.10, 0.20)
    size = sum(1 for step in steps if abs(relative) > step)
    return size if relative > 0 else -size
