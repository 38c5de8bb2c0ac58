"""The headline cards: per comparison and measure, the figures of all participants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalsvc.domain.design import Comparison, Measure
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import (
    DASH,
    fmt,
    fmt_interval,
    fmt_p,
    fmt_share,
    fmt_share_interval,
    withheld_why,
    withheld_words,
)
from evalsvc.exports.lookup import SummaryIndex
from evalsvc.exports.report_i18n import tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Headline:
    title: str
    value: str
    unit: str
    lines: list[str]
    shown: bool = True
    """False when the value is words (withheld, nobody yet), not a figure."""


def headlines(report: CourseReport, names: DisplayNames) -> list[Headline]:
    index = SummaryIndex(report.analysis.summary)
    return [
        headline(measure, comparison, index.get(measure.id, comparison.id), names, report)
        for comparison in report.design.comparisons
        for measure in report.design.measures
    ]


def headline(
    measure: Measure,
    comparison: Comparison,
    row: SummaryRow | None,
    names: DisplayNames,
    report: CourseReport,
) -> Headline:
    k = report.min_cell_size
    title = f"{names.measure(measure.id)}: {names.comparison_title(comparison)}"
    unit = names.gain_unit(measure)
    if row is None or row.n_paired == 0:
        return Headline(title, DASH, "", [tr("Nobody has answered both phases yet.")], False)
    if row.withheld:
        reason = next(iter(row.withheld.values()))
        return Headline(
            title,
            withheld_words(reason, k),
            "",
            [
                tr.n("%(n)s person answered both.", "%(n)s people answered both.", row.n_paired),
                withheld_why(reason, k),
            ],
            False,
        )
    d = measure.decimals
    first, second = names.phase(comparison.from_phase), names.phase(comparison.to_phase)
    lines = [
        f"{first} {fmt(row.from_mean, d)} → {second} {fmt(row.to_mean, d)} "
        f"({names.unit(measure)}; {names.direction(measure)}), "
        + tr.n("%(n)s person answered both.", "%(n)s people answered both.", row.n_paired)
    ]
    if row.gain_ci_low is not None:
        lines.append(
            tr(
                "95%% CI of the gain %(low)s to %(high)s; paired t test p %(p)s, Holm p %(holm)s.",
                low=fmt(row.gain_ci_low, d),
                high=fmt(row.gain_ci_high, d),
                p=_p_phrase(row.t_pvalue),
                holm=_p_phrase(row.p_holm),
            )
        )
    if row.cohens_dz is not None:
        effect = f"d_z {fmt(row.cohens_dz)} {fmt_interval(row.dz_ci_low, row.dz_ci_high, 2)}"
        if row.dz_ci_method == "asymptotic":
            effect += " " + tr("(asymptotic interval)")
        lines.append(f"{effect.rstrip()}; d_av {fmt(row.d_av)}; g_z {fmt(row.hedges_gz)}.")
    if measure.normalized_gain and row.normalized_gain is not None:
        line = tr(
            "Normalized gain (Hake) %(hake)s; mean of individual normalized gains %(mean)s",
            hake=fmt(row.normalized_gain),
            mean=fmt(row.mean_normalized_gain),
        )
        if row.n_at_maximum:
            line += " " + tr("(%(n)s at the maximum before, left out)", n=row.n_at_maximum)
        lines.append(line + ".")
    if row.n_improved is not None:
        lines.append(
            tr(
                "Rose for %(up)s, unchanged for %(same)s, fell for %(down)s.",
                up=row.n_improved,
                same=row.n_unchanged,
                down=row.n_declined,
            )
        )
    if row.pass_from_share is not None and row.pass_to_share is not None:
        lines.append(
            tr(
                "Passed: %(before)s %(before_ci)s → %(after)s %(after_ci)s; %(gained)s gained, "
                "%(lost)s lost, McNemar p %(p)s.",
                before=fmt_share(row.pass_from_share),
                before_ci=fmt_share_interval(row.pass_from_ci_low, row.pass_from_ci_high),
                after=fmt_share(row.pass_to_share),
                after_ci=fmt_share_interval(row.pass_to_ci_low, row.pass_to_ci_high),
                gained=row.pass_gained,
                lost=row.pass_lost,
                p=_p_phrase(row.pass_mcnemar_p),
            )
        )
    return Headline(title, fmt(row.mean_gain, d, signed=True), unit, lines)


def _p_phrase(p: float | None) -> str:
    if p is None:
        return tr("undefined")
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"
