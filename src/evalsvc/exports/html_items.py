"""Knowledge items and the test's reliability, per comparison (over its paired people)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from evalsvc.domain.columns import field_meta
from evalsvc.domain.design import Comparison
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt
from evalsvc.exports.html_view import (
    Cell,
    Figures,
    Footnotes,
    Row,
    TableView,
    header,
    merge_withheld,
    text_cell,
)
from evalsvc.exports.report_i18n import tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


def items_table(
    report: CourseReport, comparison: Comparison, names: DisplayNames
) -> TableView | None:
    rows = [r for r in report.analysis.items if r.comparison == comparison.id]
    if not rows:
        return None
    k = report.min_cell_size
    first, second = names.phase(comparison.from_phase), names.phase(comparison.to_phase)
    notes = Footnotes()
    out = []
    for row in rows:
        figures = Figures(row, k)
        change = figures.cell("mcnemar_b", "mcnemar_c", text=f"{row.mcnemar_b} / {row.mcnemar_c}")
        cells = [
            text_cell(row.item),
            text_cell(names.item(row.item), lang=names.lang, kind="text question"),
            text_cell(names.skill(row.skill)),
            Cell(str(row.n_paired)),
            figures.cell("p_from"),
            figures.cell("p_to"),
            figures.cell("discrimination_from"),
            figures.cell("discrimination_to"),
            change,
            figures.cell("mcnemar_p"),
        ]
        out.append(Row(merge_withheld(cells), notes.refs(row.notes)))
    return TableView(
        id=f"items-{comparison.id}",
        title=tr("Knowledge items, %(comparison)s", comparison=names.comparison_title(comparison)),
        caption=(
            tr(
                "Over the people who answered both %(first)s and %(second)s. Difficulty: share "
                "answering fully correctly (higher: easier). Discrimination: item–rest "
                "point-biserial correlation. b / c: wrong → right / right → wrong, with the "
                "exact McNemar p.",
                first=first,
                second=second,
            )
        ),
        headers=[
            header(tr("Item"), ItemRow, "item", text=True),
            header(tr("Question"), ItemRow, "item", text=True),
            header(tr("Skill"), ItemRow, "skill", text=True),
            header(tr("n both"), ItemRow, "n_paired"),
            header(tr("Difficulty %(phase)s", phase=first), ItemRow, "p_from"),
            header(tr("Difficulty %(phase)s", phase=second), ItemRow, "p_to"),
            header(tr("Discr. %(phase)s", phase=first), ItemRow, "discrimination_from"),
            header(tr("Discr. %(phase)s", phase=second), ItemRow, "discrimination_to"),
            header("b / c", ItemRow, "mcnemar_b", "mcnemar_c"),
            header("McNemar p", ItemRow, "mcnemar_p"),
        ],
        rows=out,
        notes=notes.texts,
        big=True,
    )


_FLAG_MEANING = {meta.name: meta.description for meta in field_meta(ReliabilityRow)}["kr20_flag"]


def reliability_table(
    report: CourseReport, comparison: Comparison, names: DisplayNames
) -> TableView | None:
    rows = [r for r in report.analysis.reliability if r.comparison == comparison.id]
    if not rows:
        return None
    k = report.min_cell_size
    phases = (comparison.from_phase, comparison.to_phase)
    by_skill: dict[str, dict[str, ReliabilityRow]] = {}
    for row in rows:
        by_skill.setdefault(row.skill, {})[row.phase] = row
    notes = Footnotes()
    out = []
    for skill, per_phase in by_skill.items():
        cells = [text_cell(names.skill(skill))]
        row_notes: list[str] = []
        items = next(iter(per_phase.values())).k
        cells.append(Cell(str(items)))
        for phase in phases:
            found = per_phase.get(phase)
            if found is None:
                cells += [Cell("—", "undefined"), Cell("—", "undefined")]
                continue
            cells += [Cell(str(found.n)), kr20_cell(found, k)]
            row_notes += [f"{names.phase(phase)}: {note}" for note in found.notes]
        out.append(Row(merge_withheld(cells), notes.refs(row_notes), emphasis=skill == TOTAL))
    first, second = (names.phase(p) for p in phases)
    return TableView(
        id=f"reliability-{comparison.id}",
        title=tr(
            "Reliability of the knowledge test (KR-20), %(comparison)s",
            comparison=names.comparison_title(comparison),
        ),
        caption=(
            tr(
                "Kuder–Richardson 20 over the people who answered both %(first)s and "
                "%(second)s and every item of the skill. Few items per skill give low values: "
                "read the total first. A negative KR-20 is flagged: the items do not measure "
                "one thing for these people.",
                first=first,
                second=second,
            )
        ),
        headers=[
            header(tr("Skill"), ReliabilityRow, "skill", text=True),
            header(tr("Items"), ReliabilityRow, "k"),
            header(f"n {first}", ReliabilityRow, "n"),
            header(f"KR-20 {first}", ReliabilityRow, "kr20", "kr20_flag"),
            header(f"n {second}", ReliabilityRow, "n"),
            header(f"KR-20 {second}", ReliabilityRow, "kr20", "kr20_flag"),
        ],
        rows=out,
        notes=notes.texts,
    )


def kr20_cell(row: ReliabilityRow, k: int) -> Cell:
    cell = Figures(row, k).cell("kr20")
    if row.kr20_flag is not None and cell.kind == "num":
        return Cell(f"{fmt(row.kr20)} ({row.kr20_flag})", "flag", _FLAG_MEANING)
    return cell


def item_tables(report: CourseReport, names: DisplayNames) -> Sequence[TableView]:
    views = []
    for comparison in report.design.comparisons:
        for view in (
            items_table(report, comparison, names),
            reliability_table(report, comparison, names),
        ):
            if view is not None:
                views.append(view)
    return views
