"""The report as an Excel workbook: the tables, native charts and the methods.

Sheets, in order: one per table of `tables.TABLES` (titled as there), with
``Charts`` after ``Summary``, and ``Questions`` (the items with their text and
options, `tables.item_codebook` without answer keys: the workbook may travel further
than the analysts) and ``Methods`` before the closing ``Codebook``.

* Row 1 of a table sheet holds exactly the column names of the CSV files and the JSON
  (`tables.report_tables`), each with its meaning as a comment; it is frozen with the
  key columns, and filtered.
* Numbers keep full precision; only their display is rounded, by the column's unit
  and the row's measure (`formatting.excel_format`: nothing is set per column name).
* A withheld figure (named in the row's ``withheld`` reasons) is a blank cell shaded
  grey; a figure undefined for the data is blank and unshaded (``notes`` says why).
* Text columns wrap; text that a spreadsheet would take for a formula
  (`safe.is_dangerous`) is written as a string with Excel's "quote prefix" (what
  Excel itself stores when one types ``'=1``): the cell shows the text exactly and
  stays text when edited. The workbook converts no string to a formula, number or URL.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from evalsvc.domain.design import Design, Measure
from evalsvc.domain.questionnaire import Course
from evalsvc.exports import methods, tables, xlsx_print
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import excel_format
from evalsvc.exports.plain_language import in_brief
from evalsvc.exports.report_i18n import current, tr, untranslated_note, using
from evalsvc.exports.safe import is_dangerous
from evalsvc.exports.xlsx_charts import charts_sheet

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

CHARTS, QUESTIONS, METHODS = "Charts", "Questions", "Methods"
TABLE_SHEETS = tuple((spec.title, spec.name) for spec in tables.TABLES)
"""(sheet, table) of every table sheet."""
SHEET_NAMES = (
    TABLE_SHEETS[0][0],
    CHARTS,
    *(title for title, name in TABLE_SHEETS[1:] if name != "codebook"),
    QUESTIONS,
    METHODS,
    *(title for title, name in TABLE_SHEETS if name == "codebook"),
)
MIN_WIDTH, TEXT_WIDTH, NUMBER_WIDTH = 6, 50, 9
WITHHELD_FILL = "#E5E7EB"


class Formats:
    """The workbook's formats, made once and looked up by what a cell needs."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self._cache: dict[tuple[tuple[str, object], ...], Format] = {}
        self.header = self.get(bold=True, bottom=1, bg_color="#E8F1FB", valign="top")
        self.title = self.get(bold=True, font_size=14)
        self.heading = self.get(bold=True, font_size=12)
        self.label = self.get(bold=True, valign="top")
        self.withheld = self.get(bg_color=WITHHELD_FILL, pattern=1)

    def get(self, **properties: object) -> Format:
        key = tuple(sorted(properties.items()))
        if key not in self._cache:
            self._cache[key] = self.book.add_format(dict(properties))
        return self._cache[key]

    def number(self, pattern: str) -> Format:
        return self.get(num_format=pattern)

    def text(self, *, quote: bool, wrap: bool) -> Format | None:
        properties: dict[str, object] = {}
        if quote:
            properties["quote_prefix"] = True
        if wrap:
            properties.update(text_wrap=True, valign="top")
        return self.get(**properties) if properties else None


def workbook(report: CourseReport, course: Course) -> bytes:
    """The report as the bytes of an .xlsx file, in the report's language (titles,
    meanings, methods); sheet names and row 1 keep the machine names."""
    with using(report.lang):
        return _workbook(report, course)


def _workbook(report: CourseReport, course: Course) -> bytes:
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
    book.set_properties(
        {
            "title": f"{report.title}: {tr('evaluation report')}",
            "subject": report.course,
            "comments": "Written by evalsvc",
            "created": _created(report.generated_at),
        }
    )
    formats = Formats(book)
    named = tables.report_tables(report)
    structs = tables.struct_rows(report)
    meanings = _meanings(named["codebook"])
    sheets = {name: book.add_worksheet(name) for name in SHEET_NAMES}
    for title, name in TABLE_SHEETS:
        TableSheet(sheets[title], name, named[name], formats, meanings, report.design).write(
            structs.get(name)
        )
    names = DisplayNames(report, course)
    charts_sheet(book, sheets[CHARTS], report, names, formats)
    questions = tables.item_codebook(course, report.lang, answer_keys=False)
    TableSheet(
        sheets[QUESTIONS], "items_codebook", questions, formats, meanings, report.design
    ).write(None)
    _methods_sheet(sheets[METHODS], report, course, names, formats)
    xlsx_print.set_print_layout(book, f"{report.title}: {tr('evaluation report')}")
    book.close()
    return output.getvalue()


def _created(stamp: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _meanings(codebook: tables.Table) -> dict[tuple[str, str], str]:
    """(table, column) -> "meaning [unit]" for the header comments."""
    return {(str(r[1]), str(r[0])): f"{r[2]} [{r[3]}]" for r in codebook.rows}


def column_units(table_name: str) -> dict[str, str]:
    """Column name -> unit, from the table's row struct or its hand-made columns."""
    return {column.name: column.unit for column in tables.described_columns(table_name)}


class TableSheet:
    """One table on one sheet (see the module docstring)."""

    def __init__(
        self,
        sheet: Worksheet,
        name: str,
        table: tables.Table,
        formats: Formats,
        meanings: Mapping[tuple[str, str], str],
        design: Design,
    ) -> None:
        self.sheet = sheet
        self.name = name
        self.table = table
        self.formats = formats
        self.meanings = meanings
        self.measures: dict[str, Measure] = {m.id: m for m in design.measures}
        self.units = column_units(name)

    def write(self, structs: Sequence[msgspec.Struct] | None) -> None:
        columns = self.table.columns
        widths = [max(MIN_WIDTH, len(name) + 2) for name in columns]
        for c, name in enumerate(columns):
            self.sheet.write_string(0, c, name, self.formats.header)
            meaning = self.meanings.get((self.name, name))
            if meaning:
                self.sheet.write_comment(0, c, meaning, {"x_scale": 2, "y_scale": 1.5})
        for r, values in enumerate(self.table.rows, start=1):
            source = structs[r - 1] if structs is not None else None
            withheld: Mapping[str, str] = getattr(source, "withheld", None) or {}
            row = dict(zip(columns, values, strict=True))
            measure = self.measures.get(str(row.get("measure")))
            for c, (name, value) in enumerate(row.items()):
                width = self._cell(r, c, name, value, measure, name in withheld)
                widths[c] = max(widths[c], width)
        for c, name in enumerate(columns):
            wrap = self.units.get(name) == "text"
            self.sheet.set_column(c, c, TEXT_WIDTH if wrap else min(widths[c], TEXT_WIDTH))
        keys = 0
        while keys < len(columns) and self.units.get(columns[keys]) == "key":
            keys += 1
        self.sheet.freeze_panes(1, keys)
        if self.table.rows:
            self.sheet.autofilter(0, 0, len(self.table.rows), len(columns) - 1)

    def _cell(
        self,
        r: int,
        c: int,
        name: str,
        value: tables.Cell,
        measure: Measure | None,
        withheld: bool,
    ) -> int:
        """Write one cell; returns the width it would like."""
        sheet = self.sheet
        if value is None or value == "":
            sheet.write_blank(r, c, None, self.formats.withheld if withheld else None)
            return 0
        if isinstance(value, bool):
            sheet.write_boolean(r, c, value)
            return 6
        unit = self.units.get(name, "value")
        if isinstance(value, int):
            sheet.write_number(r, c, value, self.formats.number(excel_format(unit, whole=True)))
            return len(str(value)) + 1
        if isinstance(value, float):
            if not math.isfinite(value):  # never in our tables; a blank beats a broken file
                sheet.write_blank(r, c, None)
                return 0
            sheet.write_number(r, c, value, self.formats.number(excel_format(unit, measure)))
            return NUMBER_WIDTH
        text = str(value)
        wrap = unit == "text"
        sheet.write_string(r, c, text, self.formats.text(quote=is_dangerous(text), wrap=wrap))
        return len(text) + 1


# -- methods ---------------------------------------------------------------------------


def _methods_sheet(
    sheet: Worksheet,
    report: CourseReport,
    course: Course,
    names: DisplayNames,
    formats: Formats,
) -> None:
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 110)
    _text(sheet, 0, 0, f"{report.title}: {tr('evaluation report')}", formats.title)
    facts: list[tuple[str, str | int]] = [
        ("course", report.course),
        ("title", report.title),
        ("language", report.lang),
        ("generated_at", report.generated_at),
        ("n_participants", report.analysis.n_participants),
        ("min_cell_size", report.min_cell_size),
        ("scored_under_other_rules", report.scoring.other_rules),  # as in the JSON
    ]
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
    _text(sheet, r, 1, tr("In brief"), formats.heading)
    r += 1
    marker = " (" + untranslated_note(current()) + ")"
    for paragraph in in_brief(report, names):
        if paragraph.heading:
            sheet.write_string(r, 0, paragraph.heading, formats.get(bold=True, text_wrap=True))
        text = paragraph.text + (marker if paragraph.lang else "")
        _paragraph(sheet, r, text, formats)
        r += 1
    r += 1
    for section in methods.methods_sections(report, course):
        _text(sheet, r, 1, section.title, formats.heading)
        r += 1
        langs = section.langs or (report.lang,) * len(section.paragraphs)
        for text, lang in zip(section.paragraphs, langs, strict=True):
            _paragraph(sheet, r, text + (marker if lang != report.lang else ""), formats)
            r += 1
        r += 1


def _text(sheet: Worksheet, r: int, c: int, text: str, fmt: Format | None) -> None:
    if is_dangerous(text):
        raise ValueError(f"our own text must not look like a formula: {text[:40]!r}")
    sheet.write_string(r, c, text, fmt)


def _paragraph(sheet: Worksheet, r: int, text: str, formats: Formats) -> None:
    """A wrapped paragraph in column B, with a row height that fits it."""
    fmt = formats.get(text_wrap=True, valign="top", quote_prefix=is_dangerous(text))
    sheet.write_string(r, 1, text, fmt)
    lines = max(1, math.ceil(len(text) / 120))
    sheet.set_row(r, 15 * lines + 2)
