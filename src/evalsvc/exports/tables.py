"""A course's evaluation flattened into named tables, the same in every format.

Every table is a `Table`: ordered column names and rows of plain cells (`Cell`: str,
int, float, bool or None). A `Table` unpacks as ``columns, rows``. Each table also
knows its row struct (`TableSpec.row_type`), whose field metadata
(`evalsvc.domain.columns`) gives every column's meaning and unit: the codebook, the
workbook's number formats and the OpenAPI descriptions all read it there.

Column names are *exactly* the field names of the domain Structs, so ``summary.csv``,
the ``Summary`` sheet and the JSON of ``/summary`` name every figure the same way; the
key columns (which row this is) come first. Where a field is not a plain value it is
flattened like this:

* lists (``notes``, ``groups``) are joined with ``"; "``;
* ``withheld`` (figure -> reason) becomes the reason when every withheld figure of
  the row has the same one, else ``figure=reason`` pairs joined with ``"; "``; empty
  when nothing is withheld;
* ``distribution`` (answer -> count) becomes ``answer=count`` pairs joined with
  ``"; "``; the long table ``answer_counts`` has one row per answer instead;
* `TextAnswers` become one row per answer, columns ``phase``, ``item``, ``answer``.

For analysts, participant-level tables are built row by row so they can be streamed:
`scores_columns` and `score_rows`, `responses_columns` and `response_row`; and
`item_codebook` lists the questions with their options and answer keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from evalsvc.domain.answer_summaries import AnswerSummary
from evalsvc.domain.attrition import AttritionRow, PhaseCountRow
from evalsvc.domain.columns import FieldMeta, field_meta
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.questionnaire import Course, Item
from evalsvc.domain.summary import GroupComparison, SummaryRow
from evalsvc.exports.report_i18n import R_, tr, using
from evalsvc.exports.report_words import measure_unit

if TYPE_CHECKING:  # annotations only: no storage (database) import at run time
    from evalsvc.reports import CourseReport
    from evalsvc.storage.records import ResponseRow as StoredResponse
    from evalsvc.storage.records import ScoreRow

Cell = str | int | float | bool | None
"""One value of a table: numbers stay numbers, None is an empty cell."""

LIST_SEPARATOR = "; "
"""How list fields (notes, groups) are joined into one cell."""
CHOICE_SEPARATOR = "|"
"""How the options of a multiple-choice answer (and an answer key) are joined."""
ITEM_COLUMN = "<item id>"
"""Codebook name standing for the per-item columns of the responses table."""


class Table(NamedTuple):
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


class Column(NamedTuple):
    """A column of a hand-made table, described like a struct field."""

    name: str
    description: str
    unit: str


class TableSpec(NamedTuple):
    name: str
    title: str
    """Short English title (sheet names, headings)."""
    row_type: type[msgspec.Struct] | None
    """The row struct whose fields are the columns; None for hand-made tables."""


TABLES: tuple[TableSpec, ...] = (
    TableSpec("summary", R_("Summary"), SummaryRow),
    TableSpec("group_comparisons", R_("Group comparisons"), GroupComparison),
    TableSpec("phase_counts", R_("Phase counts"), PhaseCountRow),
    TableSpec("attrition", R_("Attrition"), AttritionRow),
    TableSpec("items", R_("Items"), ItemRow),
    TableSpec("reliability", R_("Reliability"), ReliabilityRow),
    TableSpec("answer_summaries", R_("Answers"), AnswerSummary),
    TableSpec("answer_counts", R_("Answer counts"), None),
    TableSpec("texts", R_("Texts"), None),
    TableSpec("codebook", R_("Codebook"), None),
)
TABLE_NAMES = tuple(spec.name for spec in TABLES)


def columns_of(row_type: type[msgspec.Struct]) -> tuple[FieldMeta, ...]:
    """The row struct's fields as columns: key columns first, then in field order."""
    fields = field_meta(row_type)
    return (
        *(f for f in fields if f.unit == "key"),
        *(f for f in fields if f.unit != "key"),
    )


# -- cells -------------------------------------------------------------------------


def cell(value: object) -> Cell:
    """A Struct field's value as one cell (see the module docstring)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, dict):
        if not value:
            return None
        distinct = set(value.values())
        if len(distinct) == 1 and all(isinstance(v, str) for v in distinct):
            return str(next(iter(distinct)))
        return LIST_SEPARATOR.join(f"{key}={val}" for key, val in value.items())
    raise TypeError(f"no cell for a {type(value).__name__}")


def struct_table(row_type: type[msgspec.Struct], rows: Iterable[msgspec.Struct]) -> Table:
    names = tuple(f.name for f in columns_of(row_type))
    return Table(names, [tuple(cell(getattr(row, name)) for name in names) for row in rows])


# -- the report's tables -------------------------------------------------------------


def struct_rows(report: CourseReport) -> dict[str, Sequence[msgspec.Struct]]:
    """The rows of every struct table by name: `report_tables` makes row i of a table
    from row i here (the workbook reads each row's `withheld` reasons from them)."""
    analysis = report.analysis
    return {
        "summary": analysis.summary,
        "group_comparisons": analysis.group_comparisons,
        "phase_counts": analysis.phase_counts,
        "attrition": analysis.attrition,
        "items": analysis.items,
        "reliability": analysis.reliability,
        "answer_summaries": analysis.answer_summaries,
    }


def report_tables(report: CourseReport) -> dict[str, Table]:
    """Every table of the report by name, in `TABLE_NAMES` order."""
    analysis = report.analysis
    rows_of = struct_rows(report)
    tables: dict[str, Table] = {}
    for spec in TABLES:
        if spec.row_type is not None:
            tables[spec.name] = struct_table(spec.row_type, rows_of[spec.name])
    tables["answer_counts"] = Table(
        tuple(c.name for c in ANSWER_COUNT_COLUMNS),
        [
            (r.phase, r.item, r.breakdown, r.group, answer, count)
            for r in analysis.answer_summaries
            for answer, count in (r.distribution or {}).items()
        ],
    )
    tables["texts"] = Table(
        tuple(c.name for c in TEXT_COLUMNS),
        [(t.phase, t.item, answer) for t in analysis.texts for answer in t.answers],
    )
    tables["codebook"] = codebook(report)
    return tables


ANSWER_COUNT_COLUMNS = (
    Column("phase", "the phase that asked the item", "key"),
    Column("item", "item id", "key"),
    Column("breakdown", "all, agency, or a breakdown item", "key"),
    Column("group", "the group within the breakdown", "key"),
    Column("answer", "an option id or scale point", "key"),
    Column("count", "people of the group who gave this answer", "count"),
)
TEXT_COLUMNS = (
    Column("phase", "the phase that asked the item", "key"),
    Column("item", "free-text item id", "key"),
    Column("answer", "one answer, as written; sorted, with neither group nor participant", "text"),
)
CODEBOOK_COLUMNS = (
    Column("name", "column name", "key"),
    Column("table", "table (CSV file or sheet) the column belongs to", "key"),
    Column("meaning", "what the column holds", "text"),
    Column("unit", "how the values are read", "text"),
)


# -- codebook --------------------------------------------------------------------------

UNIT_TEXT = {
    "measure": R_("in the row's measure: %(measures)s"),
    "gain": R_("difference in the row's measure (percentage points or scale points)"),
    "value": R_("in the item's own unit (scale points, or the number asked for)"),
    "people": R_("people"),
    "count": R_("answers"),
    "share": R_("proportion (0-1)"),
    "p": R_("p-value (0-1)"),
    "effect": R_("standardized effect size or correlation"),
    "statistic": R_("test statistic"),
    "df": R_("degrees of freedom"),
    "text": R_("text"),
    "key": R_("identifier"),
}


def unit_text(unit: str, report: CourseReport | None = None) -> str:
    """A column unit in words, in the language of the report being rendered."""
    measures = tr("see the measures")
    if report is not None:
        measures = "; ".join(
            f"{m.id}: {measure_unit(m.id, m.unit, m.minimum, m.maximum)}"
            for m in report.design.measures
        )
    if unit not in UNIT_TEXT:
        return unit
    return tr(UNIT_TEXT[unit], measures=measures)


def described_columns(table_name: str) -> Sequence[FieldMeta | Column]:
    """The columns of a table of `TABLES` (else of a participant-level table) with
    their descriptions and units, in column order."""
    spec = next((s for s in TABLES if s.name == table_name), None)
    if spec is None:
        return _PARTICIPANT_LEVEL[table_name]
    if spec.row_type is not None:
        return columns_of(spec.row_type)
    return _HAND_MADE[table_name]


FORMER_NAMES: dict[tuple[str, str], str] = {
    ("summary", "n_from"): "n_pre",
    ("summary", "n_to"): "n_post",
    ("summary", "from_mean"): "pre_mean",
    ("summary", "to_mean"): "post_mean",
    ("summary", "from_sd"): "pre_sd",
    ("summary", "to_sd"): "post_sd",
    ("summary", "breakdown"): "agency",
    ("summary", "group"): "agency",
    ("summary", "withheld"): "suppressed, suppressed_reason",
    ("items", "p_from"): "p_pre",
    ("items", "p_to"): "p_post",
    ("items", "discrimination_from"): "discrimination_pre",
    ("items", "discrimination_to"): "discrimination_post",
    ("group_comparisons", "groups"): "agencies (agency_comparison)",
}
"""(table, column) -> the name it had in the first version of the API (README)."""


def codebook(report: CourseReport | None = None) -> Table:
    """Name, table, meaning and unit of every column of every table, in the report's
    language (column names stay as they are); a renamed column says what it was
    called before."""
    with using(report.lang if report is not None else tr.lang):
        rows: list[tuple[Cell, ...]] = []
        for name in TABLE_NAMES:
            for column in described_columns(name):
                meaning = tr(column.description)
                former = FORMER_NAMES.get((name, column.name))
                if former:
                    meaning = tr("%(meaning)s (formerly %(name)s)", meaning=meaning, name=former)
                rows.append((column.name, name, meaning, unit_text(column.unit, report)))
        for name, entries in _PARTICIPANT_LEVEL.items():
            for column in entries:
                rows.append(
                    (column.name, name, tr(column.description), unit_text(column.unit, report))
                )
        return Table(tuple(c.name for c in CODEBOOK_COLUMNS), rows)


# -- participant level (analysts) ------------------------------------------------------

SCORES_COLUMNS = (
    Column("participant", "pseudonymous participant number within the course", "key"),
    Column("agency", "the participant's agency id", "key"),
    Column("phase", "the phase", "key"),
    Column("measure", "knowledge, confidence or dont_know", "key"),
    Column("skill", "skill id, or total", "key"),
    Column("score", "the participant's score", "measure"),
    Column("scoring", "fingerprint of the scoring rules the score was computed under", "text"),
)
RESPONSES_FIXED_COLUMNS = (
    Column("participant", "pseudonymous participant number within the course", "key"),
    Column("agency", "the participant's agency id (as first recorded)", "key"),
    Column("submitted_agency", "agency chosen in this submission", "key"),
    Column("agency_mismatch", "submitted_agency differs from agency", "text"),
    Column("phase", "the phase", "key"),
    Column("lang", "language the questionnaire was answered in", "key"),
    Column("received_at", "when the submission was stored (ISO 8601, UTC)", "text"),
)
ITEM_CODEBOOK_COLUMNS = (
    Column("item", "item id", "key"),
    Column("role", "knowledge, self_assessment, feedback or profile", "text"),
    Column("kind", "single_choice, multiple_choice, true_false, likert, text or number", "text"),
    Column("section", "questionnaire section id", "text"),
    Column("skill", "skill the item belongs to", "text"),
    Column("text", "question text in the report's language", "text"),
    Column("options", "option id=text pairs (likert: value=label), joined with '; '", "text"),
    Column("scale", "likert scale id and range", "text"),
    Column("correct", "answer key: correct option ids joined with '|'", "text"),
    Column("points", "points the knowledge item is worth", "count"),
    Column("partial_credit", "multiple choice scored with partial credit", "text"),
    Column("dont_know", "the item offers 'I don't know' (scored 0)", "text"),
    Column("breakdown", "results are broken down by this item", "text"),
    Column("source", "provision the answer key rests on", "text"),
)
ANSWER_KEY_COLUMNS = frozenset({"correct", "source"})

_HAND_MADE = {
    "answer_counts": ANSWER_COUNT_COLUMNS,
    "texts": TEXT_COLUMNS,
    "codebook": CODEBOOK_COLUMNS,
}
_PARTICIPANT_LEVEL = {
    "scores": SCORES_COLUMNS,
    "responses": (
        *RESPONSES_FIXED_COLUMNS,
        Column(
            ITEM_COLUMN,
            "one column per item, in course order: the option id; multiple choice ids "
            "joined with '|'; likert and number answers as numbers; text as written; "
            "empty when unanswered (see items_codebook)",
            "value",
        ),
    ),
    "items_codebook": ITEM_CODEBOOK_COLUMNS,
}


def scores_columns() -> tuple[str, ...]:
    return tuple(c.name for c in SCORES_COLUMNS)


def score_rows(rows: Iterable[ScoreRow], measures: Sequence[str]) -> Iterator[tuple[Cell, ...]]:
    """participant x phase x measure x skill, in participant and phase order."""
    decode = msgspec.json.Decoder(dict[str, object]).decode
    for row in sorted(rows, key=lambda r: (r.participant, r.phase)):
        scores = decode(row.scores_json)
        for measure in measures:
            values = scores.get(measure)
            if not isinstance(values, dict):
                continue
            for skill, score in values.items():
                yield (row.participant, row.agency, row.phase, measure, skill, score, row.scoring)


def responses_columns(course: Course) -> tuple[str, ...]:
    """The fixed columns, then one per item of the course in course order.

    An item whose id equals a fixed column name gets the column ``item_<id>``.
    """
    return (
        *(c.name for c in RESPONSES_FIXED_COLUMNS),
        *(_item_column(item) for item in course.items),
    )


def _item_column(item: Item) -> str:
    fixed = {c.name for c in RESPONSES_FIXED_COLUMNS}
    return f"item_{item.id}" if item.id in fixed else item.id


_decode_answers = msgspec.json.Decoder(dict[str, object]).decode


def response_row(course: Course, row: StoredResponse) -> tuple[Cell, ...]:
    """One stored submission as a row of `responses_columns(course)`.

    Answers: choice -> option id, multiple choice -> ids joined with ``|``, likert and
    number -> the number, text -> the text; unanswered -> None.
    """
    answers = _decode_answers(row.answers_json)
    return (
        row.participant,
        row.agency,
        row.submitted_agency,
        bool(row.agency_mismatch),
        row.phase,
        row.lang,
        row.received_at,
        *(_answer_cell(answers.get(item.id)) for item in course.items),
    )


def _answer_cell(answer: object) -> Cell:
    if answer is None or isinstance(answer, str | bool | int | float):
        return answer
    if isinstance(answer, list):
        return CHOICE_SEPARATOR.join(str(v) for v in answer)
    return msgspec.json.encode(answer).decode()


def item_codebook(course: Course, lang: str, *, answer_keys: bool = True) -> Table:
    """Every item of the course: role, kind, skill, text in `lang`, options, key.

    ``options`` lists ``id=text`` pairs joined with ``"; "`` (for a likert item, the
    scale's labelled points ``value=label``); ``correct`` is the answer key joined
    with ``|``. With ``answer_keys=False`` the ``correct`` and ``source`` columns are
    left out (for the workbook, which may travel further than the analysts).
    """
    rows: list[tuple[Cell, ...]] = []
    for item in course.items:
        scale = course.scale(item.scale)
        if scale is not None:
            options = [
                f"{label.value}={course.localize(label.text, lang)}" for label in scale.labels
            ]
        else:
            texts = {option.id: course.localize(option.text, lang) for option in item.options}
            options = [f"{oid}={texts[oid]}" if oid in texts else oid for oid in item.option_ids]
        knowledge = item.role == "knowledge"
        rows.append(
            (
                item.id,
                item.role,
                item.kind,
                item.section,
                item.skill,
                course.localize(item.text, lang),
                LIST_SEPARATOR.join(options) or None,
                f"{item.scale} ({scale.min}..{scale.max})" if scale is not None else None,
                CHOICE_SEPARATOR.join(item.correct) if item.correct else None,
                float(item.points) if knowledge else None,
                item.partial_credit if knowledge else None,
                item.dont_know if knowledge else None,
                item.breakdown,
                item.source,
            )
        )
    names = tuple(c.name for c in ITEM_CODEBOOK_COLUMNS)
    if answer_keys:
        return Table(names, rows)
    keep = [i for i, name in enumerate(names) if name not in ANSWER_KEY_COLUMNS]
    return Table(tuple(names[i] for i in keep), [tuple(row[i] for i in keep) for row in rows])
