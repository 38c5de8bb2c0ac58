"""The report in plain words, for readers who are not statisticians.

What changed, for how many people, and how sure we can be -- read from the rows of
all participants (the course's stated objectives), per comparison and measure; then
who did not come back, what a one-group design cannot show, and what was withheld to
protect people. Every number here is also in the tables; nothing is computed anew.

In the report's language: a paragraph any of whose sentences has no translation is
given whole in English, and marked so (`report_i18n.paragraph`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalsvc.domain.attrition import AttritionRow
from evalsvc.domain.design import ALL, Comparison, Measure
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt, withheld_words
from evalsvc.exports.lookup import SummaryIndex
from evalsvc.exports.report_i18n import R_, paragraph, tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Paragraph:
    heading: str | None
    text: str
    lang: str | None = None
    """The language of `text` when it is not the report's (an untranslated paragraph)."""


def in_brief(report: CourseReport, names: DisplayNames) -> list[Paragraph]:
    index = SummaryIndex(report.analysis.summary)
    k = report.min_cell_size
    out = [_paragraph(None, lambda: _who(report, names))]
    for comparison in report.design.comparisons:
        rows = [(m, index.get(m.id, comparison.id)) for m in report.design.measures]
        if rows and all(row is None or row.n_paired == 0 for _, row in rows):
            measure, row = rows[0]
            out.append(
                _paragraph(
                    names.comparison_title(comparison).capitalize(),
                    functools.partial(change_sentence, measure, comparison, row, names, k),
                )
            )
            continue
        for measure, row in rows:
            out.append(
                _paragraph(
                    f"{names.measure(measure.id)}, {names.comparison_title(comparison)}",
                    functools.partial(change_sentence, measure, comparison, row, names, k),
                )
            )
    if _dropout(report, names):
        out.append(_paragraph(tr("Who did not come back"), lambda: _dropout(report, names)))
    out.append(_paragraph(tr("What these figures cannot show"), lambda: tr(LIMITS)))
    out.append(_paragraph(tr("Protecting participants"), lambda: _disclosure(report)))
    return out


def _paragraph(heading: str | None, build: Callable[[], str]) -> Paragraph:
    made = paragraph(build)
    return Paragraph(heading, made.text, None if made.lang == tr.lang else made.lang)


LIMITS = R_(
    "The same people were measured more than once, with no comparison group that did "
    "not take the course. Part of a change can come from having seen the same questions "
    "before, from regression to the mean (people who start unusually low tend to score "
    "higher the next time, and the reverse), or from anything else that happened in "
    "between. The figures show how much people changed, not that the course caused it."
)


def _who(report: CourseReport, names: DisplayNames) -> str:
    answered = {
        row.phases: row.n
        for row in report.analysis.phase_counts
        if row.breakdown == ALL and row.kind == "phase"
    }
    per_phase = ", ".join(
        tr("%(n)s answered %(phase)s", n=answered.get(phase, 0), phase=_quoted(names, phase))
        for phase in report.design.phases
    )
    people = report.analysis.n_participants
    if people == 0:
        return tr("Nobody has answered yet.")
    text = tr.n("%(n)s person took part", "%(n)s people took part", people)
    return f"{text}: {per_phase}." if per_phase else f"{text}."


def change_sentence(
    measure: Measure,
    comparison: Comparison,
    row: SummaryRow | None,
    names: DisplayNames,
    k: int,
) -> str:
    """What changed for all participants, how many, and how sure: in words."""
    first, second = _quoted(names, comparison.from_phase), _quoted(names, comparison.to_phase)
    if row is None or row.n_paired == 0:
        return tr(
            "Nobody has answered both %(first)s and %(second)s yet.", first=first, second=second
        )
    if row.withheld:
        reason = next(iter(row.withheld.values()))
        return tr.n(
            "%(n)s person answered both %(first)s and %(second)s; their figures are %(why)s.",
            "%(n)s people answered both %(first)s and %(second)s; their figures are %(why)s.",
            row.n_paired,
            first=first,
            second=second,
            why=withheld_words(reason, k),
        )
    places = measure.decimals
    unit = names.gain_unit(measure)
    scale = names.unit(measure)
    gain = row.mean_gain or 0.0
    values = {"first": first, "second": second}
    if gain == 0:
        text = tr.n(
            "For the %(n)s person who answered both %(first)s and %(second)s, the average "
            "stayed at %(level)s %(scale)s.",
            "For the %(n)s people who answered both %(first)s and %(second)s, the average "
            "stayed at %(level)s %(scale)s.",
            row.n_paired,
            level=fmt(row.from_mean, places),
            scale=scale,
            **values,
        )
    else:
        better = (gain > 0) == measure.higher_is_better
        text = tr.n(
            "For the %(n)s person who answered both %(first)s and %(second)s, the average "
            "%(moved)s from %(before)s to %(after)s %(scale)s, %(verdict)s of %(size)s "
            "%(unit)s.",
            "For the %(n)s people who answered both %(first)s and %(second)s, the average "
            "%(moved)s from %(before)s to %(after)s %(scale)s, %(verdict)s of %(size)s "
            "%(unit)s.",
            row.n_paired,
            moved=tr("rose") if gain > 0 else tr("fell"),
            before=fmt(row.from_mean, places),
            after=fmt(row.to_mean, places),
            scale=scale,
            verdict=tr("an improvement") if better else tr("a worsening"),
            size=fmt(abs(gain), places),
            unit=unit,
            **values,
        )
    text += " " + _how_sure(row, places, unit)
    if row.n_improved is not None:
        text += " " + tr(
            "The score rose for %(up)s, stayed the same for %(same)s and fell for %(down)s",
            up=row.n_improved,
            same=row.n_unchanged,
            down=row.n_declined,
        )
        text += ("" if measure.higher_is_better else f" ({names.direction(measure)})") + "."
    return text


def _how_sure(row: SummaryRow, places: int, unit: str) -> str:
    low, high = row.gain_ci_low, row.gain_ci_high
    if low is None or high is None:
        return tr("With so few people, or such equal changes, we cannot say how sure this is.")
    interval = tr(
        "%(low)s to %(high)s %(unit)s", low=fmt(low, places), high=fmt(high, places), unit=unit
    )
    if low > 0 or high < 0:
        return tr(
            "The true average change is probably between %(interval)s (95%% confidence "
            "interval): a change this large is unlikely to be chance alone.",
            interval=interval,
        )
    return tr(
        "The 95%% confidence interval, %(interval)s, includes no change at all: chance "
        "alone could explain a difference this small.",
        interval=interval,
    )


def _quoted(names: DisplayNames, phase: str) -> str:
    """A phase's name in running text: “pre”, “After the course”."""
    return tr("“%(phase)s”", phase=names.phase(phase))


def _dropout(report: CourseReport, names: DisplayNames) -> str:
    if not report.design.measures:
        return ""
    measure = report.design.measures[0]
    rows = [
        r
        for r in report.analysis.attrition
        if r.measure == measure.id
        and r.breakdown == ALL
        and r.skill == TOTAL
        and r.n_completed + r.n_dropped > 0
    ]
    return " ".join(_dropout_sentence(row, measure, names, report.min_cell_size) for row in rows)


def _dropout_sentence(row: AttritionRow, measure: Measure, names: DisplayNames, k: int) -> str:
    baseline, later = _quoted(names, row.baseline_phase), _quoted(names, row.later_phase)
    started = row.n_completed + row.n_dropped
    text = tr.n(
        "Of the %(n)s person with a %(measure)s score at %(baseline)s, %(stayed)s also "
        "answered %(later)s and %(left)s did not.",
        "Of the %(n)s people with a %(measure)s score at %(baseline)s, %(stayed)s also "
        "answered %(later)s and %(left)s did not.",
        started,
        measure=names.measure(measure.id).lower(),
        baseline=baseline,
        stayed=row.n_completed,
        later=later,
        left=row.n_dropped,
    )
    if row.n_dropped == 0:
        return text
    reason = row.withheld.get("difference")
    if reason is not None:
        return (
            text
            + " "
            + tr(
                "How those who did not come back had started is %(why)s.",
                why=withheld_words(reason, k),
            )
        )
    if row.difference is None:
        return text + " " + tr("Too few did not come back to compare how they had started.")
    places = measure.decimals
    unit = names.gain_unit(measure)
    text += " " + tr(
        "Those who came back had started %(size)s %(unit)s %(side)s than those who did not "
        "(95%% CI %(low)s to %(high)s)",
        size=fmt(abs(row.difference), places),
        unit=unit,
        side=tr("higher") if row.difference > 0 else tr("lower"),
        low=fmt(row.difference_ci_low, places),
        high=fmt(row.difference_ci_high, places),
    )
    low, high = row.difference_ci_low, row.difference_ci_high
    if low is not None and high is not None and (low > 0 or high < 0):
        return text + tr(
            ": the later results describe a selected group; read them with that in mind."
        )
    return text + tr(", a difference chance could explain.")


def _disclosure(report: CourseReport) -> str:
    audit = report.analysis.disclosure
    k = report.min_cell_size
    total = audit.published + audit.withheld
    if total == 0:
        return tr("No figure describes fewer than %(k)s people. There are no figures yet.", k=k)
    text = tr(
        "No figure describes fewer than %(k)s people, and further figures are withheld "
        "where, together with those shown, they would let a withheld one be worked out. "
        "Of %(total)s sets of figures, %(withheld)s are withheld.",
        k=k,
        total=total,
        withheld=audit.withheld,
    )
    if audit.verified:
        return (
            text + " " + tr("A separate check confirmed that no withheld figure can be recovered.")
        )
    return text + " " + tr("The separate check could not confirm this, so no figure is published.")
