"""Column metadata, kept once on the struct fields of every published table.

A table's row struct annotates each field with `column(...)`:

    from_mean: Annotated[float | None, column("mean in the from phase", MEASURE)] = None

JSON (OpenAPI descriptions), CSV, XLSX (number formats), the HTML report and the
codebook all read the same metadata through `field_meta`, so a column is described
in exactly one place. `unit` says how a value is read and formatted:

* ``measure`` -- in the unit of the row's measure (percent of knowledge points,
  points of the self-assessment scale, percent of items answered "I don't know");
* ``gain`` -- a difference in the measure's unit;
* ``value`` -- in the unit of an answered item (scale points, or the number asked for);
* ``people`` -- a number of people; ``count`` -- a number of answers;
* ``share`` -- a proportion from 0 to 1; ``p`` -- a p-value;
* ``effect`` -- a standardized effect size or correlation; ``statistic`` -- a test
  statistic; ``df`` -- degrees of freedom; ``text`` -- words; ``key`` -- an identifier
  that says which row this is (measure, comparison, group, skill...).
"""

from __future__ import annotations

from typing import Any, Final, Literal, NamedTuple

import msgspec

Unit = Literal[
    "measure",
    "gain",
    "value",
    "people",
    "count",
    "share",
    "p",
    "effect",
    "statistic",
    "df",
    "text",
    "key",
]

MEASURE: Final = "measure"
GAIN: Final = "gain"
VALUE: Final = "value"
PEOPLE: Final = "people"
COUNT: Final = "count"
SHARE: Final = "share"
P: Final = "p"
EFFECT: Final = "effect"
STATISTIC: Final = "statistic"
DF: Final = "df"
TEXT: Final = "text"
KEY: Final = "key"


def column(description: str, unit: Unit, *, label: str = "") -> msgspec.Meta:
    """The metadata of one published column: what it means and its unit.

    `label` is a short heading for the HTML report and the workbook (the field name
    when empty).
    """
    return msgspec.Meta(description=description, extra={"unit": unit, "label": label})


class FieldMeta(NamedTuple):
    name: str
    description: str
    unit: Unit
    label: str


def field_meta(struct_type: type[msgspec.Struct]) -> tuple[FieldMeta, ...]:
    """Every field of `struct_type` with its description and unit, in field order.

    A field without `column(...)` metadata is a defect of the table definition; the
    tests call this on every published row type.
    """
    info = msgspec.inspect.type_info(struct_type)
    out = []
    for field in info.fields:  # type: ignore[attr-defined]
        extra = _extra(field.type)
        if extra is None:
            raise TypeError(f"{struct_type.__name__}.{field.name} has no column() metadata")
        out.append(
            FieldMeta(
                name=field.name,
                description=_description(field.type),
                unit=extra["unit"],
                label=extra.get("label") or field.name,
            )
        )
    return tuple(out)


def _extra(field_type: Any) -> dict[str, Any] | None:
    extra = getattr(field_type, "extra", None)
    return extra if isinstance(extra, dict) and "unit" in extra else None


def _description(field_type: Any) -> str:
    schema = getattr(field_type, "extra_json_schema", None) or {}
    return str(schema.get("description", ""))
