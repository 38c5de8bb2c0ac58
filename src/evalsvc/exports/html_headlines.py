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
    title = f"{measure.label}: {names.comparison_title(comparison)}"
    unit = names.gain_unit(measure)
    if row is None or row.n_paired == 0:
        return Headline(title, DASH, "", ["Nobody has answered both phases yet."], False)
    if row.withheld:
        reason = next(iter(row.withheld.values()))
        return Headline(
            title,
            withheld_words(reason, k),
            "",
            [f"{row.n_paired} people answered both.", withheld_why(reason, k)],
            False,
        )
    d = measure.decimals
    first, second = names.phase(comparison.from_phase), names.phase(comparison.to_phase)
    lines = [
        f"{first} {fmt(row.from_mean, d)} → {second} {fmt(row.to_mean, d)} ({measure.unit}; "
        f"{names.direction(measure)}), {row.n_paired} people answered both."
    ]
    if row.gain_ci_low is not None:
        lines.append(
            f"95% CI of the gain {fmt(row.gain_ci_low, d)} to {fmt(row.gain_ci_high, d)}; "
            f"paired t test p {_p_phrase(row.t_pvalue)}, Holm p {_p_phrase(row.p_holm)}."
        )
    if row.cohens_dz is not None:
        effect = f"d_z {fmt(row.cohens_dz)} {fmt_interval(row.dz_ci_low, row.dz_ci_high, 2)}"
        if row.dz_ci_method == "asymptotic":
            effect += " (asymptotic interval)"
        lines.append(f"{effect.rstrip()}; d_av {fmt(row.d_av)}; g_z {fmt(row.hedges_gz)}.")
    if measure.normalized_gain and row.normalized_gain is not None:
        line = (
            f"Normalized gain (Hake) {fmt(row.normalized_gain)}; mean of individual "
            f"normalized gains {fmt(row.mean_normalized_gain)}"
        )
        if row.n_at_maximum:
            line += f" ({row.n_at_maximum} at the maximum before, left out)"
        lines.append(line + ".")
    if row.n_improved is not None:
        lines.append(
            f"Rose for {row.n_improved}, unchanged for {row.n_unchanged}, "
            f"fell for {row.n_declined}."
        )
    if row.pass_from_share is not None and row.pass_to_share is not None:
        lines.append(
            f"Passed: {fmt_share(row.pass_from_share)} "
            f"{fmt_share_interval(row.pass_from_ci_low, row.pass_from_ci_high)} → "
            f"{fmt_share(row.pass_to_share)} "
            f"{fmt_share_interval(row.pass_to_ci_low, row.pass_to_ci_high)}; "
            f"{row.pass_gained} gained, {row.pass_lost} lost, "
            f"McNemar p {_p_phrase(row.pass_mcnemar_p)}."
        )
    return Headline(title, fmt(row.mean_gain, d, signed=True), unit, lines)


def _p_phrase(p: float | None) -> str:
    if p is None:
        return "undefined"
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"
