"""Tables as CSV: RFC 4180 text that Excel, LibreOffice, R and pandas read alike.

Decisions:

* **UTF-8 with a byte order mark.** Excel opens a double-clicked CSV in the
  machine's ANSI code page (cp1251 in Kazakhstan) unless the file starts with a BOM,
  and then agency names and answers in Russian or Kazakh turn into mojibake. With the
  BOM, Excel, LibreOffice, pandas and readr read UTF-8; Python's csv module wants
  ``encoding="utf-8-sig"``, and R's base ``read.csv`` wants
  ``fileEncoding="UTF-8-BOM"``. `table_csv` puts the BOM (U+FEFF) at the start of
  the text it returns; pass ``bom=False`` to leave it out.
* Comma separated, fields quoted only when needed, lines ended by CRLF (the csv
  module's default, as RFC 4180 says). Line breaks inside free text stay inside
  their quoted field.
* ``None`` is an empty cell; booleans are ``true``/``false`` (as in the JSON);
  numbers are written with Python's shortest round-trip repr, so parsing a cell
  gives back exactly the float of the JSON. Numbers are never neutralized: ``-1.5``
  is a number.
* Every text cell goes through `evalsvc.exports.safe.neutralize`, so a cell that a
  spreadsheet would run as a formula starts with an apostrophe. Column names are
  ours and safe.

Rows are sequences in column order, or mappings from column name to value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence

from evalsvc.exports.safe import neutralize
from evalsvc.exports.tables import Cell

BOM = "\ufeff"
CHUNK_SIZE = 64 * 1024
"""`stream_csv` yields a chunk once this many characters are buffered."""

Row = Sequence[Cell] | Mapping[str, Cell]


def csv_value(value: Cell) -> str | int | float:
    """What the csv writer gets for one cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, str):
        return neutralize(value)
    raise TypeError(f"no CSV cell for a {type(value).__name__}")


def _values(columns: Sequence[str], row: Row) -> list[str | int | float]:
    if isinstance(row, Mapping):
        return [csv_value(row.get(name)) for name in columns]
    if len(row) != len(columns):
        raise ValueError(f"a row has {len(row)} cells for {len(columns)} columns")
    return [csv_value(value) for value in row]


def table_csv(columns: Sequence[str], rows: Iterable[Row], *, bom: bool = True) -> str:
    """The whole table as CSV text, starting with a BOM unless ``bom=False``."""
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_values(columns, row))
    return buffer.getvalue()


async def stream_csv(
    columns: Sequence[str],
    rows: AsyncIterable[Row],
    *,
    bom: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> AsyncIterator[bytes]:
    """The table as UTF-8 chunks of about `chunk_size` characters, row by row.

    Memory stays bounded by one chunk whatever the number of rows; the first chunk
    (header, BOM) is sent before any row is read.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(columns)
    yield _drain(buffer)
    async for row in rows:
        writer.writerow(_values(columns, row))
        if buffer.tell() >= chunk_size:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk
