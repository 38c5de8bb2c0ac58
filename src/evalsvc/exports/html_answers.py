"""What people answered to the questions that are not scored, phase by phase.

One table per item, in the order the phase asks them: all participants, then each
breakdown's groups on their own. Choice items (single, multiple, true/false) show how
many chose each answer and their share of the group; likert items the same per scale
point, "does not apply" counted apart, the mean, SD and top-two box; number items
their mean and SD. Free-text answers are listed per item, sorted, with no group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalsvc.domain.answer_summaries import AnswerSummary, TextAnswers
from evalsvc.domain.design import ALL
from evalsvc.domain.questionnaire import CHOICE_KINDS, Course, Item
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt_share
from evalsvc.exports.html_view import (
    Cell,
    Figures,
    Footnotes,
    Header,
    Row,
    TableView,
    header,
    mean_sd_cell,
    merge_withheld,
    text_cell,
    withheld_cell,
)
from evalsvc.exports.report_i18n import R_, tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Texts:
    id: str
    question: str
    answers: list[str]
    notes: list[str]


@dataclass(frozen=True)
class PhaseResponses:
    phase: str
    title: str
    tables: list[TableView]
    texts: list[Texts]


def phase_responses(
    report: CourseReport, course: Course, names: DisplayNames
) -> list[PhaseResponses]:
    by_item: dict[tuple[str, str], list[AnswerSummary]] = {}
    for row in report.analysis.answer_summaries:
        by_item.setdefault((row.phase, row.item), []).append(row)
    texts = {(t.phase, t.item): t for t in report.analysis.texts}
    out = []
    for phase in report.design.phases:
        tables, lists = [], []
        for item in course.items_in_phase(phase):
            rows = by_item.get((phase, item.id))
            if rows:
                tables.append(response_table(report, item, phase, rows, names))
            found = texts.get((phase, item.id))
            if found is not None:
                lists.append(_texts(found, names))
        if tables or lists:
            out.append(PhaseResponses(phase, names.phase(phase), tables, lists))
    return out


def _texts(found: TextAnswers, names: DisplayNames) -> Texts:
    return Texts(
        id=f"texts-{found.phase}-{found.item}",
        question=names.item(found.item),
        answers=list(found.answers),
        notes=list(found.notes),
    )


def _answers(item: Item, rows: Sequence[AnswerSummary]) -> list[str]:
    """The answers to show a column for: the item's options or scale points."""
    for row in rows:
        if row.distribution is not None:
            return list(row.distribution)
    return list(item.option_ids) if item.kind in CHOICE_KINDS else []


def response_table(
    report: CourseReport,
    item: Item,
    phase: str,
    rows: Sequence[AnswerSummary],
    names: DisplayNames,
) -> TableView:
    k = report.min_cell_size
    answers = _answers(item, rows) if item.kind != "number" else []
    likert = item.kind == "likert"
    extra: list[Header] = []
    if likert and item.not_applicable:
        extra.append(header(tr("Does not apply"), AnswerSummary, "n_not_applicable"))
    if likert or item.kind == "number":
        extra.append(header(tr("Mean (SD)"), AnswerSummary, "mean", "sd"))
    if likert:
        extra.append(header(tr("Top two"), AnswerSummary, "top_two_box"))
    headers = [
        header(tr("Group"), AnswerSummary, "group", text=True),
        header("n", AnswerSummary, "n"),
        *(header(names.answer(item.id, a), AnswerSummary, "distribution") for a in answers),
        *extra,
    ]
    notes = Footnotes()
    out: list[Row] = []
    current = None
    for row in _ordered(rows, report):
        if row.breakdown != current:
            current = row.breakdown
            if row.breakdown != ALL:
                out.append(Row([], group=names.breakdown(row.breakdown)))
        cells = [text_cell(names.group(row.breakdown, row.group)), Cell(str(row.n))]
        cells += _figure_cells(row, item, answers, k)
        out.append(Row(merge_withheld(cells), notes.refs(row.notes), emphasis=row.group == ALL))
    return TableView(
        id=f"answers-{phase}-{item.id}",
        title=names.item(item.id),
        caption=_caption(item, names),
        headers=headers,
        rows=out,
        notes=notes.texts,
    )


def _ordered(rows: Sequence[AnswerSummary], report: CourseReport) -> list[AnswerSummary]:
    order = {ALL: 0, **{b.id: i + 1 for i, b in enumerate(report.design.breakdowns)}}
    return sorted(rows, key=lambda r: order.get(r.breakdown, len(order)))


def _figure_cells(row: AnswerSummary, item: Item, answers: Sequence[str], k: int) -> list[Cell]:
    figures = Figures(row, k)
    likert = item.kind == "likert"
    cells: list[Cell] = []
    reason = figures.reason("distribution")
    base = row.n - (row.n_not_applicable or 0)
    for answer in answers:
        if reason is not None:
            cells.append(withheld_cell(reason, k))
        elif row.distribution is None or base <= 0:
            cells.append(Cell("0" if row.n == 0 else "—", "undefined"))
        else:
            count = row.distribution.get(answer, 0)
            cells.append(Cell(f"{count} ({fmt_share(count / base)})"))
    if likert and item.not_applicable:
        cells.append(figures.cell("n_not_applicable"))
    if likert or item.kind == "number":
        cells.append(mean_sd_cell(figures, "mean", "sd"))
    if likert:
        cells.append(figures.cell("top_two_box"))
    return cells


_KIND_WORDS = {
    "single_choice": R_("one answer per person; shares of the group"),
    "multiple_choice": R_("several answers per person allowed, so shares add up to more than 100%"),
    "true_false": R_("true or false; shares of the group"),
    "number": R_("a number per person: mean and standard deviation"),
}


def _caption(item: Item, names: DisplayNames) -> str:
    if item.kind == "likert":
        legend = names.scale_legend(item.id)
        text = tr("Answers per point of the scale and their share")
        if item.not_applicable:
            text += tr(
                ' ("does not apply" is counted apart and left out of the shares and the mean)'
            )
        text += tr("; mean (SD); top two: share on the two highest points.")
        caption = tr("Item %(item)s.", item=item.id) + f" {text}"
        return caption + (" " + tr("Scale: %(legend)s.", legend=legend) if legend else "")
    kind = tr(_KIND_WORDS[item.kind]) if item.kind in _KIND_WORDS else item.kind
    return tr("Item %(item)s: %(kind)s.", item=item.id, kind=kind)
