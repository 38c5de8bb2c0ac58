"""Renderers of a course's evaluation: tables in, bytes or text out.

No I/O beyond reading the package's own template and stylesheet, and no web or
database imports; the callers (`evalsvc.web.evaluator`, `evalsvc report`) fetch the
data and send or write what these functions return.

* `safe` -- `neutralize`: text that a spreadsheet would run as a formula is defused.
* `tables` -- a `CourseReport` flattened into named tables whose columns are exactly
  the domain Struct field names, plus the analysts' scores, responses and item
  codebook tables, and a codebook describing every column.
* `csv_export` -- those tables as CSV text (`table_csv`) or as a byte stream
  (`stream_csv`, for 100,000-row downloads).
* `xlsx_export` -- an Excel workbook with the tables, native charts and the methods.
* `methods` -- the methods text, written once for the workbook and the HTML report.
* `html_report` -- the printable HTML report (`render_report`), built from:
  `formatting` (numbers as shown), `display_names`, `html_tables` (the report's
  table views, not to be confused with `tables`) and `svg_chart` (server-side SVG).
"""
