"""The HTML report's summary tables: one measure, one comparison, one breakdown each.

Never crossed: a table shows the "all" rows by skill, or the groups of one breakdown
(each with its skills). Per table: the main figures (means, gain and its interval,
tests, d_z), further statistics (rank test, d_av, g_z, normalized gains), the pass
mark (knowledge, when the course sets one) and, for a breakdown, whether the gains
differ between its groups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evalsvc.domain.design import ALL, Comparison, Measure
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import GroupComparison, SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import (
    DASH,
    fmt,
    fmt_p,
    fmt_share,
    fmt_share_interval,
)
from evalsvc.exports.html_view import (
    Cell,
    Figures,
    Footnotes,
    Row,
    TableView,
    header,
    interval_cell,
    label_of,
    mean_sd_cell,
    merge_withheld,
    text_cell,
    undefined_cell,
)
from evalsvc.exports.report_i18n import tr


@dataclass(frozen=True)
class Block:
    """Rows of one group (or of "all") in a table, under an optional heading."""

    heading: str | None
    rows: list[SummaryRow]


@dataclass(frozen=True)
class TableContext:
    measure: Measure
    comparison: Comparison
    breakdown: str
    k: int
    names: DisplayNames


def _id(context: TableContext, kind: str) -> str:
    return f"{kind}-{context.breakdown}-{context.measure.id}-{context.comparison.id}"


MakeCells = Callable[[SummaryRow], tuple[list[Cell], list[str]]]


def _rows(blocks: Sequence[Block], make: MakeCells) -> tuple[list[Row], Footnotes]:
    notes = Footnotes()
    out: list[Row] = []
    for block in blocks:
        if block.heading is not None:
            out.append(Row([], group=block.heading))
        for row in block.rows:
            cells, row_notes = make(row)
            emphasis = row.skill == TOTAL
            out.append(Row(merge_withheld(cells), notes.refs(row_notes), emphasis=emphasis))
    return out, notes


def _skill(names: DisplayNames, row: SummaryRow) -> Cell:
    return text_cell(names.skill(row.skill))


# -- main figures ---------------------------------------------------------------------------


def main_table(context: TableContext, blocks: Sequence[Block]) -> TableView:
    measure, comparison, names = context.measure, context.comparison, context.names
    places = measure.decimals
    from_name = names.phase(comparison.from_phase)
    to_name = names.phase(comparison.to_phase)

    def make(row: SummaryRow) -> tuple[list[Cell], list[str]]:
        figures = Figures(row, context.k, measure)
        counts = [Cell(str(row.n_from)), Cell(str(row.n_to)), Cell(str(row.n_paired))]
        if row.n_paired == 0 and not row.withheld:
            nobody = Cell(tr("nobody answered both"), "undefined", colspan=7)
            return [_skill(names, row), *counts, nobody], list(row.notes)
        change = figures.cell(
            "n_improved",
            "n_unchanged",
            "n_declined",
            text=f"{row.n_improved} / {row.n_unchanged} / {row.n_declined}",
        )
        cells = [
            _skill(names, row),
            *counts,
            mean_sd_cell(figures, "from_mean", "from_sd"),
            mean_sd_cell(figures, "to_mean", "to_sd"),
            interval_cell(figures, "mean_gain", "gain_ci_low", "gain_ci_high", places, signed=True),
            figures.cell("t_pvalue"),
            figures.cell("p_holm"),
            interval_cell(figures, "cohens_dz", "dz_ci_low", "dz_ci_high", 2),
            change,
        ]
        return cells, list(row.notes)

    rows, notes = _rows(blocks, make)
    family = (
        tr("the confirmatory family (the rows of all participants)")
        if context.breakdown == ALL
        else tr(
            "the exploratory family of the %(breakdown)s rows",
            breakdown=names.breakdown(context.breakdown),
        )
    )
    legend = names.measure_legend(measure)
    return TableView(
        id=_id(context, "summary"),
        title=f"{names.measure(measure.id)}, {names.comparison_title(comparison)}",
        caption=(
            tr(
                "Means in %(unit)s (%(direction)s), gains in %(gain_unit)s",
                unit=names.unit(measure),
                direction=names.direction(measure),
                gain_unit=names.gain_unit(measure),
            )
            + (tr("; scale: %(legend)s", legend=legend) if legend else "")
            + ". "
            + tr(
                "Only the people who answered both %(first)s and %(second)s. p: paired t "
                "test, two-sided; p Holm: adjusted within %(family)s. ↑ = ↓: score rose / "
                "unchanged / fell.",
                first=from_name,
                second=to_name,
                family=family,
            )
        ),
        headers=[
            header(tr("Skill"), SummaryRow, "skill", text=True),
            header(tr("%(phase)s: n", phase=from_name), SummaryRow, "n_from"),
            header(tr("%(phase)s: n", phase=to_name), SummaryRow, "n_to"),
            header(tr("n both"), SummaryRow, "n_paired"),
            header(tr("%(phase)s: mean (SD)", phase=from_name), SummaryRow, "from_mean", "from_sd"),
            header(tr("%(phase)s: mean (SD)", phase=to_name), SummaryRow, "to_mean", "to_sd"),
            header(tr("Gain [95% CI]"), SummaryRow, "mean_gain", "gain_ci_low", "gain_ci_high"),
            header("p", SummaryRow, "t_pvalue"),
            header(tr("p Holm"), SummaryRow, "p_holm", "holm_family"),
            header(
                f"{label_of(SummaryRow, 'cohens_dz')} [95% CI]",
                SummaryRow,
                "cohens_dz",
                "dz_ci_low",
                "dz_ci_high",
                "dz_ci_method",
            ),
            header("↑ = ↓", SummaryRow, "n_improved", "n_unchanged", "n_declined"),
        ],
        rows=rows,
        notes=notes.texts,
        big=True,
    )


# -- further statistics -----------------------------------------------------------------------


def further_table(context: TableContext, blocks: Sequence[Block]) -> TableView:
    measure = context.measure
    normalized = measure.normalized_gain

    def make(row: SummaryRow) -> tuple[list[Cell], list[str]]:
        figures = Figures(row, context.k, measure)
        if row.n_paired == 0 and not row.withheld:
            span = 9 if normalized else 6
            return [_skill(context.names, row), Cell("—", "undefined", colspan=span)], []
        cells = [
            _skill(context.names, row),
            figures.cell("wilcoxon_statistic"),
            figures.cell("wilcoxon_pvalue"),
            _text_figure(figures, "wilcoxon_method"),
            figures.cell("rank_biserial"),
            figures.cell("d_av"),
            interval_cell(figures, "hedges_gz", "hedges_gz_ci_low", "hedges_gz_ci_high", 2),
        ]
        if normalized:
            cells += [
                figures.cell("normalized_gain"),
                figures.cell("mean_normalized_gain"),
                figures.cell("n_at_maximum"),
            ]
        return cells, []

    rows, _ = _rows(blocks, make)
    hake = tr("; Hake's normalized gain and the mean of individual normalized gains")
    headers = [
        header(tr("Skill"), SummaryRow, "skill", text=True),
        header("Wilcoxon W", SummaryRow, "wilcoxon_statistic"),
        header("p", SummaryRow, "wilcoxon_pvalue"),
        header(tr("method"), SummaryRow, "wilcoxon_method"),
        header(tr("r rank-biserial"), SummaryRow, "rank_biserial"),
        header(label_of(SummaryRow, "d_av"), SummaryRow, "d_av"),
        header("g_z [95% CI]", SummaryRow, "hedges_gz", "hedges_gz_ci_low", "hedges_gz_ci_high"),
    ]
    if normalized:
        headers += [
            header(tr("Normalized gain (Hake)"), SummaryRow, "normalized_gain"),
            header(tr("Mean individual normalized gain"), SummaryRow, "mean_normalized_gain"),
            header(tr("At maximum before"), SummaryRow, "n_at_maximum"),
        ]
    return TableView(
        id=_id(context, "further"),
        title=tr(
            "%(measure)s, %(comparison)s: further statistics",
            measure=context.names.measure(measure.id),
            comparison=context.names.comparison_title(context.comparison),
        ),
        caption=(
            tr(
                "Wilcoxon signed-rank test (two-sided) and the rank-biserial correlation; "
                "d_av and Hedges' g_z"
            )
            + (hake if normalized else "")
            + ". "
            + tr("The notes of each row are those of the table above.")
        ),
        headers=headers,
        rows=rows,
        notes=[],
        big=True,
    )


def _text_figure(figures: Figures, name: str) -> Cell:
    cell = figures.cell(name)
    return Cell(cell.text, "text" if cell.kind == "num" else cell.kind, cell.title)


# -- pass mark ------------------------------------------------------------------------------


def pass_table(
    context: TableContext, rows: Sequence[tuple[str, SummaryRow]], pass_mark: float
) -> TableView:
    """The share of the paired people at or above the pass mark, one row per group."""
    names, comparison = context.names, context.comparison
    from_name = names.phase(comparison.from_phase)
    to_name = names.phase(comparison.to_phase)
    notes = Footnotes()
    out = []
    for label, row in rows:
        figures = Figures(row, context.k, context.measure)
        cells = [text_cell(label), Cell(str(row.n_paired))]
        for prefix in ("pass_from", "pass_to"):
            share = figures.cell(f"{prefix}_share", f"{prefix}_ci_low", f"{prefix}_ci_high")
            if share.kind == "num":
                interval = fmt_share_interval(
                    getattr(row, f"{prefix}_ci_low"), getattr(row, f"{prefix}_ci_high")
                )
                share = Cell(f"{fmt_share(getattr(row, f'{prefix}_share'))} {interval}".strip())
            cells.append(share)
        cells += [
            figures.cell("pass_gained"),
            figures.cell("pass_lost"),
            figures.cell("pass_mcnemar_p"),
        ]
        if row.n_paired == 0 and not row.withheld:
            cells = [*cells[:2], Cell(tr("nobody answered both"), "undefined", colspan=5)]
        out.append(Row(merge_withheld(cells), notes.refs(row.notes), emphasis=row.group == ALL))
    return TableView(
        id=_id(context, "pass"),
        title=tr(
            "Pass mark (%(mark)s%% of the knowledge points), %(comparison)s",
            mark=fmt(pass_mark, 0),
            comparison=names.comparison_title(comparison),
        ),
        caption=tr(
            "Share of the people who answered both %(first)s and %(second)s whose total "
            "knowledge score reached the pass mark, with 95%% Wilson intervals; gained: below "
            "it before and at or above it after; lost: the reverse; exact McNemar test of "
            "the change.",
            first=from_name,
            second=to_name,
        ),
        headers=[
            header(tr("Group"), SummaryRow, "group", text=True),
            header(tr("n both"), SummaryRow, "n_paired"),
            header(
                tr("%(phase)s: passed [95%% CI]", phase=from_name),
                SummaryRow,
                "pass_from_share",
                "pass_from_ci_low",
                "pass_from_ci_high",
            ),
            header(
                tr("%(phase)s: passed [95%% CI]", phase=to_name),
                SummaryRow,
                "pass_to_share",
                "pass_to_ci_low",
                "pass_to_ci_high",
            ),
            header(tr("Gained"), SummaryRow, "pass_gained"),
            header(tr("Lost"), SummaryRow, "pass_lost"),
            header(tr("McNemar p"), SummaryRow, "pass_mcnemar_p"),
        ],
        rows=out,
        notes=notes.texts,
    )


# -- between groups ---------------------------------------------------------------------------


def group_comparison_table(context: TableContext, rows: Sequence[GroupComparison]) -> TableView:
    names = context.names
    notes = Footnotes()
    out = []
    for row in rows:
        welch = DASH
        if row.welch_f is not None:
            welch = f"{fmt(row.welch_f)} ({fmt(row.welch_df1, 0)}, {fmt(row.welch_df2, 1)})"
        compared = ", ".join(names.group(row.breakdown, g) for g in row.groups) or DASH
        out.append(
            Row(
                [
                    text_cell(names.skill(row.skill)),
                    text_cell(compared),
                    Cell(str(row.n_groups)),
                    Cell(fmt(row.kruskal_h)) if row.kruskal_h is not None else undefined_cell(),
                    Cell(fmt_p(row.kruskal_pvalue))
                    if row.kruskal_pvalue is not None
                    else undefined_cell(),
                    Cell(welch) if row.welch_f is not None else undefined_cell(),
                    Cell(fmt_p(row.welch_pvalue))
                    if row.welch_pvalue is not None
                    else undefined_cell(),
                ],
                notes.refs(row.notes),
                emphasis=row.skill == TOTAL,
            )
        )
    return TableView(
        id=_id(context, "between"),
        title=tr(
            "Do the gains differ between %(breakdown)s groups? %(measure)s, %(comparison)s",
            breakdown=names.breakdown(context.breakdown),
            measure=names.measure(context.measure.id),
            comparison=names.comparison(context.comparison),
        ),
        caption=tr(
            "Gains of the groups whose figures are shown (withheld groups and 'not stated' "
            "are left out): Kruskal–Wallis H test and Welch's one-way ANOVA F (df1, df2). "
            "Exploratory: not adjusted for multiplicity."
        ),
        headers=[
            header(tr("Skill"), GroupComparison, "skill", text=True),
            header(tr("Groups compared"), GroupComparison, "groups", text=True),
            header(tr("n groups"), GroupComparison, "n_groups"),
            header("Kruskal–Wallis H", GroupComparison, "kruskal_h"),
            header("p", GroupComparison, "kruskal_pvalue"),
            header("Welch F (df)", GroupComparison, "welch_f", "welch_df1", "welch_df2"),
            header("p", GroupComparison, "welch_pvalue"),
        ],
        rows=out,
        notes=notes.texts,
    )
