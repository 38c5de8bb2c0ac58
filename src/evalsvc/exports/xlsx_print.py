"""Print layout of the report workbook: what comes out of the printer from Excel or
LibreOffice.

`set_print_layout` is called once the sheets are written, and sets on every sheet:

* A4, landscape; the report title at the top left, the sheet name at the top right,
  "Page n of m" at the bottom;
* the print area: the cells written plus the charts placed on the sheet;
* the header row repeated on every page (sheets with a frozen header row), and the
  frozen key columns too when the sheet is printed across several pages;
* fit to one page wide when the sheet is at most `FIT_PAGES` pages wide at 100%
  (wider tables, such as the summary, would shrink unreadably: they flow across pages
  with their key columns repeated instead);
* on sheets with charts: fit to width, and a page break above every chart but the
  first, so each chart prints whole on a page of its own, never split.

Sizes are read from the worksheet as xlsxwriter laid it out (cell dimensions, column
widths, row heights, charts with their anchors), so changes to the sheets carry over.
"""

from __future__ import annotations

import math

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

A4 = 9
"""Excel's paper size code for A4."""
PAGE_WIDTH_PX = 990
"""Printable width of an A4 landscape page at 100%, with the default margins."""
FIT_PAGES = 3
HEADER_LIMIT = 200
"""Excel allows 255 characters in a header, codes included."""


def set_print_layout(book: xlsxwriter.Workbook, title: str) -> None:
    for sheet in book.worksheets():
        _layout(sheet, title)


def _layout(sheet: Worksheet, title: str) -> None:
    sheet.set_paper(A4)
    sheet.set_landscape()
    heading = title.replace("&", "&&")[:HEADER_LIMIT]
    sheet.set_header(f"&L{heading}&R&A", {"margin": 0.2})
    sheet.set_footer("&CPage &P of &N", {"margin": 0.2})
    last_row, last_col = _extent(sheet)
    if last_row < 0 or last_col < 0:
        return
    sheet.print_area(0, 0, last_row, last_col)
    frozen_rows, frozen_cols = (sheet.panes[0], sheet.panes[1]) if sheet.panes else (0, 0)
    if frozen_rows:
        sheet.repeat_rows(0, frozen_rows - 1)
    chart_rows = sorted(top for top, _, _ in _chart_boxes(sheet))
    width = sum(_column_px(sheet, c) for c in range(last_col + 1))
    if chart_rows or width <= FIT_PAGES * PAGE_WIDTH_PX:
        sheet.fit_to_pages(1, 0)
    elif frozen_cols:
        sheet.repeat_columns(0, frozen_cols - 1)
    if len(chart_rows) > 1:  # the first chart starts the first page
        sheet.set_h_pagebreaks(chart_rows[1:])


def _extent(sheet: Worksheet) -> tuple[int, int]:
    """(last row, last column) holding a cell or part of a chart; -1 when empty."""
    last_row = sheet.dim_rowmax if sheet.dim_rowmax is not None else -1
    last_col = sheet.dim_colmax if sheet.dim_colmax is not None else -1
    for _, bottom, right in _chart_boxes(sheet):
        last_row, last_col = max(last_row, bottom), max(last_col, right)
    return last_row, last_col


def _chart_boxes(sheet: Worksheet) -> list[tuple[int, int, int]]:
    """(top row, bottom row, right column) of every chart inserted in the sheet."""
    boxes = []
    # xlsxwriter keeps [row, col, chart, x_offset, y_offset, x_scale, y_scale, ...]
    for row, col, chart, x_offset, y_offset, x_scale, y_scale, *_ in sheet.charts:
        height = y_offset + math.ceil(chart.height * y_scale)
        width = x_offset + math.ceil(chart.width * x_scale)
        bottom = row
        # as xlsxwriter anchors it: a chart ending on a row's edge reaches the next row
        while height >= _row_px(sheet, bottom):
            height -= _row_px(sheet, bottom)
            bottom += 1
        right = col
        while width >= _column_px(sheet, right):
            width -= _column_px(sheet, right)
            right += 1
        boxes.append((row, bottom, right))
    return boxes


def _column_px(sheet: Worksheet, col: int) -> int:
    return max(1, int(sheet._size_col(col)))  # xlsxwriter's own pixel width


def _row_px(sheet: Worksheet, row: int) -> int:
    return max(1, int(sheet._size_row(row)))
