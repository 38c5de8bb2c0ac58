"""The building blocks of the HTML report's tables: cells, rows, footnotes, headers.

A `TableView` is what the template lays out; the ``html_*`` modules build one per
table from the report's rows. Header tooltips are the columns' own descriptions
(`evalsvc.domain.columns`), so a column is explained in one place for every format.
A figure is shown by its column unit (`formatting.fmt_unit`); a withheld one by the
reason the row gives for it (`row.withheld`), in words; an undefined one as "—".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import msgspec

from evalsvc.domain.columns import FieldMeta, field_meta
from evalsvc.domain.design import Measure
from evalsvc.exports.formatting import (
    DASH,
    NBSP,
    fmt,
    fmt_interval,
    fmt_unit,
    withheld_why,
    withheld_words,
)
from evalsvc.exports.report_i18n import tr


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = "num"
    """CSS classes: num (or "num wrap": may break at its spaces), text, withheld,
    undefined or flag."""
    title: str | None = None
    colspan: int = 1
    lang: str | None = None


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    notes: list[int] = field(default_factory=list)
    group: str | None = None
    """When set, a header row for the rows below it, spanning the table."""
    emphasis: bool = False


@dataclass(frozen=True)
class Header:
    label: str
    tip: str = ""
    text: bool = False
    """A text column (aligned left)."""


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    caption: str
    headers: list[Header]
    rows: list[Row]
    notes: list[str]
    big: bool = False


@dataclass
class Footnotes:
    """Notes of a table, numbered once each in order of first use."""

    texts: list[str] = field(default_factory=list)

    def refs(self, notes: Iterable[str]) -> list[int]:
        numbers = set()
        for note in notes:
            if note not in self.texts:
                self.texts.append(note)
            numbers.add(self.texts.index(note) + 1)
        return sorted(numbers)


@functools.cache
def _meta(row_type: type[msgspec.Struct]) -> dict[str, FieldMeta]:
    return {meta.name: meta for meta in field_meta(row_type)}


def unit_of(row_type: type[msgspec.Struct], name: str) -> str:
    return _meta(row_type)[name].unit


def header(label: str, row_type: type[msgspec.Struct], *fields: str, text: bool = False) -> Header:
    """A column heading whose tooltip names and describes the fields it shows."""
    meta = _meta(row_type)
    tip = "; ".join(f"{name}: {tr(meta[name].description)}" for name in fields)
    return Header(label, tip, text)


def label_of(row_type: type[msgspec.Struct], name: str) -> str:
    """The column's own short label (its field name unless the metadata gives one)."""
    return _meta(row_type)[name].label


def text_cell(text: str, *, lang: str | None = None, kind: str = "text") -> Cell:
    return Cell(text, kind, lang=lang)


def undefined_cell(text: str = DASH) -> Cell:
    return Cell(text, "undefined", tr("not defined for these data: see the notes"))


def withheld_cell(reason: str, k: int, colspan: int = 1) -> Cell:
    return Cell(withheld_words(reason, k), "withheld", withheld_why(reason, k), colspan)


class Figures:
    """The cells of one row's figures, by field name."""

    def __init__(self, row: msgspec.Struct, k: int, measure: Measure | None = None) -> None:
        self.row = row
        self.k = k
        self.measure = measure
        self.withheld: dict[str, str] = dict(getattr(row, "withheld", None) or {})

    def reason(self, *fields: str) -> str | None:
        return next((self.withheld[f] for f in fields if f in self.withheld), None)

    def cell(self, name: str, *also: str, text: str | None = None, signed: bool = False) -> Cell:
        """The figure `name` (or `text`, made from it and `also`): withheld, "—" or shown."""
        reason = self.reason(name, *also)
        if reason is not None:
            return withheld_cell(reason, self.k)
        value = getattr(self.row, name)
        if value is None:
            return undefined_cell()
        if text is None:
            text = fmt_unit(value, unit_of(type(self.row), name), self.measure, signed=signed)
        return Cell(text)

    def text(self, name: str, *, signed: bool = False) -> str:
        value = getattr(self.row, name)
        return fmt_unit(value, unit_of(type(self.row), name), self.measure, signed=signed)


def mean_sd_cell(figures: Figures, mean: str, sd: str) -> Cell:
    """ "mean (SD)", or the mean alone when the SD is undefined."""
    cell = figures.cell(mean, sd)
    if cell.kind != "num" or getattr(figures.row, sd) is None:
        return cell
    return Cell(f"{cell.text} ({figures.text(sd)})")


def interval_cell(
    figures: Figures, value: str, low: str, high: str, places: int, *, signed: bool = False
) -> Cell:
    """ "value [low, high]", the interval left out when undefined."""
    cell = figures.cell(value, low, high)
    if cell.kind != "num":
        return cell
    row = figures.row
    interval = fmt_interval(getattr(row, low), getattr(row, high), places).replace(" ", NBSP)
    text = f"{fmt(getattr(row, value), places, signed=signed)} {interval}".strip()
    # may wrap between the value and its interval, never inside either
    return Cell(text, "num wrap")


def merge_withheld(cells: Sequence[Cell]) -> list[Cell]:
    """Neighbouring withheld cells with the same words become one spanning cell."""
    out: list[Cell] = []
    for cell in cells:
        last = out[-1] if out else None
        if (
            last is not None
            and cell.kind == "withheld"
            and last.kind == "withheld"
            and last.text == cell.text
        ):
            out[-1] = Cell(last.text, "withheld", last.title, last.colspan + cell.colspan)
        else:
            out.append(cell)
    return out
