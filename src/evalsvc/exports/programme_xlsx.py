"""The programme report as an Excel workbook, in the report's language.

Sheets: ``Indicators``, ``Summary``, ``Meta-analysis``, ``Forest`` (native forest
plots with the data they plot), ``Heat map`` (mean gains by agency type and skill,
with a colour scale *and* the numbers, withheld cells blank and grey), ``Courses``,
``Methods`` and ``Codebook``. Sheet tabs and row 1 keep the machine names (the same
column names as the CSV files and the JSON); titles, the methods and the codebook's
meanings are in the report's language, falling back to English text by text.
Cells follow the course workbook's rules (`xlsx_export`): full precision, display
rounded by the column's unit, withheld figures blank and grey, text never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from evalsvc.domain.design import ALL, Design, Measure
from evalsvc.domain.programme import AGENCY_TYPE
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports import xlsx_print
from evalsvc.exports.formatting import excel_format
from evalsvc.exports.html_programme import course_labels
from evalsvc.exports.programme_methods import methods_sections
from evalsvc.exports.programme_tables import (
    PROGRAMME_TABLES,
    programme_tables,
    struct_rows,
)
from evalsvc.exports.report_i18n import tr as speaker
from evalsvc.exports.report_i18n import using
from evalsvc.exports.safe import is_dangerous
from evalsvc.exports.svg_forest import normal_interval
from evalsvc.exports.tables import Table, columns_of
from evalsvc.exports.xlsx_export import Formats, TableSheet, _created, _paragraph

if TYPE_CHECKING:
    from evalsvc.programme_reports import ProgrammeReport

SHEETS = {
    "indicators": "Indicators",
    "summary": "Summary",
    "meta": "Meta-analysis",
    "course_counts": "Courses",
    "codebook": "Codebook",
}
FOREST, HEAT, METHODS = "Forest", "Heat map", "Methods"
FOREST_COLUMNS = (
    "chart",
    "label",
    "y",
    "estimate",
    "ci_low",
    "ci_high",
    "minus",
    "plus",
    "weight",
)


class _Sheet(TableSheet):
    """`TableSheet` for a programme table: units from the table's row struct."""

    def __init__(
        self,
        sheet: Worksheet,
        name: str,
        table: Table,
        formats: Formats,
        meanings: Mapping[tuple[str, str], str],
        design: Design,
        row_type: type[msgspec.Struct] | None,
    ) -> None:
        self.sheet = sheet
        self.name = name
        self.table = table
        self.formats = formats
        self.meanings = meanings
        self.measures: dict[str, Measure] = {m.id: m for m in design.measures}
        self.units = (
            {c.name: c.unit for c in columns_of(row_type)}
            if row_type is not None
            else dict.fromkeys(table.columns, "text")
        )


def programme_workbook(report: ProgrammeReport) -> bytes:
    with using(report.lang):
        return _programme_workbook(report)


def _programme_workbook(report: ProgrammeReport) -> bytes:
    tr = speaker
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    title = f"{report.title}: {tr('Programme evaluation report')}"
    book.set_properties(
        {
            "title": title,
            "subject": report.programme,
            "comments": "Written by evalsvc",
            "created": _created(report.generated_at),
        }
    )
    formats = Formats(book)
    named = programme_tables(report)
    structs = struct_rows(report)
    meanings = {(str(r[1]), str(r[0])): f"{r[2]} [{r[3]}]" for r in named["codebook"].rows}
    order = ["indicators", "summary", "meta", FOREST, HEAT, "course_counts", METHODS, "codebook"]
    sheets = {key: book.add_worksheet(SHEETS.get(key, key)) for key in order}
    for spec in PROGRAMME_TABLES:
        _Sheet(
            sheets[spec.name],
            spec.name,
            named[spec.name],
            formats,
            meanings,
            report.design,
            spec.row_type,
        ).write(structs.get(spec.name))
    _forest_sheet(book, sheets[FOREST], report, formats)
    _heat_sheet(sheets[HEAT], report, formats)
    _methods_sheet(sheets[METHODS], report, formats)
    xlsx_print.set_print_layout(book, title)
    book.close()
    return output.getvalue()


def _forest_sheet(
    book: xlsxwriter.Workbook, sheet: Worksheet, report: ProgrammeReport, formats: Formats
) -> None:
    """One native forest plot per measure and skill, for the first comparison: a
    scatter of the courses' mean gains at rows y = 1, 2, ... with their intervals as
    horizontal error bars, labelled with the course names; the pooled estimate below."""
    tr = speaker
    for c, name in enumerate(FOREST_COLUMNS):
        sheet.write_string(0, c, name, formats.header)
    sheet.set_column(0, 1, 34)
    sheet.set_column(2, len(FOREST_COLUMNS) - 1, 11)
    sheet.freeze_panes(1, 0)
    if not report.design.comparisons:
        return
    comparison = report.design.comparisons[0]
    labels = course_labels(report)
    skills = {s.id: s.name for s in report.skills} | {TOTAL: tr("Total (all skills)")}
    r = 1
    anchor = 1
    for measure in report.design.measures:
        fmt = formats.number(excel_format("gain", measure))
        for skill in report.design.skills:
            meta = next(
                (
                    m
                    for m in report.analysis.meta
                    if (m.measure, m.comparison, m.skill) == (measure.id, comparison.id, skill)
                ),
                None,
            )
            if meta is None or meta.k == 0:
                continue
            chart_name = f"{measure.id} {comparison.id} {skill}"
            first = r
            weights = dict(zip(meta.courses, meta.weights, strict=True))
            y = 0
            plotted: list[tuple[float, float, float]] = []
            for course_id in meta.courses:
                row = next(
                    x
                    for x in report.analysis.summary
                    if x.scope == "course"
                    and x.course == course_id
                    and (x.measure, x.comparison, x.skill) == (measure.id, comparison.id, skill)
                )
                assert row.mean_gain is not None and row.gain_sd is not None
                low, high = normal_interval(row.mean_gain, row.gain_sd, row.n_paired)
                y += 1
                label = labels[course_id]
                _forest_row(sheet, r, chart_name, label, -y, row.mean_gain, low, high,
                            weights.get(course_id), fmt, formats)  # fmt: skip
                plotted.append((row.mean_gain, low, high))
                r += 1
            if meta.estimate is not None and meta.ci_low is not None and meta.ci_high is not None:
                _forest_row(sheet, r, chart_name, tr("Pooled (random effects, %(method)s)",
                            method=meta.method), -(y + 1.5), meta.estimate, meta.ci_low,
                            meta.ci_high, None, fmt, formats)  # fmt: skip
                plotted.append((meta.estimate, meta.ci_low, meta.ci_high))
                r += 1
            last = r - 1
            chart = book.add_chart({"type": "scatter"})
            chart.add_series(
                {
                    "name": tr("Mean gain"),
                    "categories": [sheet.name, first, 3, last, 3],
                    "values": [sheet.name, first, 2, last, 2],
                    "marker": {"type": "square", "size": 7, "fill": {"color": "#0A58A6"}},
                    "x_error_bars": {
                        "type": "custom",
                        "plus_values": _range(sheet.name, first, last, 7),
                        "minus_values": _range(sheet.name, first, last, 6),
                        # cached values, for viewers that do not read the cells
                        "plus_data": [high - est for est, _, high in plotted],
                        "minus_data": [est - low for est, low, _ in plotted],
                        "end_style": 1,
                        "line": {"color": "#1A1A1A", "width": 1.25},
                    },
                    "data_labels": {
                        "custom": [
                            {"value": f"='{sheet.name}'!$B${row + 1}"}
                            for row in range(first, last + 1)
                        ],
                        "position": "left",
                    },
                }
            )
            chart.set_title(
                {
                    "name": f"{tr(measure.label)}: {skills.get(skill, skill)}",
                    "name_font": {"size": 11},
                }
            )
            chart.set_x_axis(
                {
                    "name": tr("Mean gain, %(unit)s", unit=tr(measure.gain_unit)),
                    "major_gridlines": {"visible": True, "line": {"color": "#D1D5DB"}},
                    "crossing": "min",
                }
            )
            chart.set_y_axis({"visible": False, "major_gridlines": {"visible": False}})
            chart.set_legend({"none": True})
            chart.set_size({"width": 640, "height": 90 + 36 * (last - first + 1)})
            sheet.insert_chart(anchor, len(FOREST_COLUMNS) + 1, chart)
            anchor = max(anchor + 6 + 2 * (last - first + 1), r + 1)
            r += 1


def _range(sheet: str, first: int, last: int, column: int) -> str:
    top = xl_rowcol_to_cell(first, column, row_abs=True, col_abs=True)
    bottom = xl_rowcol_to_cell(last, column, row_abs=True, col_abs=True)
    return f"='{sheet}'!{top}:{bottom}"


def _forest_row(
    sheet: Worksheet,
    r: int,
    chart: str,
    label: str,
    y: float,
    estimate: float,
    low: float,
    high: float,
    weight: float | None,
    fmt: object,
    formats: Formats,
) -> None:
    sheet.write_string(r, 0, chart)
    sheet.write_string(r, 1, label, formats.text(quote=is_dangerous(label), wrap=False))
    sheet.write_number(r, 2, y)
    for c, value in ((3, estimate), (4, low), (5, high), (6, estimate - low), (7, high - estimate)):
        sheet.write_number(r, c, value, fmt)
    if weight is not None:
        sheet.write_number(r, 8, weight, formats.number("0.0%"))


def _heat_sheet(sheet: Worksheet, report: ProgrammeReport, formats: Formats) -> None:
    """Mean gains by agency type (rows) and skill (columns) per measure, first comparison:
    numbers with a colour scale; withheld cells blank, grey, with the reason beside."""
    tr = speaker
    if not report.design.comparisons:
        return
    comparison = report.design.comparisons[0]
    skills = [(s.id, s.name) for s in report.skills] + [(TOTAL, tr("Total (all skills)"))]
    groups = [(ALL, ALL, tr("All participants"))] + [
        (AGENCY_TYPE, g.id, g.name) for g in report.groups.get(AGENCY_TYPE, [])
    ]
    index = {
        (r.measure, r.breakdown, r.group, r.skill): r
        for r in report.analysis.summary
        if r.scope == "pooled" and r.comparison == comparison.id
    }
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, len(skills), 16)
    r = 0
    for measure in report.design.measures:
        heading = tr(
            "%(measure)s: mean gain (%(comparison)s)",
            measure=tr(measure.label),
            comparison=comparison.id,
        )
        sheet.write_string(r, 0, heading, formats.heading)
        r += 1
        sheet.write_string(r, 0, "group", formats.header)
        for c, (_, name) in enumerate(skills, start=1):
            sheet.write_string(r, c, name, formats.header)
        top = r + 1
        fmt = formats.number(excel_format("gain", measure))
        for kind, group, name in groups:
            r += 1
            sheet.write_string(r, 0, name, formats.text(quote=is_dangerous(name), wrap=False))
            for c, (skill, _) in enumerate(skills, start=1):
                row = index.get((measure.id, kind, group, skill))
                if row is None or row.n_paired == 0 or row.mean_gain is None:
                    sheet.write_blank(
                        r, c, None, formats.withheld if row and row.withheld else None
                    )
                else:
                    sheet.write_number(r, c, row.mean_gain, fmt)
        low_colour, high_colour = ("#F97316", "#2563EB")
        if not measure.higher_is_better:
            low_colour, high_colour = high_colour, low_colour
        sheet.conditional_format(
            top,
            1,
            r,
            len(skills),
            {
                "type": "3_color_scale",
                "min_color": low_colour,
                "mid_type": "num",
                "mid_value": 0,
                "mid_color": "#F8FAFC",
                "max_color": high_colour,
            },
        )
        r += 2
    sheet.write_string(
        r,
        0,
        tr("Blank grey cells are withheld; the colour follows the number written in each cell."),
    )


def _methods_sheet(sheet: Worksheet, report: ProgrammeReport, formats: Formats) -> None:
    tr = speaker
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 110)
    sheet.write_string(0, 0, f"{report.title}: {tr('Programme evaluation report')}", formats.title)
    facts: Sequence[tuple[str, str | int]] = (
        ("programme", report.programme),
        ("language", report.lang),
        ("generated_at", report.generated_at),
        ("n_participants", report.analysis.n_participants),
        ("min_cell_size", report.min_cell_size),
        ("verified", "yes" if report.analysis.disclosure.verified else "no"),
    )
    r = 2
    for label, value in facts:
        sheet.write_string(r, 0, label, formats.label)
        if isinstance(value, int):
            sheet.write_number(r, 1, value, formats.get(align="left"))
        else:
            _paragraph(sheet, r, value, formats)
        r += 1
    for note in report.analysis.notes:
        sheet.write_string(r, 0, "note", formats.label)
        _paragraph(sheet, r, note, formats)
        r += 1
    r += 1
    for section in methods_sections(report, tr):
        sheet.write_string(r, 1, section.title, formats.heading)
        r += 1
        for paragraph in section.paragraphs:
            marker = (
                ""
                if paragraph.lang == report.lang
                else f" ({tr('Not yet translated: shown in English.')})"
            )
            _paragraph(sheet, r, paragraph.text + marker, formats)
            r += 1
        r += 1
