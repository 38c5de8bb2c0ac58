"""The HTML report's tables: formatted cells, numbered footnotes, one view per table.

These are display views of a `CourseReport` for the HTML template; the flat tables of
the CSV, JSON and XLSX downloads are in `evalsvc.exports.tables`. A figure that is
withheld shows as "suppressed (n < k)", one that is undefined for the data as "—",
with the row's notes as numbered footnotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evalsvc.domain.cohort import ALL, MEASURES
from evalsvc.domain.feedback import FeedbackLikertRow
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import (
    DASH,
    fmt,
    fmt_interval,
    fmt_p,
    fmt_share,
    score_decimals,
    suppressed_text,
)

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = "num"
    """CSS class: num, text, withheld or undefined."""
    title: str | None = None
    colspan: int = 1
    lang: str | None = None


@dataclass
class Footnotes:
    """Notes of a table, numbered once each in order of first use."""

    texts: list[str] = field(default_factory=list)

    def refs(self, notes: Sequence[str]) -> list[int]:
        numbers = []
        for note in notes:
            if note not in self.texts:
                self.texts.append(note)
            numbers.append(self.texts.index(note) + 1)
        return sorted(set(numbers))


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    notes: list[int]
    group: str | None = None
    """When set, a group header row spanning the table (cells are then empty)."""
    emphasis: bool = False


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    caption: str
    headers: list[tuple[str, str]]
    """(label, tooltip: the column names of the CSV/JSON it shows)."""
    rows: list[Row]
    notes: list[str]
    big: bool = False
    text_columns: int = 1
    """How many leading columns hold text (their headers align left)."""


def _undefined(text: str = DASH) -> Cell:
    return Cell(text, "undefined", "not defined for these data: see the notes")


def _withheld(reason: str | None, k: int, colspan: int = 1) -> Cell:
    return Cell(suppressed_text(reason, k), "withheld", None, colspan)


def _num(text: str) -> Cell:
    return _undefined() if text == DASH else Cell(text)


def _maybe_withheld(
    value: float | int | None, text: str, n: int, k: int, notes: Sequence[str], what: str
) -> Cell:
    """A figure that may be withheld (the notes say "<what> withheld") or undefined."""
    if value is not None:
        return Cell(text)
    for note in notes:
        if note.startswith(f"{what} withheld"):
            return _withheld("complementary" if "withheld so that" in note else "size", k)
    if 0 < n < k:
        return _withheld("size", k)
    return _undefined()


SUMMARY_HEADERS = [
    ("Skill", "skill"),
    ("n pre", "n_pre"),
    ("n post", "n_post"),
    ("n paired", "n_paired"),
    ("Pre mean (SD)", "pre_mean, pre_sd"),
    ("Post mean (SD)", "post_mean, post_sd"),
    ("Gain [95% CI]", "mean_gain, gain_ci_low, gain_ci_high"),
    ("p", "t_pvalue: paired t test"),
    ("p Holm", "p_holm"),
    ("d_z [95% CI]", "cohens_dz, dz_ci_low, dz_ci_high"),
    ("↑ = ↓", "n_improved, n_unchanged, n_declined"),
]


def _agency_order(report: CourseReport) -> list[str]:
    return [ALL, *(a.id for a in report.agencies)]


def _rows_by_agency(report: CourseReport, measure: str) -> list[tuple[str, list[SummaryRow]]]:
    known = _agency_order(report)
    groups: dict[str, list[SummaryRow]] = {agency: [] for agency in known}
    for row in report.summary.rows:
        if row.measure == measure:
            groups.setdefault(row.agency, []).append(row)
    return [(agency, rows) for agency, rows in groups.items() if rows]


def summary_table(report: CourseReport, measure: str, names: DisplayNames) -> TableView:
    k = report.min_cell_size
    d = score_decimals(measure)
    notes = Footnotes()
    rows: list[Row] = []
    for agency, group in _rows_by_agency(report, measure):
        rows.append(Row([], [], group=names.agency(agency)))
        for row in group:
            cells = [
                Cell(names.skill(row.skill), "text"),
                Cell(str(row.n_pre)),
                Cell(str(row.n_post)),
                Cell(str(row.n_paired)),
            ]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=len(SUMMARY_HEADERS) - 4))
            else:
                cells += [
                    _num(_mean_sd(row.pre_mean, row.pre_sd, d)),
                    _num(_mean_sd(row.post_mean, row.post_sd, d)),
                    _num(
                        _with_interval(
                            row.mean_gain, row.gain_ci_low, row.gain_ci_high, d, signed=True
                        )
                    ),
                    _num(fmt_p(row.t_pvalue)),
                    _num(fmt_p(row.p_holm)),
                    _num(_with_interval(row.cohens_dz, row.dz_ci_low, row.dz_ci_high, 2)),
                    Cell(f"{row.n_improved} / {row.n_unchanged} / {row.n_declined}"),
                ]
            rows.append(Row(cells, notes.refs(row.notes), emphasis=row.skill == TOTAL))
    what = "Knowledge" if measure == "knowledge" else "Confidence"
    unit = (
        "Scores in % of points, gains in percentage points."
        if measure == "knowledge"
        else "Self-ratings on a 1–5 scale, gains in scale points."
    )
    return TableView(
        id=f"summary-{measure}",
        title=f"{what}: before and after, per agency and skill",
        caption=f"{unit} Paired participants only. p: paired t test, two-sided; p Holm: "
        f"adjusted over every shown {measure} row. ↑ = ↓: improved / unchanged / declined.",
        headers=SUMMARY_HEADERS,
        rows=rows,
        notes=notes.texts,
        big=True,
    )


FURTHER_HEADERS = [
    ("Skill", "skill"),
    ("Wilcoxon W", "wilcoxon_statistic"),
    ("p", "wilcoxon_pvalue"),
    ("method", "wilcoxon_method"),
    ("r rank-biserial", "rank_biserial"),
    ("g_z [95% CI]", "hedges_gz, hedges_gz_ci_low, hedges_gz_ci_high"),
    ("Normalized gain", "normalized_gain"),
    ("Pre mean, all", "pre_mean_all"),
    ("Post mean, all", "post_mean_all"),
    ("Welch p", "welch_t_pvalue"),
]


def further_table(report: CourseReport, measure: str, names: DisplayNames) -> TableView:
    k = report.min_cell_size
    d = score_decimals(measure)
    rows: list[Row] = []
    paired_columns = 6 if measure == "knowledge" else 5
    headers = [h for h in FURTHER_HEADERS if measure == "knowledge" or h[1] != "normalized_gain"]
    for agency, group in _rows_by_agency(report, measure):
        rows.append(Row([], [], group=names.agency(agency)))
        for row in group:
            cells = [Cell(names.skill(row.skill), "text")]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=paired_columns - 1))
            else:
                cells += [
                    _num(fmt(row.wilcoxon_statistic, 1)),
                    _num(fmt_p(row.wilcoxon_pvalue)),
                    Cell(row.wilcoxon_method or DASH, "text"),
                    _num(fmt(row.rank_biserial)),
                    _num(
                        _with_interval(
                            row.hedges_gz, row.hedges_gz_ci_low, row.hedges_gz_ci_high, 2
                        )
                    ),
                ]
                if measure == "knowledge":
                    cells.append(_num(fmt(row.normalized_gain)))
            cells += [
                _maybe_withheld(
                    row.pre_mean_all,
                    fmt(row.pre_mean_all, d),
                    row.n_pre,
                    k,
                    row.notes,
                    "pre_mean_all",
                ),
                _maybe_withheld(
                    row.post_mean_all,
                    fmt(row.post_mean_all, d),
                    row.n_post,
                    k,
                    row.notes,
                    "post_mean_all",
                ),
                _num(fmt_p(row.welch_t_pvalue)),
            ]
            rows.append(Row(cells, [], emphasis=row.skill == TOTAL))
    what = "Knowledge" if measure == "knowledge" else "Confidence"
    return TableView(
        id=f"further-{measure}",
        title=f"{what}: further statistics",
        caption="Wilcoxon signed-rank test and rank-biserial correlation (paired, rank-based); "
        "Hedges' g_z; means over every submission, paired or not, and Welch's unpaired t test. "
        f"The notes of each row are those of the {measure} table in the previous section.",
        headers=headers,
        rows=rows,
        notes=[],
        big=True,
    )


def _mean_sd(mean: float | None, sd: float | None, d: int) -> str:
    if mean is None:
        return DASH
    return f"{fmt(mean, d)} ({fmt(sd, d)})" if sd is not None else fmt(mean, d)


def _with_interval(
    value: float | None, low: float | None, high: float | None, d: int, *, signed: bool = False
) -> str:
    if value is None:
        return DASH
    return f"{fmt(value, d, signed=signed)} {fmt_interval(low, high, d)}".strip()


def comparison_table(report: CourseReport, names: DisplayNames) -> TableView:
    notes = Footnotes()
    rows = []
    for measure in MEASURES:
        rows.append(Row([], [], group="Knowledge" if measure == "knowledge" else "Confidence"))
        for row in report.summary.agency_comparison:
            if row.measure != measure:
                continue
            welch = DASH
            if row.welch_f is not None:
                welch = f"{fmt(row.welch_f)} ({fmt(row.welch_df1, 0)}, {fmt(row.welch_df2, 1)})"
            rows.append(
                Row(
                    [
                        Cell(names.skill(row.skill), "text"),
                        Cell(str(row.n_groups)),
                        _num(fmt(row.kruskal_h)),
                        _num(fmt_p(row.kruskal_pvalue)),
                        _num(welch),
                        _num(fmt_p(row.welch_pvalue)),
                    ],
                    notes.refs(row.notes),
                    emphasis=row.skill == TOTAL,
                )
            )
    return TableView(
        id="agency-comparison",
        title="Do the gains differ between agencies?",
        caption="Gains of the agencies whose figures are shown. Kruskal–Wallis H test and "
        "Welch's one-way ANOVA F (df1, df2).",
        headers=[
            ("Skill", "skill"),
            ("Agencies compared", "n_groups"),
            ("Kruskal–Wallis H", "kruskal_h"),
            ("p", "kruskal_pvalue"),
            ("Welch F (df)", "welch_f, welch_df1, welch_df2"),
            ("p", "welch_pvalue"),
        ],
        rows=rows,
        notes=notes.texts,
    )


def items_table(report: CourseReport, names: DisplayNames) -> TableView:
    k = report.min_cell_size
    notes = Footnotes()
    rows = []
    for item in report.items:
        rows.append(
            Row(
                [
                    Cell(item.item, "text"),
                    Cell(names.item(item.item), "text question", lang=names.lang),
                    Cell(names.skill(item.skill), "text"),
                    Cell(f"{item.n_pre} / {item.n_post}"),
                    _item_figure(item.p_pre, fmt_share(item.p_pre), item.n_pre, k),
                    _item_figure(item.p_post, fmt_share(item.p_post), item.n_post, k),
                    _item_figure(
                        item.discrimination_pre, fmt(item.discrimination_pre), item.n_pre, k
                    ),
                    _item_figure(
                        item.discrimination_post, fmt(item.discrimination_post), item.n_post, k
                    ),
                    _mcnemar(item, k),
                    _item_figure(item.mcnemar_p, fmt_p(item.mcnemar_p), item.n_paired, k),
                ],
                notes.refs(item.notes),
            )
        )
    return TableView(
        id="items",
        title="Knowledge items",
        caption="p: share answering fully correctly (item difficulty). Discrimination: "
        "corrected item–rest point-biserial correlation. McNemar b / c: paired participants "
        "wrong → right / right → wrong, with the exact McNemar p.",
        headers=[
            ("Item", "item"),
            ("Question", "text (from the course)"),
            ("Skill", "skill"),
            ("n pre / post", "n_pre, n_post"),
            ("p pre", "p_pre"),
            ("p post", "p_post"),
            ("Discr. pre", "discrimination_pre"),
            ("Discr. post", "discrimination_post"),
            ("McNemar b / c", "mcnemar_b, mcnemar_c"),
            ("p", "mcnemar_p"),
        ],
        rows=rows,
        notes=notes.texts,
        big=True,
        text_columns=3,
    )


def _item_figure(value: float | None, text: str, n: int, k: int) -> Cell:
    if value is not None:
        return Cell(text)
    return _withheld("size", k) if 0 < n < k else _undefined()


def _mcnemar(item: ItemRow, k: int) -> Cell:
    if item.mcnemar_b is not None and item.mcnemar_c is not None:
        return Cell(f"{item.mcnemar_b} / {item.mcnemar_c}")
    return _withheld("size", k) if 0 < item.n_paired < k else _undefined()


def reliability_table(report: CourseReport, names: DisplayNames) -> TableView:
    k = report.min_cell_size
    notes = Footnotes()
    by_skill: dict[str, dict[str, ReliabilityRow]] = {}
    for row in report.reliability:
        by_skill.setdefault(row.skill, {})[row.phase] = row
    rows = []
    for skill, phases in by_skill.items():
        cells = [Cell(names.skill(skill), "text")]
        row_notes: list[str] = []
        items = DASH
        for phase in ("pre", "post"):
            found = phases.get(phase)
            if found is None:
                cells += [_undefined(), _undefined()]
                continue
            items = str(found.k)
            cells.append(Cell(str(found.n)))
            cells.append(_item_figure(found.kr20, fmt(found.kr20), found.n, k))
            row_notes += [f"{phase}: {note}" for note in found.notes]
        cells.insert(1, Cell(items))
        rows.append(Row(cells, notes.refs(row_notes), emphasis=skill == TOTAL))
    return TableView(
        id="reliability",
        title="Reliability of the knowledge test (KR-20)",
        caption="Kuder–Richardson 20 over the participants with every item of the skill. "
        "With few items per skill, values are low; read the total first.",
        headers=[
            ("Skill", "skill"),
            ("Items", "k"),
            ("n pre", "n (phase pre)"),
            ("KR-20 pre", "kr20 (phase pre)"),
            ("n post", "n (phase post)"),
            ("KR-20 post", "kr20 (phase post)"),
        ],
        rows=rows,
        notes=notes.texts,
    )


def feedback_tables(
    report: CourseReport, course: Course, names: DisplayNames
) -> tuple[list[TableView], list[str]]:
    k = report.min_cell_size
    by_item: dict[str, list[FeedbackLikertRow]] = {}
    for row in report.feedback.likert:
        by_item.setdefault(row.item, []).append(row)
    views, legends = [], []
    items = {item.id: item for item in course.items}
    for item_id, item_rows in by_item.items():
        item = items.get(item_id)
        scale = course.scale(item.scale) if item is not None else None
        points = (
            list(scale.points)
            if scale is not None
            else sorted({p for r in item_rows for p in (r.distribution or {})})
        )
        labels = {}
        if scale is not None:
            labels = {lab.value: course.localize(lab.text, report.lang) for lab in scale.labels}
            legend = "; ".join(f"{p} = {labels[p]}" for p in points if p in labels)
            if legend and legend not in legends:
                legends.append(legend)
        ordered = sorted(item_rows, key=lambda r: r.agency != ALL)
        rows = []
        for row in ordered:
            cells = [Cell(names.agency(row.agency), "text"), Cell(str(row.n))]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=len(points) + 2))
            elif row.distribution is None:
                cells.append(Cell("no answers", "undefined", None, len(points) + 2))
            else:
                cells += [Cell(str(row.distribution.get(p, 0))) for p in points]
                cells += [_num(fmt(row.mean)), _num(fmt_share(row.top_two_box))]
            rows.append(Row(cells, [], emphasis=row.agency == ALL))
        headers = [("Agency", "agency"), ("n", "n")]
        headers += [(str(p), f"n_{p}: {labels.get(p, '')}".rstrip(": ")) for p in points]
        headers += [("Mean", "mean"), ("Top two", "top_two_box")]
        views.append(
            TableView(
                id=f"feedback-{item_id}",
                title=names.item(item_id),
                caption=f"Item {item_id}: number of answers per point of the scale, mean, "
                "and share on the two highest points.",
                headers=headers,
                rows=rows,
                notes=[],
            )
        )
    return views, legends
