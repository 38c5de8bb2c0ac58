"""The report as an Excel workbook: the tables, native charts and the methods.

Sheets, in order:

* ``Summary``, ``Agency comparison``, ``Items``, ``Reliability``, ``Feedback``,
  ``Feedback texts``: the tables of `evalsvc.exports.tables`; row 1 holds exactly the
  column names of the CSV files and the JSON (hover a name for its meaning), frozen,
  with a filter. Numbers keep full precision; only their display is rounded (p-values
  3 decimals, knowledge scores and percentages 1, other statistics 2).
  Withheld figures are blank cells shaded grey in a row whose ``suppressed`` is TRUE;
  figures that are undefined for the data are blank and unshaded (``notes`` says why).
* ``Charts``: mean pre and post scores per skill and per agency, knowledge and
  confidence, as native column charts, with the data they plot. The whisker on each
  post bar is the 95% confidence interval of the paired mean gain placed on the pre
  mean (pre_mean + gain_ci_low .. pre_mean + gain_ci_high): when the whisker stays
  above the top of the pre bar, the interval of the gain excludes zero.
* ``Questions``: the items with their text and options (`tables.item_codebook`,
  without answer keys: the workbook may travel further than the analysts).
* ``Methods``: what the report is about, then `methods.methods_sections`.
* ``Codebook``: every column of every table.

Cells are written with ``write_string``/``write_number``/``write_boolean``/
``write_blank`` and the workbook converts no string to a formula, number or URL.
Text that a spreadsheet would take for a formula (`safe.is_dangerous`) is written
as a string with Excel's "quote prefix" (what Excel itself stores when one types
``'=1``): the cell shows the text exactly and stays text when edited.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import TYPE_CHECKING

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from evalsvc.domain.cohort import ALL
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports import methods, tables, xlsx_print
from evalsvc.exports.safe import is_dangerous

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

DATA_SHEETS = (
    ("Summary", "summary"),
    ("Agency comparison", "agency_comparison"),
    ("Items", "items"),
    ("Reliability", "reliability"),
    ("Feedback", "feedback"),
    ("Feedback texts", "feedback_texts"),
)
SHEET_NAMES = (
    "Summary",
    "Charts",
    "Agency comparison",
    "Items",
    "Reliability",
    "Feedback",
    "Feedback texts",
    "Questions",
    "Methods",
    "Codebook",
)

P_VALUES = frozenset(
    {
        "t_pvalue",
        "p_holm",
        "wilcoxon_pvalue",
        "welch_t_pvalue",
        "kruskal_pvalue",
        "welch_pvalue",
        "mcnemar_p",
    }
)
SHARES = frozenset({"p_pre", "p_post", "top_two_box"})
SCORES = frozenset(
    {
        "pre_mean",
        "post_mean",
        "pre_sd",
        "post_sd",
        "mean_gain",
        "gain_sd",
        "gain_ci_low",
        "gain_ci_high",
        "pre_mean_all",
        "post_mean_all",
    }
)
ONE_DECIMAL = frozenset({"welch_df2"})

FREEZE_COLUMNS = {"summary": 3, "agency_comparison": 2, "items": 1, "feedback": 2}
WRAPPED = {
    "feedback_texts": {"answer"},
    "codebook": {"meaning"},
    "items_codebook": {"text", "options"},
}
MIN_WIDTH, MAX_WIDTH, NUMBER_WIDTH = 6, 60, 9

PRE_COLOUR, POST_COLOUR = "#9DB9D3", "#0A58A6"


class _Formats:
    """The workbook's formats, made once and looked up by what a cell needs."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self._cache: dict[tuple[tuple[str, object], ...], Format] = {}
        self.header = self.get(bold=True, bottom=1, bg_color="#E8F1FB", valign="top")
        self.title = self.get(bold=True, font_size=14)
        self.heading = self.get(bold=True, font_size=12)
        self.label = self.get(bold=True, valign="top")
        self.paragraph = self.get(text_wrap=True, valign="top")

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

    @property
    def withheld(self) -> Format:
        return self.get(bg_color="#E5E7EB", pattern=1)


def workbook(report: CourseReport, course: Course) -> bytes:
    """The report as the bytes of an .xlsx file."""
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
            "title": f"{report.title}: evaluation report",
            "subject": report.course,
            "comments": "Written by evalsvc",
            "created": _created(report.generated_at),
        }
    )
    formats = _Formats(book)
    named = tables.report_tables(report, course)
    meanings = _meanings(named["codebook"])
    sheets = {name: book.add_worksheet(name) for name in SHEET_NAMES}

    for sheet_name, table_name in DATA_SHEETS:
        _table_sheet(sheets[sheet_name], table_name, named[table_name], formats, meanings)
    _charts_sheet(book, sheets["Charts"], report, formats)
    questions = tables.item_codebook(course, report.lang, answer_keys=False)
    _table_sheet(sheets["Questions"], "items_codebook", questions, formats, meanings)
    _methods_sheet(sheets["Methods"], report, formats)
    _table_sheet(sheets["Codebook"], "codebook", named["codebook"], formats, meanings)
    xlsx_print.set_print_layout(book, f"{report.title}: evaluation report")
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


# -- table sheets ------------------------------------------------------------------------


def _number_format(table: str, column: str, row: dict[str, tables.Cell]) -> str:
    if column in P_VALUES:
        return "0.000"
    if column in SHARES:
        return "0.0%"
    if column in SCORES:
        return "0.0" if row.get("measure") == "knowledge" else "0.00"
    if column in ONE_DECIMAL:
        return "0.0"
    return "0.00"


def _table_sheet(
    sheet: Worksheet,
    table_name: str,
    table: tables.Table,
    formats: _Formats,
    meanings: dict[tuple[str, str], str],
) -> None:
    columns = table.columns
    wrapped = WRAPPED.get(table_name, set())
    widths = [max(MIN_WIDTH, len(name) + 2) for name in columns]
    for c, name in enumerate(columns):
        sheet.write_string(0, c, name, formats.header)
        meaning = meanings.get((table_name, name))
        if meaning:
            sheet.write_comment(0, c, meaning, {"x_scale": 2, "y_scale": 1.5})
    has_suppressed = "suppressed" in columns
    for r, values in enumerate(table.rows, start=1):
        row = dict(zip(columns, values, strict=True))
        withheld = has_suppressed and row["suppressed"] is True
        for c, (name, value) in enumerate(row.items()):
            width = _write_cell(sheet, r, c, table_name, name, value, row, withheld, formats)
            widths[c] = max(widths[c], width)
    for c, name in enumerate(columns):
        width = min(widths[c], MAX_WIDTH)
        wrap = name in wrapped
        sheet.set_column(c, c, 80 if wrap else width)
    sheet.freeze_panes(1, FREEZE_COLUMNS.get(table_name, 0))
    if table.rows:
        sheet.autofilter(0, 0, len(table.rows), len(columns) - 1)


def _write_cell(
    sheet: Worksheet,
    r: int,
    c: int,
    table_name: str,
    name: str,
    value: tables.Cell,
    row: dict[str, tables.Cell],
    withheld: bool,
    formats: _Formats,
) -> int:
    """Write one cell; returns the width it would like."""
    if value is None or value == "":
        sheet.write_blank(r, c, None, formats.withheld if withheld and value is None else None)
        return 0
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
        return 6
    if isinstance(value, int):
        sheet.write_number(r, c, value)
        return len(str(value)) + 1
    if isinstance(value, float):
        if not math.isfinite(value):  # never in our tables; a blank beats a broken file
            sheet.write_blank(r, c, None)
            return 0
        sheet.write_number(r, c, value, formats.number(_number_format(table_name, name, row)))
        return NUMBER_WIDTH
    text = str(value)
    wrap = name in WRAPPED.get(table_name, set())
    sheet.write_string(r, c, text, formats.text(quote=is_dangerous(text), wrap=wrap))
    return len(text) + 1


# -- charts ----------------------------------------------------------------------------

CHART_COLUMNS = (
    "chart",
    "label",
    "n_paired",
    "suppressed",
    "pre_mean",
    "post_mean",
    "mean_gain",
    "gain_ci_low",
    "gain_ci_high",
    "whisker_plus",
    "whisker_minus",
)


def chart_rows(report: CourseReport, measure: str, by: str) -> list[tuple[str, SummaryRow | None]]:
    """(label, row) per skill of agency "all" (by="skill"), or per agency of skill
    "total" (by="agency"), then the pooled row; row None when the report lacks it."""
    rows = {(r.measure, r.agency, r.skill): r for r in report.summary.rows}
    if by == "skill":
        keys = [(s.name, (measure, ALL, s.id)) for s in report.skills]
        keys.append(("Total", (measure, ALL, TOTAL)))
    else:
        keys = [(a.name, (measure, a.id, TOTAL)) for a in report.agencies]
        keys.append(("All participants", (measure, ALL, TOTAL)))
    return [(label, rows.get(key)) for label, key in keys]


def _charts_sheet(
    book: xlsxwriter.Workbook, sheet: Worksheet, report: CourseReport, formats: _Formats
) -> None:
    for c, name in enumerate(CHART_COLUMNS):
        sheet.write_string(0, c, name, formats.header)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, len(CHART_COLUMNS) - 1, 11)
    sheet.freeze_panes(1, 0)
    r = 1
    anchor_row = 1
    for measure in ("knowledge", "confidence"):
        for by in ("skill", "agency"):
            chart_name = f"{measure} by {by}"
            first = r
            whiskers = []
            for label, row in chart_rows(report, measure, by):
                whiskers.append(_chart_data_row(sheet, r, chart_name, label, row, measure, formats))
                r += 1
            chart = _chart(book, chart_name, measure, first, r - 1, whiskers)
            sheet.insert_chart(anchor_row, len(CHART_COLUMNS) + 1, chart)
            anchor_row += 22
    note = (
        "Bars: mean pre and post scores of the paired participants. Whisker on the post "
        "bar: the 95% confidence interval of the paired mean gain, placed on the pre mean. "
        "Missing bars: figures withheld (fewer than min_cell_size people) or no data."
    )
    sheet.write_string(r + 1, 0, note)


def _chart_data_row(
    sheet: Worksheet,
    r: int,
    chart_name: str,
    label: str,
    row: SummaryRow | None,
    measure: str,
    formats: _Formats,
) -> tuple[float, float]:
    """Write one row of chart data; returns its whisker (plus, minus), 0 when none."""
    n = row.n_paired if row is not None else 0
    withheld = row is None or row.suppressed
    shown = f"{label} (n={n}{', withheld' if withheld and n else ''})"
    sheet.write_string(r, 0, chart_name)
    sheet.write_string(r, 1, shown, formats.text(quote=is_dangerous(shown), wrap=False))
    sheet.write_number(r, 2, n)
    sheet.write_boolean(r, 3, withheld)
    values: list[float | None] = [None] * 7
    if row is not None:
        gain, low, high = row.mean_gain, row.gain_ci_low, row.gain_ci_high
        values[:5] = [row.pre_mean, row.post_mean, gain, low, high]
        if gain is not None and low is not None and high is not None:
            values[5], values[6] = high - gain, gain - low
    pattern = formats.number("0.0" if measure == "knowledge" else "0.00")
    for offset, value in enumerate(values):
        if value is None:
            sheet.write_blank(r, 4 + offset, None, formats.withheld if withheld else None)
        else:
            sheet.write_number(r, 4 + offset, value, pattern)
    return (values[5] or 0.0, values[6] or 0.0)


def _chart(
    book: xlsxwriter.Workbook,
    chart_name: str,
    measure: str,
    first: int,
    last: int,
    whiskers: list[tuple[float, float]],
):
    chart = book.add_chart({"type": "column"})

    def ref(column: int) -> list[object]:
        return ["Charts", first, column, last, column]

    chart.add_series(
        {
            "name": "Before the course",
            "categories": ref(1),
            "values": ref(4),
            "fill": {"color": PRE_COLOUR},
            "border": {"none": True},
        }
    )
    chart.add_series(
        {
            "name": "After the course",
            "categories": ref(1),
            "values": ref(5),
            "fill": {"color": POST_COLOUR},
            "border": {"none": True},
            "y_error_bars": {
                "type": "custom",
                "plus_values": _range(first, last, 9),
                "minus_values": _range(first, last, 10),
                # cached values, for viewers that do not read the cells (LibreOffice)
                "plus_data": [plus for plus, _ in whiskers],
                "minus_data": [minus for _, minus in whiskers],
                "end_style": 1,
                "line": {"color": "#1A1A1A", "width": 1.25},
            },
        }
    )
    if measure == "knowledge":
        title, axis = "Knowledge", {"name": "Mean score (% of points)", "min": 0, "max": 100}
    else:
        title, axis = "Confidence", {"name": "Mean rating (1-5)", "min": 1, "max": 5}
    by = chart_name.split(" by ")[1]
    chart.set_title({"name": f"{title}: before and after, by {by}", "name_font": {"size": 12}})
    chart.set_y_axis({**axis, "major_gridlines": {"visible": True, "line": {"color": "#E5E7EB"}}})
    chart.set_x_axis({"num_font": {"size": 8}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    chart.set_chartarea({"border": {"none": True}})
    return chart


def _range(first: int, last: int, column: int) -> str:
    top = xlsxwriter.utility.xl_rowcol_to_cell(first, column, row_abs=True, col_abs=True)
    bottom = xlsxwriter.utility.xl_rowcol_to_cell(last, column, row_abs=True, col_abs=True)
    return f"=Charts!{top}:{bottom}"


# -- methods ---------------------------------------------------------------------------


def _methods_sheet(sheet: Worksheet, report: CourseReport, formats: _Formats) -> None:
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 110)
    _text(sheet, 0, 0, f"{report.title}: evaluation report", formats.title)
    facts: list[tuple[str, str | int]] = [
        ("course", report.course),
        ("title", report.title),
        ("language", report.lang),
        ("generated_at", report.generated_at),
        ("n_participants", report.n_participants),
        ("min_cell_size", report.min_cell_size),
    ]
    r = 2
    for label, value in facts:
        sheet.write_string(r, 0, label, formats.label)
        if isinstance(value, int):
            sheet.write_number(r, 1, value, formats.get(align="left"))
        else:
            _text(sheet, r, 1, value, None)
        r += 1
    for note in report.summary.notes:
        sheet.write_string(r, 0, "note", formats.label)
        _paragraph(sheet, r, note, formats)
        r += 1
    r += 1
    for section in methods.methods_sections(report.min_cell_size):
        _text(sheet, r, 1, section.title, formats.heading)
        r += 1
        for paragraph in section.paragraphs:
            _paragraph(sheet, r, paragraph, formats)
            r += 1
        r += 1


def _text(sheet: Worksheet, r: int, c: int, text: str, fmt: Format | None) -> None:
    if is_dangerous(text):
        raise ValueError(f"our own text must not look like a formula: {text[:40]!r}")
    sheet.write_string(r, c, text, fmt)


def _paragraph(sheet: Worksheet, r: int, text: str, formats: _Formats) -> None:
    """A wrapped paragraph in column B, with a row height that fits it."""
    fmt = (
        formats.paragraph
        if not is_dangerous(text)
        else formats.get(text_wrap=True, valign="top", quote_prefix=True)
    )
    sheet.write_string(r, 1, text, fmt)
    lines = max(1, math.ceil(len(text) / 120))
    sheet.set_row(r, 15 * lines + 2)
