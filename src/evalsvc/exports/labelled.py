"""Labelled tables as SPSS (.sav) and Stata (.dta) files: table in, bytes out.

A `LabelledTable` is what SPSS and Stata call a dataset with a dictionary: columns
(`Variable`) that carry a name, a variable label and, for coded columns, value labels
(integer code -> text). `sav_bytes` and `dta_bytes` write it with pyreadstat (the
ReadStat library), whose files SPSS, Stata, R (haven) and pandas all read.

Variable names follow one rule for both formats (`variable_names`), so that a
variable is called the same in SPSS and in Stata:

1. every character other than an ASCII letter, digit or underscore becomes ``_``
   (``k-01`` -> ``k_01``);
2. a name that does not start with a letter gets a ``v`` in front (``1a`` -> ``v1a``);
3. a word that SPSS or Stata reserves (``all``, ``and``, ``by``, ``if``, ``in``,
   ``int``, ``with``...) gets a ``_`` behind (``with`` -> ``with_``);
4. a name longer than Stata's 32 characters keeps its first 25 and ends with ``_``
   and 6 hexadecimal digits of the SHA-1 of the name it would have had, so long
   names stay distinct and the same course always gives the same names;
5. a name equal, ignoring case (SPSS ignores it), to an earlier one gets ``_2``,
   ``_3``... (shortened to stay within 32).

Labels are text in any script; both formats store UTF-8 (SPSS .sav with its
character-encoding record, Stata 14+ .dta, written here as version 15). The formats'
limits are applied here, at character boundaries, never mid-letter: a Stata variable
label holds at most 80 characters, an SPSS value label 120 bytes and an SPSS variable
label 255 bytes of UTF-8; a label cut short ends with "…".

Numeric columns hold ints, floats or None (system missing); string columns hold str
or None (written as an empty string: neither format has a missing string).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import msgspec

MAX_NAME = 32
"""Stata's longest variable name (SPSS allows 64 bytes)."""
STATA_LABEL_CHARS = 80
SPSS_VALUE_LABEL_BYTES = 120
SPSS_VARIABLE_LABEL_BYTES = 255
ELLIPSIS = "…"

SPSS_RESERVED = ("all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with")
STATA_RESERVED = (
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_pi", "_pred", "_rc", "_skip", "str", "strl", "using", "with",
)  # fmt: skip
RESERVED = frozenset(SPSS_RESERVED + STATA_RESERVED)

Measure = Literal["nominal", "ordinal", "scale"]
Cell = str | int | float | None


class Variable(msgspec.Struct, frozen=True, kw_only=True):
    """One column: its name (already a valid name, see `variable_names`) and labels."""

    name: str
    label: str
    kind: Literal["numeric", "string"] = "numeric"
    value_labels: dict[int, str] = {}
    measure: Measure = "scale"
    user_missing: tuple[int, ...] = ()
    """Codes SPSS treats as missing (e.g. "does not apply"); Stata keeps them as values."""


class LabelledTable(NamedTuple):
    label: str
    """The dataset's label (file label)."""
    variables: tuple[Variable, ...]
    rows: list[tuple[Cell, ...]]


# -- names ---------------------------------------------------------------------------------

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def variable_names(wanted: Iterable[str]) -> list[str]:
    """Valid, distinct SPSS and Stata names for `wanted`, in order (see the module rule)."""
    out: list[str] = []
    taken: set[str] = set()
    for raw in wanted:
        name = _NOT_NAME.sub("_", raw)
        if not name[:1].isalpha():
            name = "v" + name
        if name.lower() in RESERVED:
            name += "_"
        if len(name) > MAX_NAME:
            digest = hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()
            name = f"{name[:25]}_{digest[:6]}"
        candidate, number = name, 1
        while candidate.lower() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = name[: MAX_NAME - len(suffix)] + suffix
        taken.add(candidate.lower())
        out.append(candidate)
    return out


# -- label limits ----------------------------------------------------------------------------


def clip_chars(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def clip_bytes(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut between characters."""
    text = " ".join(text.split())
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    while len(text.encode("utf-8")) > room:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


# -- writers -------------------------------------------------------------------------------


def sav_bytes(table: LabelledTable) -> bytes:
    """The table as an SPSS .sav file."""
    import pyreadstat

    frame = _frame(table)
    with tempfile.TemporaryDirectory(prefix="evalsvc-") as folder:
        path = Path(folder) / "data.sav"
        pyreadstat.write_sav(
            frame,
            path,
            file_label=clip_bytes(table.label, 64),
            column_labels={
                v.name: clip_bytes(v.label, SPSS_VARIABLE_LABEL_BYTES) for v in table.variables
            },
            variable_value_labels=_value_labels(table.variables, SPSS_VALUE_LABEL_BYTES, bytes),
            missing_ranges={
                v.name: [float(code) for code in v.user_missing[:3]]
                for v in table.variables
                if v.user_missing
            },
            variable_measure={v.name: v.measure for v in table.variables},
            variable_format={name: "F8.0" for name in _whole_columns(table)},
        )
        return path.read_bytes()


def dta_bytes(table: LabelledTable) -> bytes:
    """The table as a Stata 15 .dta file (read by Stata 15 and later)."""
    import pyreadstat

    frame = _frame(table)
    with tempfile.TemporaryDirectory(prefix="evalsvc-") as folder:
        path = Path(folder) / "data.dta"
        pyreadstat.write_dta(
            frame,
            path,
            file_label=clip_chars(table.label, STATA_LABEL_CHARS),
            column_labels={v.name: clip_chars(v.label, STATA_LABEL_CHARS) for v in table.variables},
            version=15,
            variable_value_labels=_value_labels(table.variables, 32_000, str),
            variable_format={name: "%8.0g" for name in _whole_columns(table)},
        )
        return path.read_bytes()


def _whole_columns(table: LabelledTable) -> list[str]:
    """Numeric columns holding only whole numbers: shown without decimals."""
    return [
        variable.name
        for index, variable in enumerate(table.variables)
        if variable.kind == "numeric"
        and all(isinstance(row[index], int | None) for row in table.rows)
    ]


def _value_labels(
    variables: Sequence[Variable], limit: int, unit: type
) -> dict[str, dict[int | float, str]]:
    clip = clip_bytes if unit is bytes else clip_chars
    return {
        v.name: {code: clip(text, limit) for code, text in v.value_labels.items()}
        for v in variables
        if v.value_labels
    }


def _frame(table: LabelledTable):  # -> pandas.DataFrame (imported lazily: it is slow)
    import pandas as pd

    names = [v.name for v in table.variables]
    if len(set(names)) != len(names):
        raise ValueError("variable names must be distinct")
    columns: dict[str, object] = {}
    for index, variable in enumerate(table.variables):
        values = [row[index] for row in table.rows]
        if variable.kind == "string":
            columns[variable.name] = pd.Series(
                ["" if v is None else str(v) for v in values], dtype=object
            )
        else:
            columns[variable.name] = pd.Series(
                [float("nan") if v is None else float(v) for v in values], dtype="float64"
            )
    return pd.DataFrame(columns, columns=names)
