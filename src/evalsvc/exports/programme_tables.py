"""A programme report flattened into named tables, the same in every format.

As `tables` does for a course: column names are the row structs' field names (in
English, whatever the report's language), key columns first; the codebook gives
every column's meaning and unit in the report's language (`report_i18n`), falling
back to English where a description has no translation yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from evalsvc.domain.indicators import IndicatorRow
from evalsvc.domain.programme_analysis import CourseCountRow
from evalsvc.domain.programme_summary import MetaRow, ProgrammeRow
from evalsvc.exports.report_i18n import R_, report_text
from evalsvc.exports.tables import (
    CODEBOOK_COLUMNS,
    Cell,
    Table,
    columns_of,
    struct_table,
)

if TYPE_CHECKING:
    from evalsvc.programme_reports import ProgrammeReport


class ProgrammeTable(NamedTuple):
    name: str
    title: str
    """Short English title, marked for translation."""
    row_type: type[msgspec.Struct] | None


PROGRAMME_TABLES: tuple[ProgrammeTable, ...] = (
    ProgrammeTable("indicators", R_("Indicators"), IndicatorRow),
    ProgrammeTable("summary", R_("Summary"), ProgrammeRow),
    ProgrammeTable("meta", R_("Meta-analysis"), MetaRow),
    ProgrammeTable("course_counts", R_("Courses"), CourseCountRow),
    ProgrammeTable("codebook", R_("Codebook"), None),
)
PROGRAMME_TABLE_NAMES = tuple(t.name for t in PROGRAMME_TABLES)

UNIT_WORDS = {
    "measure": R_("in the row's measure (percent of points, or scale points)"),
    "gain": R_("difference in the row's measure (percentage points or scale points)"),
    "value": R_("in the item's own unit"),
    "people": R_("people"),
    "count": R_("answers"),
    "share": R_("proportion (0-1)"),
    "p": R_("p-value (0-1)"),
    "effect": R_("standardized effect size, correlation or ratio"),
    "statistic": R_("test statistic"),
    "df": R_("degrees of freedom"),
    "text": R_("text"),
    "key": R_("identifier"),
}


def struct_rows(report: ProgrammeReport) -> dict[str, Sequence[msgspec.Struct]]:
    analysis = report.analysis
    return {
        "indicators": analysis.indicators,
        "summary": analysis.summary,
        "meta": analysis.meta,
        "course_counts": analysis.course_counts,
    }


def programme_tables(report: ProgrammeReport) -> dict[str, Table]:
    rows_of = struct_rows(report)
    tables: dict[str, Table] = {}
    for spec in PROGRAMME_TABLES:
        if spec.row_type is not None:
            tables[spec.name] = struct_table(spec.row_type, rows_of[spec.name])
    tables["codebook"] = codebook(report.lang)
    return tables


def codebook(lang: str) -> Table:
    """Name, table, meaning and unit of every column, in the report's language."""
    tr = report_text(lang if lang in ("en", "ru", "kk") else "en")
    rows: list[tuple[Cell, ...]] = []
    for spec in PROGRAMME_TABLES:
        if spec.row_type is None:
            continue
        for column in columns_of(spec.row_type):
            rows.append(
                (column.name, spec.name, tr(column.description), tr(UNIT_WORDS[column.unit]))
            )
    return Table(tuple(c.name for c in CODEBOOK_COLUMNS), rows)
