"""Who answered which phases, and whether those who came back had started differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from evalsvc.domain.attrition import AttritionRow, PhaseCountRow
from evalsvc.domain.design import ALL, Measure
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt
from evalsvc.exports.html_view import (
    Cell,
    Figures,
    Footnotes,
    Header,
    Row,
    TableView,
    header,
    interval_cell,
    mean_sd_cell,
    merge_withheld,
    text_cell,
)
from evalsvc.exports.report_i18n import tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


def _breakdown_order(report: CourseReport) -> list[str]:
    return [ALL, *(b.id for b in report.design.breakdowns)]


def phase_count_table(report: CourseReport, names: DisplayNames) -> TableView:
    """People per phase and per exact combination of phases, each breakdown on its own."""
    columns: list[tuple[str, str]] = []
    for row in report.analysis.phase_counts:
        if row.breakdown == ALL and (row.kind, row.phases) not in columns:
            columns.append((row.kind, row.phases))
    counts = {(r.breakdown, r.group, r.kind, r.phases): r.n for r in report.analysis.phase_counts}
    groups: dict[str, list[str]] = {}
    for row in report.analysis.phase_counts:
        groups.setdefault(row.breakdown, [])
        if row.group not in groups[row.breakdown]:
            groups[row.breakdown].append(row.group)
    rows: list[Row] = []
    for breakdown in _breakdown_order(report):
        if breakdown != ALL:
            rows.append(Row([], group=names.breakdown(breakdown)))
        for group in groups.get(breakdown, []):
            cells = [text_cell(names.group(breakdown, group))]
            cells += [Cell(str(counts.get((breakdown, group, *column), 0))) for column in columns]
            rows.append(Row(cells, emphasis=group == ALL))
    headers = [header(tr("Group"), PhaseCountRow, "group", text=True)]
    for kind, phases in columns:
        shown = " + ".join(names.phase(p) for p in phases.split("+"))
        label = (
            tr("answered %(phases)s", phases=shown)
            if kind == "phase"
            else tr("%(phases)s only", phases=shown)
        )
        headers.append(header(label, PhaseCountRow, "kind", "phases", "n"))
    return TableView(
        id="phase-counts",
        title=tr("Who answered which questionnaires"),
        caption=tr(
            "People per group who answered each questionnaire (whatever else they answered), "
            "then per exact combination ('only': these and no other). Counts of people are "
            "always shown."
        ),
        headers=headers,
        rows=rows,
        notes=[],
        big=True,
    )


def attrition_table(report: CourseReport, measure: Measure, names: DisplayNames) -> TableView:
    """Baseline scores of those who stayed against those who left, per later phase.

    All participants by skill; each breakdown's groups by their total score (every
    skill of every group is in the downloads).
    """
    k = report.min_cell_size
    rows = [r for r in report.analysis.attrition if r.measure == measure.id]
    baseline = names.phase(rows[0].baseline_phase) if rows else ""
    notes = Footnotes()
    out: list[Row] = []
    for later in report.design.phases[1:]:
        for breakdown in _breakdown_order(report):
            chosen = [
                r
                for r in rows
                if r.later_phase == later
                and r.breakdown == breakdown
                and (breakdown == ALL or r.skill == TOTAL)
            ]
            if not chosen:
                continue
            what = (
                tr("all participants, by skill")
                if breakdown == ALL
                else tr("by %(breakdown)s, total score", breakdown=names.breakdown(breakdown))
            )
            out.append(
                Row(
                    [],
                    group=tr(
                        "Answered %(phase)s or not: %(what)s", phase=names.phase(later), what=what
                    ),
                )
            )
            for row in chosen:
                label = (
                    names.skill(row.skill)
                    if breakdown == ALL
                    else (names.group(breakdown, row.group))
                )
                out.append(_attrition_row(row, label, measure, k, notes))
    return TableView(
        id=f"attrition-{measure.id}",
        title=tr(
            "%(measure)s at %(phase)s: those who came back and those who did not",
            measure=names.measure(measure.id),
            phase=baseline,
        ),
        caption=tr(
            "%(measure)s at %(phase)s (%(unit)s) of the people who answered the later "
            "questionnaire (stayed) and of those who did not (left), with Welch's t test of "
            "the difference. A clear difference means the later results describe a selected "
            "group.",
            measure=names.measure(measure.id),
            phase=baseline,
            unit=names.unit(measure),
        ),
        headers=_attrition_headers(),
        rows=out,
        notes=notes.texts,
        big=True,
    )


def _attrition_headers() -> list[Header]:
    return [
        header(tr("Skill or group"), AttritionRow, "skill", "group", text=True),
        header(tr("n stayed"), AttritionRow, "n_completed"),
        header(tr("n left"), AttritionRow, "n_dropped"),
        header(tr("Stayed: mean (SD)"), AttritionRow, "completed_mean", "completed_sd"),
        header(tr("Left: mean (SD)"), AttritionRow, "dropped_mean", "dropped_sd"),
        header(
            tr("Difference [95% CI]"),
            AttritionRow,
            "difference",
            "difference_ci_low",
            "difference_ci_high",
        ),
        header("Welch t (df)", AttritionRow, "welch_t", "welch_df"),
        header("p", AttritionRow, "welch_pvalue"),
    ]


def _attrition_row(
    row: AttritionRow, label: str, measure: Measure, k: int, notes: Footnotes
) -> Row:
    figures = Figures(row, k, measure)
    places = measure.decimals
    cells: list[Cell] = [
        text_cell(label),
        Cell(str(row.n_completed)),
        Cell(str(row.n_dropped)),
        mean_sd_cell(figures, "completed_mean", "completed_sd"),
        mean_sd_cell(figures, "dropped_mean", "dropped_sd"),
    ]
    difference = interval_cell(
        figures, "difference", "difference_ci_low", "difference_ci_high", places, signed=True
    )
    welch = figures.cell("welch_t", "welch_df")
    if welch.kind == "num":
        welch = Cell(f"{fmt(row.welch_t)} ({fmt(row.welch_df, 1)})")
    cells += [difference, welch, figures.cell("welch_pvalue")]
    emphasis = row.breakdown == ALL and row.skill == TOTAL
    return Row(merge_withheld(cells), notes.refs(row.notes), emphasis=emphasis)


def attrition_tables(report: CourseReport, names: DisplayNames) -> Sequence[TableView]:
    if len(report.design.phases) < 2:
        return []
    return [attrition_table(report, m, names) for m in report.design.measures]
