"""Print layout of report.xlsx, read back with openpyxl: A4, print areas, fit to width,
and page breaks that keep every chart whole on one page."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from evalsvc import commands

COURSE = "salw-nexus-kz-2024"


@pytest.fixture
def workbook(bundled_settings, tmp_path):
    commands.demo(bundled_settings, COURSE, 30, 5, if_empty=False)
    out = tmp_path / "report.xlsx"
    commands.write_report(bundled_settings, COURSE, "xlsx", out, lang="ru")
    return openpyxl.load_workbook(out)


def print_box(sheet) -> tuple[int, int, int, int]:
    """(first col, first row, last col, last row), 0-based, of the print area."""
    area = sheet.print_area.split("!")[-1].replace("$", "")
    min_col, min_row, max_col, max_row = range_boundaries(area)
    return min_col - 1, min_row - 1, max_col - 1, max_row - 1


def test_every_sheet_prints_on_a4_landscape_with_title_and_page_numbers(workbook) -> None:
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert int(setup.paperSize) == 9, sheet.title  # A4
        assert setup.orientation == "landscape", sheet.title
        assert sheet.print_area, sheet.title
        assert "Оперативные меры" in sheet.oddHeader.left.text, sheet.title
        assert sheet.oddFooter.center.text == "Page &P of &N"
        last_col, last_row = print_box(sheet)[2:]
        assert last_row + 1 >= sheet.max_row and last_col + 1 >= sheet.max_column, sheet.title


def test_each_chart_prints_whole_on_its_own_page(workbook) -> None:
    sheet = workbook["Charts"]
    charts = sorted(sheet._charts, key=lambda chart: chart.anchor._from.row)
    assert len(charts) == 3 * 3  # per measure and comparison of the bundled course
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default, left unwritten
    assert sheet.page_setup.fitToHeight == 0  # as many pages tall as needed
    breaks = sorted(brk.id for brk in sheet.row_breaks.brk)  # a break above row id
    first_col, first_row, last_col, last_row = print_box(sheet)
    assert len(breaks) == len(charts) - 1
    edges = [first_row, *breaks, last_row + 1]
    pages = list(zip(edges, edges[1:], strict=False))
    for chart in charts:
        top, bottom = chart.anchor._from.row, chart.anchor.to.row
        page = [start <= top < end for start, end in pages].index(True)
        start, end = pages[page]
        assert bottom < end, f"chart rows {top}-{bottom} cross the page break at {end}"
        assert first_col <= chart.anchor._from.col and chart.anchor.to.col <= last_col
    # one chart per page
    on_page = [[s <= c.anchor._from.row < e for s, e in pages].index(True) for c in charts]
    assert on_page == list(range(len(charts)))


def test_tables_repeat_their_header_and_fit_or_repeat_key_columns(workbook) -> None:
    for name in ("Group comparisons", "Items", "Reliability", "Answers", "Questions"):
        sheet = workbook[name]
        assert sheet.print_title_rows == "$1:$1", name
        # narrow enough: one page wide; else it flows with its key columns repeated
        fits = bool(sheet.sheet_properties.pageSetUpPr.fitToPage)
        assert fits or sheet.print_title_cols, name
    summary = workbook["Summary"]  # too wide to shrink onto one page: key columns repeat
    assert summary.print_title_rows == "$1:$1"
    assert summary.print_title_cols == "$A:$G"  # measure, comparison ... group, skill
