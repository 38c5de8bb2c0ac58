"""The report in plain words, for readers who are not statisticians.

What changed, for how many people, and how sure we can be -- read from the rows of
all participants (the course's stated objectives), per comparison and measure; then
who did not come back, what a one-group design cannot show, and what was withheld to
protect people. Every number here is also in the tables; nothing is computed anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalsvc.domain.attrition import AttritionRow
from evalsvc.domain.design import ALL, Comparison, Measure
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt, withheld_words
from evalsvc.exports.lookup import SummaryIndex

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Paragraph:
    heading: str | None
    text: str


def in_brief(report: CourseReport, names: DisplayNames) -> list[Paragraph]:
    index = SummaryIndex(report.analysis.summary)
    k = report.min_cell_size
    out = [Paragraph(None, _who(report, names))]
    for comparison in report.design.comparisons:
        rows = [(m, index.get(m.id, comparison.id)) for m in report.design.measures]
        if rows and all(row is None or row.n_paired == 0 for _, row in rows):
            measure, row = rows[0]
            text = change_sentence(measure, comparison, row, names, k)
            out.append(Paragraph(names.comparison_title(comparison).capitalize(), text))
            continue
        for measure, row in rows:
            out.append(
                Paragraph(
                    f"{measure.label}, {names.comparison_title(comparison)}",
                    change_sentence(measure, comparison, row, names, k),
                )
            )
    dropout = _dropout(report, names)
    if dropout:
        out.append(Paragraph("Who did not come back", dropout))
    out.append(Paragraph("What these figures cannot show", LIMITS))
    out.append(Paragraph("Protecting participants", _disclosure(report)))
    return out


LIMITS = (
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
        f"{answered.get(phase, 0)} answered {_quoted(names, phase)}"
        for phase in report.design.phases
    )
    people = report.analysis.n_participants
    if people == 0:
        return "Nobody has answered yet."
    text = f"{people} {_people(people)} took part"
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
        return f"Nobody has answered both {first} and {second} yet."
    if row.withheld:
        reason = next(iter(row.withheld.values()))
        return (
            f"{row.n_paired} {_people(row.n_paired)} answered both {first} and {second}; "
            f"their figures are {withheld_words(reason, k)}."
        )
    places = measure.decimals
    unit = names.gain_unit(measure)
    gain = row.mean_gain or 0.0
    moved = "rose" if gain > 0 else "fell" if gain < 0 else "stayed"
    text = (
        f"For the {row.n_paired} {_people(row.n_paired)} who answered both {first} and "
        f"{second}, the average {moved} "
    )
    if gain == 0:
        text += f"at {fmt(row.from_mean, places)} {measure.unit}."
    else:
        better = (gain > 0) == measure.higher_is_better
        text += (
            f"from {fmt(row.from_mean, places)} to {fmt(row.to_mean, places)} {measure.unit}, "
            f"{'an improvement' if better else 'a worsening'} of {fmt(abs(gain), places)} "
            f"{unit}."
        )
    text += " " + _how_sure(row, places, unit)
    if row.n_improved is not None:
        text += (
            f" The score rose for {row.n_improved}, stayed the same for {row.n_unchanged} "
            f"and fell for {row.n_declined}"
            + ("" if measure.higher_is_better else f" ({names.direction(measure)})")
            + "."
        )
    return text


def _how_sure(row: SummaryRow, places: int, unit: str) -> str:
    low, high = row.gain_ci_low, row.gain_ci_high
    if low is None or high is None:
        return "With so few people, or such equal changes, we cannot say how sure this is."
    interval = f"{fmt(low, places)} to {fmt(high, places)} {unit}"
    if low > 0 or high < 0:
        return (
            f"The true average change is probably between {interval} (95% confidence "
            "interval): a change this large is unlikely to be chance alone."
        )
    return (
        f"The 95% confidence interval, {interval}, includes no change at all: chance "
        "alone could explain a difference this small."
    )


def _quoted(names: DisplayNames, phase: str) -> str:
    """A phase's name in running text: “pre”, “After the course”."""
    return f"“{names.phase(phase)}”"


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


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
    text = (
        f"Of the {started} {_people(started)} with a {measure.label.lower()} score at "
        f"{baseline}, {row.n_completed} also answered {later} and {row.n_dropped} did not."
    )
    if row.n_dropped == 0:
        return text
    reason = row.withheld.get("difference")
    if reason is not None:
        return f"{text} How those who did not come back had started is {withheld_words(reason, k)}."
    if row.difference is None:
        return f"{text} Too few did not come back to compare how they had started."
    places = measure.decimals
    unit = names.gain_unit(measure)
    side = "higher" if row.difference > 0 else "lower"
    text += (
        f" Those who came back had started {fmt(abs(row.difference), places)} {unit} "
        f"{side} than those who did not (95% CI {fmt(row.difference_ci_low, places)} to "
        f"{fmt(row.difference_ci_high, places)})"
    )
    low, high = row.difference_ci_low, row.difference_ci_high
    if low is not None and high is not None and (low > 0 or high < 0):
        return text + ": the later results describe a selected group; read them with that in mind."
    return text + ", a difference chance could explain."


def _disclosure(report: CourseReport) -> str:
    audit = report.analysis.disclosure
    k = report.min_cell_size
    total = audit.published + audit.withheld
    if total == 0:
        return f"No figure describes fewer than {k} people. There are no figures yet."
    text = (
        f"No figure describes fewer than {k} people, and further figures are withheld "
        "where, together with those shown, they would let a withheld one be worked out. "
        f"Of {total} sets of figures, {audit.withheld} are withheld. "
    )
    if audit.verified:
        return text + "A separate check confirmed that no withheld figure can be recovered."
    return text + "The separate check could not confirm this, so no figure is published."
