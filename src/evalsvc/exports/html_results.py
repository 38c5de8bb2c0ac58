"""The report's results, one breakdown at a time: charts and summary tables.

The first section is all participants, by skill; then one section per breakdown
(agency, then the course's breakdown items), by group. Within a section: per measure,
per comparison, a chart of the from and to means with the gain's interval, the main
and the further summary table, the pass mark (knowledge, when the course sets one)
and, for a breakdown, whether the gains differ between its groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

from evalsvc.domain.design import ALL, Breakdown, Comparison, Measure
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.display_names import EVERYONE, DisplayNames
from evalsvc.exports.html_summary import (
    Block,
    TableContext,
    further_table,
    group_comparison_table,
    main_table,
    pass_table,
)
from evalsvc.exports.html_view import TableView
from evalsvc.exports.lookup import SummaryIndex
from evalsvc.exports.report_i18n import tr
from evalsvc.exports.svg_chart import Bar, bar, from_to_svg

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    caption: str
    svg: Markup


@dataclass(frozen=True)
class ComparisonResults:
    id: str
    title: str
    figure: Figure | None
    tables: list[TableView]


@dataclass(frozen=True)
class MeasureResults:
    id: str
    title: str
    comparisons: list[ComparisonResults]


@dataclass(frozen=True)
class ResultsSection:
    id: str
    title: str
    intro: str
    measures: list[MeasureResults]


def results_sections(
    report: CourseReport, names: DisplayNames, pass_mark: float | None
) -> list[ResultsSection]:
    index = SummaryIndex(report.analysis.summary)
    everyone = Breakdown(id=ALL, groups=(ALL,))
    sections = []
    for breakdown in (everyone, *report.design.breakdowns):
        measures = [
            MeasureResults(
                id=f"results-{breakdown.id}-{measure.id}",
                title=names.measure(measure.id),
                comparisons=[
                    _comparison(report, names, index, breakdown, measure, comparison, pass_mark)
                    for comparison in report.design.comparisons
                ],
            )
            for measure in report.design.measures
        ]
        if breakdown.id == ALL:
            title, intro = (
                tr("Results: all participants, by skill"),
                tr(
                    "The rows of all participants are the course's stated objectives: their "
                    "p-values are adjusted together (Holm, confirmatory family)."
                ),
            )
        else:
            name = names.breakdown(breakdown.id)
            title, intro = (
                tr("Results by %(breakdown)s", breakdown=name),
                tr(
                    "Each group of %(breakdown)s on its own; the group rows form an "
                    "exploratory Holm family. Groups whose figures are withheld show why.",
                    breakdown=name,
                ),
            )
        sections.append(ResultsSection(f"results-{breakdown.id}", title, intro, measures))
    return sections


def _comparison(
    report: CourseReport,
    names: DisplayNames,
    index: SummaryIndex,
    breakdown: Breakdown,
    measure: Measure,
    comparison: Comparison,
    pass_mark: float | None,
) -> ComparisonResults:
    context = TableContext(measure, comparison, breakdown.id, report.min_cell_size, names)
    blocks = _blocks(report, index, breakdown, measure, comparison, names)
    tables = [main_table(context, blocks), further_table(context, blocks)]
    totals = [
        (names.group(breakdown.id, group), row)
        for group in breakdown.groups
        if (row := index.get(measure.id, comparison.id, breakdown.id, group)) is not None
    ]
    if pass_mark is not None and measure.id == "knowledge":
        tables.append(pass_table(context, totals, pass_mark))
    if breakdown.id != ALL:
        between = [
            r
            for r in report.analysis.group_comparisons
            if (r.measure, r.comparison, r.breakdown) == (measure.id, comparison.id, breakdown.id)
        ]
        if between:
            tables.append(group_comparison_table(context, between))
    return ComparisonResults(
        id=f"{breakdown.id}-{measure.id}-{comparison.id}",
        title=names.comparison_title(comparison),
        figure=_figure(report, names, index, breakdown, measure, comparison),
        tables=tables,
    )


def _blocks(
    report: CourseReport,
    index: SummaryIndex,
    breakdown: Breakdown,
    measure: Measure,
    comparison: Comparison,
    names: DisplayNames,
) -> list[Block]:
    blocks = []
    for group in breakdown.groups:
        rows = [
            row
            for skill in report.design.skills
            if (row := index.get(measure.id, comparison.id, breakdown.id, group, skill)) is not None
        ]
        heading = None if breakdown.id == ALL else names.group(breakdown.id, group)
        if rows:
            blocks.append(Block(heading, rows))
    return blocks


def _figure(
    report: CourseReport,
    names: DisplayNames,
    index: SummaryIndex,
    breakdown: Breakdown,
    measure: Measure,
    comparison: Comparison,
) -> Figure | None:
    k = report.min_cell_size
    everyone = index.get(measure.id, comparison.id)
    bars: list[Bar]
    if breakdown.id == ALL:
        bars = [
            bar(names.skill(skill), index.get(measure.id, comparison.id, skill=skill), measure, k)
            for skill in report.design.skills
            if skill != TOTAL
        ]
        bars.append(bar(names.skill(TOTAL), everyone, measure, k, pooled=True))
        by = tr("skill")
    else:
        bars = [
            bar(
                names.group(breakdown.id, group),
                index.get(measure.id, comparison.id, breakdown.id, group),
                measure,
                k,
            )
            for group in breakdown.groups
        ]
        bars.append(bar(tr(EVERYONE), everyone, measure, k, pooled=True))
        by = names.breakdown(breakdown.id)
    if not any(_shown(b) for b in bars):
        return None
    first, second = names.phase(comparison.from_phase), names.phase(comparison.to_phase)
    figure_id = f"chart-{breakdown.id}-{measure.id}-{comparison.id}"
    title = tr(
        "%(measure)s, %(first)s and %(second)s, by %(by)s",
        measure=names.measure(measure.id),
        first=first,
        second=second,
        by=by,
    )
    scope = (
        tr("all participants, per skill") if breakdown.id == ALL else tr("total score, per group")
    )
    caption = tr(
        "Mean %(measure)s (%(unit)s; %(direction)s) of the people who answered both, "
        "%(scope)s: upper bar %(first)s, lower bar %(second)s. Whisker: the 95%% interval "
        "of the mean gain, placed on the upper bar's mean; where it stays clear of the end "
        "of the upper bar, the interval excludes no change. Right: mean gain [95%% CI].",
        measure=names.measure(measure.id).lower(),
        unit=names.unit(measure),
        direction=names.direction(measure),
        scope=scope,
        first=first,
        second=second,
    )
    svg = from_to_svg(figure_id, title, bars, measure, first, second, names.unit(measure))
    return Figure(figure_id, title, caption, svg)


def _shown(one: Bar) -> bool:
    return one.status is None or one.n > 0
