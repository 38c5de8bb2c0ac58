"""The workbook's Charts sheet: native column charts with the data they plot.

One chart per measure and comparison, of all participants by skill (and the total):
the mean in the comparison's from phase and in its to phase, with a whisker on the to
bar spanning ``from_mean + gain_ci_low`` to ``from_mean + gain_ci_high`` (the 95%
interval of the mean gain placed on the from mean; when it stays above the top of the
from bar, the interval excludes no change). The value axis runs over the measure's
range from the course. Withheld figures are blank and their row says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from evalsvc.domain.design import Comparison, Measure
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import excel_format, withheld_words
from evalsvc.exports.lookup import SummaryIndex
from evalsvc.exports.report_i18n import tr
from evalsvc.exports.safe import is_dangerous

if TYPE_CHECKING:
    from xlsxwriter.format import Format

    from evalsvc.reports import CourseReport

SHEET = "Charts"
CHART_COLUMNS = (
    "chart",
    "skill",
    "n_paired",
    "withheld",
    "from_mean",
    "to_mean",
    "mean_gain",
    "gain_ci_low",
    "gain_ci_high",
    "whisker_plus",
    "whisker_minus",
)
FROM_COLOUR, TO_COLOUR = "#9DB9D3", "#0A58A6"
ROWS_PER_CHART = 22


class _Formats(Protocol):
    header: Format
    withheld: Format

    def number(self, pattern: str) -> Format: ...

    def text(self, *, quote: bool, wrap: bool) -> Format | None: ...


def charts_sheet(
    book: xlsxwriter.Workbook,
    sheet: Worksheet,
    report: CourseReport,
    names: DisplayNames,
    formats: _Formats,
) -> None:
    for c, name in enumerate(CHART_COLUMNS):
        sheet.write_string(0, c, name, formats.header)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, len(CHART_COLUMNS) - 1, 12)
    sheet.freeze_panes(1, 0)
    index = SummaryIndex(report.analysis.summary)
    k = report.min_cell_size
    r = 1
    anchor = 1
    for measure in report.design.measures:
        for comparison in report.design.comparisons:
            title = _title(measure, comparison, names)
            first = r
            whiskers = []
            for skill in report.design.skills:
                row = index.get(measure.id, comparison.id, skill=skill)
                whiskers.append(
                    _data_row(sheet, r, title, names.skill(skill), row, measure, k, formats)
                )
                r += 1
            chart = _chart(book, title, measure, comparison, names, first, r - 1, whiskers)
            sheet.insert_chart(anchor, len(CHART_COLUMNS) + 1, chart)
            anchor += ROWS_PER_CHART
    note = tr(
        "Bars: mean scores of the people who answered both phases of the comparison. "
        "Whisker on the second bar: the 95% confidence interval of the mean gain, placed on "
        "the first mean. Missing bars: figures withheld (see the withheld column) or no data."
    )
    sheet.write_string(r + 1, 0, note)


def _title(measure: Measure, comparison: Comparison, names: DisplayNames) -> str:
    title = tr(
        "%(measure)s: %(comparison)s, all participants",
        measure=names.measure(measure.id),
        comparison=names.comparison(comparison),
    )
    return title if measure.higher_is_better else f"{title} ({names.direction(measure)})"


def _data_row(
    sheet: Worksheet,
    r: int,
    title: str,
    label: str,
    row: SummaryRow | None,
    measure: Measure,
    k: int,
    formats: _Formats,
) -> tuple[float, float]:
    """Write one row of chart data; returns its whisker (plus, minus), 0 when none."""
    n = row.n_paired if row is not None else 0
    reason = next(iter(row.withheld.values()), None) if row is not None else None
    for c, text in ((0, title), (1, label)):
        sheet.write_string(r, c, text, formats.text(quote=is_dangerous(text), wrap=False))
    sheet.write_number(r, 2, n)
    if reason is not None:
        sheet.write_string(r, 3, withheld_words(reason, k))
    else:
        sheet.write_blank(r, 3, None)
    values: list[float | None] = [None] * 7
    if row is not None:
        gain, low, high = row.mean_gain, row.gain_ci_low, row.gain_ci_high
        values[:5] = [row.from_mean, row.to_mean, gain, low, high]
        if gain is not None and low is not None and high is not None:
            values[5], values[6] = high - gain, gain - low
    pattern = formats.number(excel_format("measure", measure))
    for offset, value in enumerate(values):
        if value is None:
            sheet.write_blank(r, 4 + offset, None, formats.withheld if reason else None)
        else:
            sheet.write_number(r, 4 + offset, value, pattern)
    return (values[5] or 0.0, values[6] or 0.0)


def _chart(
    book: xlsxwriter.Workbook,
    title: str,
    measure: Measure,
    comparison: Comparison,
    names: DisplayNames,
    first: int,
    last: int,
    whiskers: list[tuple[float, float]],
) -> Chart:
    chart = book.add_chart({"type": "column"})
    assert chart is not None

    def ref(column: int) -> list[object]:
        return [SHEET, first, column, last, column]

    chart.add_series(
        {
            "name": names.phase(comparison.from_phase),
            "categories": ref(1),
            "values": ref(4),
            "fill": {"color": FROM_COLOUR},
            "border": {"none": True},
        }
    )
    chart.add_series(
        {
            "name": names.phase(comparison.to_phase),
            "categories": ref(1),
            "values": ref(5),
            "fill": {"color": TO_COLOUR},
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
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_y_axis(
        {
            "name": tr("Mean, %(unit)s", unit=names.unit(measure)),
            "min": measure.minimum,
            "max": measure.maximum,
            "major_gridlines": {"visible": True, "line": {"color": "#E5E7EB"}},
        }
    )
    chart.set_x_axis({"num_font": {"size": 8}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    chart.set_chartarea({"border": {"none": True}})
    return chart


def _range(first: int, last: int, column: int) -> str:
    top = xlsxwriter.utility.xl_rowcol_to_cell(first, column, row_abs=True, col_abs=True)
    bottom = xlsxwriter.utility.xl_rowcol_to_cell(last, column, row_abs=True, col_abs=True)
    return f"={SHEET}!{top}:{bottom}"
