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
* `xlsx_export` -- an Excel workbook with the tables, native charts (`xlsx_charts`)
  and the methods.
* `methods` -- the methods text, written once for the workbook and the HTML report;
  `plain_language` -- the report in plain words, for readers who are not statisticians.
* `formatting` -- how a number is rounded and a withheld figure worded, by column unit
  and measure (HTML and XLSX alike); `display_names` -- what things are called.
* `html_report` -- the printable HTML report (`render_report`), built from views
  (`html_view`: cells, rows, tables) per table family: `html_headlines`,
  `html_results` with `html_summary`, `html_attrition`, `html_items`, `html_answers`;
  charts are server-side SVG (`svg_chart`).
"""
