"""A course's evaluation flattened into named tables, the same in every format.

Every table is a `Table`: ordered column names and rows of plain cells (`Cell`: str,
int, float, bool or None). A `Table` unpacks as ``columns, rows``.

Column names are *exactly* the field names of the domain Structs
(`evalsvc.domain.summary`, `.items`, `.feedback`), so ``summary.csv``, the ``Summary``
sheet and the JSON of
``/summary`` name every figure the same way. Where a Struct field is not a plain
value it is flattened like this:

* lists (``notes``, ``agencies``) are joined with ``"; "``;
* ``FeedbackLikertRow.distribution`` (scale point -> number of answers) becomes one
  column per scale point, ``n_<point>`` (``n_1`` .. ``n_5`` for a 1..5 scale), in
  place of ``distribution``. The points are those of every feedback likert scale of
  the course (or, without the course, those seen in the report); a row whose item
  has no such point, or whose distribution is withheld, has None there;
* ``FeedbackTexts`` becomes one row per answer, columns ``item`` and ``answer``;
  an item whose answers are withheld has no rows.

`report_tables` gives, in this order: ``summary``, ``agency_comparison``, ``items``,
``reliability``, ``feedback``, ``feedback_texts`` and ``codebook`` (what each column
of each table means, and its unit). For analysts, participant-level tables are
built row by row so they can be streamed: `scores_columns` and `score_rows`,
`responses_columns` and `response_row`; and `item_codebook` lists the questions with
their options and answer keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from evalsvc.domain.cohort import MEASURES, PHASES, ParticipantScores
from evalsvc.domain.feedback import FeedbackLikertRow
from evalsvc.domain.items import ItemRow, ReliabilityRow
from evalsvc.domain.questionnaire import Course, Item
from evalsvc.domain.summary import AgencyComparison, SummaryRow

if TYPE_CHECKING:  # annotations only: no storage (database) import at run time
    from evalsvc.reports import CourseReport
    from evalsvc.storage.records import ResponseRow

Cell = str | int | float | bool | None
"""One value of a table: numbers stay numbers, None is an empty cell."""

LIST_SEPARATOR = "; "
"""How list fields (notes, agencies) are joined into one cell."""
CHOICE_SEPARATOR = "|"
"""How the options of a multiple-choice answer (and an answer key) are joined."""
ITEM_COLUMN = "<item id>"
"""Codebook name standing for the per-item columns of the responses table."""

TABLE_NAMES = (
    "summary",
    "agency_comparison",
    "items",
    "reliability",
    "feedback",
    "feedback_texts",
    "codebook",
)


class Table(NamedTuple):
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _fields(struct_type: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(struct_type.__struct_fields__)


SUMMARY_COLUMNS = _fields(SummaryRow)
AGENCY_COMPARISON_COLUMNS = _fields(AgencyComparison)
ITEMS_COLUMNS = _fields(ItemRow)
RELIABILITY_COLUMNS = _fields(ReliabilityRow)
FEEDBACK_TEXTS_COLUMNS = ("item", "answer")
CODEBOOK_COLUMNS = ("name", "table", "meaning", "unit")
SCORES_COLUMNS = ("participant", "agency", "phase", "measure", "skill", "score")
RESPONSES_FIXED_COLUMNS = (
    "participant",
    "agency",
    "submitted_agency",
    "agency_mismatch",
    "phase",
    "lang",
    "received_at",
)
ITEM_CODEBOOK_COLUMNS = (
    "item",
    "role",
    "kind",
    "section",
    "skill",
    "text",
    "options",
    "scale",
    "correct",
    "points",
    "partial_credit",
    "dont_know",
    "source",
)

ANSWER_KEY_COLUMNS = frozenset({"correct", "source"})


# -- cells -------------------------------------------------------------------------


def cell(value: object) -> Cell:
    """A Struct field's value as one cell: lists joined, everything else as it is."""
    if value is None or isinstance(value, str | bool | int | float):
        return value  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    raise TypeError(f"no cell for a {type(value).__name__}")


def struct_row(struct: msgspec.Struct, columns: Sequence[str]) -> tuple[Cell, ...]:
    return tuple(cell(getattr(struct, name)) for name in columns)


# -- the report's tables -------------------------------------------------------------


def report_tables(report: CourseReport, course: Course | None = None) -> dict[str, Table]:
    """Every table of the report by name, in `TABLE_NAMES` order.

    Pass the `course` so that the ``feedback`` table has an ``n_<point>`` column for
    every point of its scales even when every distribution is withheld.
    """
    points = feedback_points(report, course)
    tables = {
        "summary": Table(
            SUMMARY_COLUMNS, [struct_row(r, SUMMARY_COLUMNS) for r in report.summary.rows]
        ),
        "agency_comparison": Table(
            AGENCY_COMPARISON_COLUMNS,
            [struct_row(r, AGENCY_COMPARISON_COLUMNS) for r in report.summary.agency_comparison],
        ),
        "items": Table(ITEMS_COLUMNS, [struct_row(r, ITEMS_COLUMNS) for r in report.items]),
        "reliability": Table(
            RELIABILITY_COLUMNS, [struct_row(r, RELIABILITY_COLUMNS) for r in report.reliability]
        ),
        "feedback": feedback_table(report.feedback.likert, points),
        "feedback_texts": Table(
            FEEDBACK_TEXTS_COLUMNS,
            [(texts.item, answer) for texts in report.feedback.texts for answer in texts.answers],
        ),
    }
    tables["codebook"] = codebook(points)
    return tables


def feedback_points(report: CourseReport, course: Course | None = None) -> list[int]:
    """The scale points that get an ``n_<point>`` column, ascending."""
    points: set[int] = set()
    if course is not None:
        for item in course.items_by_role("feedback"):
            scale = course.scale(item.scale)
            if item.kind == "likert" and scale is not None:
                points.update(scale.points)
    for row in report.feedback.likert:
        points.update(row.distribution or ())
    return sorted(points)


def point_column(point: int) -> str:
    return f"n_{point}"


def feedback_columns(points: Sequence[int]) -> tuple[str, ...]:
    """FeedbackLikertRow's fields with ``distribution`` replaced by ``n_<point>``."""
    columns: list[str] = []
    for name in _fields(FeedbackLikertRow):
        if name == "distribution":
            columns.extend(point_column(p) for p in points)
        else:
            columns.append(name)
    return tuple(columns)


def feedback_table(rows: Iterable[FeedbackLikertRow], points: Sequence[int]) -> Table:
    out = []
    for row in rows:
        cells: list[Cell] = []
        for name in _fields(FeedbackLikertRow):
            if name == "distribution":
                distribution = row.distribution or {}
                cells.extend(distribution.get(p) for p in points)
            else:
                cells.append(cell(getattr(row, name)))
        out.append(tuple(cells))
    return Table(feedback_columns(points), out)


# -- participant level (analysts) ------------------------------------------------------


def scores_columns() -> tuple[str, ...]:
    return SCORES_COLUMNS


def score_rows(participants: Iterable[ParticipantScores]) -> Iterator[tuple[Cell, ...]]:
    """participant x phase x measure x skill (skills in score order, "total" last)."""
    for person in participants:
        for phase in PHASES:
            scores = getattr(person, phase)
            if scores is None:
                continue
            for measure in MEASURES:
                for skill, score in getattr(scores, measure).items():
                    yield (person.participant, person.agency, phase, measure, skill, score)


def responses_columns(course: Course) -> tuple[str, ...]:
    """The fixed columns, then one per item of the course in course order.

    An item whose id equals a fixed column name gets the column ``item_<id>``.
    """
    return (*RESPONSES_FIXED_COLUMNS, *(_item_column(item) for item in course.items))


def _item_column(item: Item) -> str:
    return f"item_{item.id}" if item.id in RESPONSES_FIXED_COLUMNS else item.id


_decode_answers = msgspec.json.Decoder(dict[str, object]).decode


def response_row(course: Course, row: ResponseRow) -> tuple[Cell, ...]:
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
        return answer  # type: ignore[return-value]
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
    rows = []
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
                item.source,
            )
        )
    if answer_keys:
        return Table(ITEM_CODEBOOK_COLUMNS, rows)
    keep = [i for i, name in enumerate(ITEM_CODEBOOK_COLUMNS) if name not in ANSWER_KEY_COLUMNS]
    return Table(
        tuple(ITEM_CODEBOOK_COLUMNS[i] for i in keep),
        [tuple(row[i] for i in keep) for row in rows],
    )


# -- codebook --------------------------------------------------------------------------

SCORE = "knowledge: % of points (0-100); confidence: scale point"
GAIN = "knowledge: percentage points; confidence: scale points"
PEOPLE = "people"
PROBABILITY = "p-value (0-1)"
SHARE = "proportion (0-1)"
CORRELATION = "correlation (-1 to 1)"
STANDARDIZED = "standard deviations of the gain"
FLAG = "true/false"
TEXT = "text"
ID = "id"

_SUPPRESSED_REASON = (
    "why the figures are withheld: 'size' (fewer than min_cell_size people) or "
    "'complementary' (withheld so that a smaller withheld group cannot be worked out "
    "from 'all' minus the shown agencies); empty when shown"
)

_CODEBOOK: dict[str, list[tuple[str, str, str]]] = {
    "summary": [
        ("measure", "knowledge (test score) or confidence (self-assessment)", TEXT),
        ("agency", "agency id, or 'all' for every participant", ID),
        ("skill", "skill id, or 'total' for all skills together", ID),
        ("n_pre", "participants with a pre-course score in this cell", PEOPLE),
        ("n_post", "participants with a post-course score in this cell", PEOPLE),
        ("n_paired", "participants with both; the paired statistics use only them", PEOPLE),
        ("suppressed", "the paired statistics of this row are withheld", FLAG),
        ("suppressed_reason", _SUPPRESSED_REASON, TEXT),
        ("pre_mean", "mean pre-course score of the paired participants", SCORE),
        ("post_mean", "mean post-course score of the paired participants", SCORE),
        ("pre_sd", "standard deviation (ddof=1) of the paired pre scores", SCORE),
        ("post_sd", "standard deviation (ddof=1) of the paired post scores", SCORE),
        ("mean_gain", "mean of post minus pre over the paired participants", GAIN),
        ("gain_sd", "standard deviation (ddof=1) of the gains", GAIN),
        ("gain_ci_low", "lower bound of the 95% paired-t confidence interval of mean_gain", GAIN),
        ("gain_ci_high", "upper bound of the 95% paired-t confidence interval of mean_gain", GAIN),
        ("t_statistic", "paired t statistic: mean_gain / (gain_sd / sqrt(n_paired))", "t"),
        ("t_df", "degrees of freedom of the paired t test: n_paired - 1", "df"),
        ("t_pvalue", "two-sided p-value of the paired t test", PROBABILITY),
        ("p_holm", "t_pvalue adjusted by Holm over the shown rows of this measure", PROBABILITY),
        (
            "wilcoxon_statistic",
            "Wilcoxon signed-rank statistic: the smaller of the sums of ranks of positive "
            "and of negative gains (zero gains dropped)",
            "rank sum",
        ),
        ("wilcoxon_pvalue", "two-sided p-value of the Wilcoxon signed-rank test", PROBABILITY),
        (
            "wilcoxon_method",
            "how that p-value was computed: exact, permutation or asymptotic",
            TEXT,
        ),
        (
            "rank_biserial",
            "matched-pairs rank-biserial correlation: (R+ - R-) / (R+ + R-)",
            CORRELATION,
        ),
        ("cohens_dz", "Cohen's d_z: mean_gain / gain_sd", STANDARDIZED),
        (
            "dz_ci_low",
            "lower bound of the 95% noncentral-t confidence interval of d_z",
            STANDARDIZED,
        ),
        (
            "dz_ci_high",
            "upper bound of the 95% noncentral-t confidence interval of d_z",
            STANDARDIZED,
        ),
        ("hedges_gz", "Hedges' g_z: d_z times the exact small-sample correction J", STANDARDIZED),
        ("hedges_gz_ci_low", "dz_ci_low times J", STANDARDIZED),
        ("hedges_gz_ci_high", "dz_ci_high times J", STANDARDIZED),
        (
            "normalized_gain",
            "Hake's normalized gain (post_mean - pre_mean) / (100 - pre_mean); knowledge only",
            "share of the possible gain",
        ),
        ("n_improved", "paired participants whose score rose", PEOPLE),
        ("n_unchanged", "paired participants whose score stayed the same", PEOPLE),
        ("n_declined", "paired participants whose score fell", PEOPLE),
        ("pre_mean_all", "mean over every pre-course submission, paired or not", SCORE),
        ("post_mean_all", "mean over every post-course submission, paired or not", SCORE),
        (
            "welch_t_pvalue",
            "two-sided p-value of Welch's t test of all post against all pre submissions",
            PROBABILITY,
        ),
        ("notes", "why a figure is missing or withheld, joined with '; '", TEXT),
    ],
    "agency_comparison": [
        ("measure", "knowledge or confidence", TEXT),
        ("skill", "skill id, or 'total'", ID),
        ("agencies", "agencies whose rows are shown, joined with '; '", ID),
        ("n_groups", "agencies with at least two paired participants, used by the tests", "groups"),
        ("kruskal_h", "Kruskal-Wallis H of the gains across those agencies", "H"),
        ("kruskal_pvalue", "p-value of the Kruskal-Wallis test", PROBABILITY),
        ("welch_f", "Welch's one-way ANOVA F of the gains", "F"),
        ("welch_df1", "numerator degrees of freedom of Welch's F: groups - 1", "df"),
        ("welch_df2", "denominator degrees of freedom of Welch's F (Welch 1951)", "df"),
        ("welch_pvalue", "p-value of Welch's ANOVA", PROBABILITY),
        ("notes", "why a figure is missing, joined with '; '", TEXT),
    ],
    "items": [
        ("item", "knowledge item id", ID),
        ("skill", "skill the item tests", ID),
        ("n_pre", "participants with a pre-course answer sheet", PEOPLE),
        ("n_post", "participants with a post-course answer sheet", PEOPLE),
        ("n_paired", "participants with both", PEOPLE),
        ("p_pre", "item difficulty p: share fully correct before the course", SHARE),
        ("p_post", "share fully correct after the course", SHARE),
        (
            "discrimination_pre",
            "corrected item-rest point-biserial correlation before the course",
            CORRELATION,
        ),
        (
            "discrimination_post",
            "corrected item-rest point-biserial correlation after the course",
            CORRELATION,
        ),
        ("mcnemar_b", "paired participants wrong before and right after", PEOPLE),
        ("mcnemar_c", "paired participants right before and wrong after", PEOPLE),
        ("mcnemar_p", "exact two-sided McNemar p-value from mcnemar_b and mcnemar_c", PROBABILITY),
        ("notes", "why a figure is missing or withheld, joined with '; '", TEXT),
    ],
    "reliability": [
        ("skill", "skill id, or 'total' for all knowledge items", ID),
        ("phase", "pre or post", TEXT),
        ("n", "participants who have every item of the skill in that phase", PEOPLE),
        ("k", "number of knowledge items", "items"),
        ("kr20", "Kuder-Richardson 20 reliability (variances with ddof=1)", "coefficient (<= 1)"),
        ("notes", "why the figure is missing or withheld, joined with '; '", TEXT),
    ],
    "feedback": [
        ("item", "feedback likert item id", ID),
        ("agency", "agency id, or 'all'", ID),
        ("n", "post-course answers to this item", PEOPLE),
        ("suppressed", "the distribution, mean and top-two-box are withheld", FLAG),
        ("suppressed_reason", _SUPPRESSED_REASON, TEXT),
        # n_<point> columns are inserted here (see `codebook`)
        ("mean", "mean answer", "scale point"),
        ("top_two_box", "share of answers on the two highest points of the scale", SHARE),
    ],
    "feedback_texts": [
        ("item", "free-text feedback item id", ID),
        ("answer", "one answer, as written; sorted, with neither agency nor participant", TEXT),
    ],
    "codebook": [
        ("name", "column name", TEXT),
        ("table", "table (CSV file or sheet) the column belongs to", TEXT),
        ("meaning", "what the column holds", TEXT),
        ("unit", "unit or scale of the values", TEXT),
    ],
    "scores": [
        ("participant", "pseudonymous participant number within the course", ID),
        ("agency", "the participant's agency id", ID),
        ("phase", "pre or post", TEXT),
        ("measure", "knowledge or confidence", TEXT),
        ("skill", "skill id, or 'total'", ID),
        ("score", "the participant's score", SCORE),
    ],
    "responses": [
        ("participant", "pseudonymous participant number within the course", ID),
        ("agency", "the participant's agency id (as first recorded)", ID),
        ("submitted_agency", "agency chosen in this submission", ID),
        ("agency_mismatch", "submitted_agency differs from agency", FLAG),
        ("phase", "pre or post", TEXT),
        ("lang", "language the questionnaire was answered in", TEXT),
        ("received_at", "when the submission was stored", "ISO 8601 UTC time"),
        (
            ITEM_COLUMN,
            "one column per item, in course order: the option id; multiple choice ids "
            "joined with '|'; likert and number answers as numbers; text as written; "
            "empty when unanswered (see items_codebook)",
            "as the item",
        ),
    ],
    "items_codebook": [
        ("item", "item id", ID),
        ("role", "knowledge, self_assessment, feedback or profile", TEXT),
        ("kind", "single_choice, multiple_choice, true_false, likert, text or number", TEXT),
        ("section", "questionnaire section id", ID),
        ("skill", "skill the item belongs to", ID),
        ("text", "question text in the report's language", TEXT),
        ("options", "option id=text pairs (likert: value=label), joined with '; '", TEXT),
        ("scale", "likert scale id and range", TEXT),
        ("correct", "answer key: correct option ids joined with '|'", ID),
        ("points", "points the knowledge item is worth", "points"),
        ("partial_credit", "multiple choice scored with partial credit", FLAG),
        ("dont_know", "the item offers 'I don't know' (scored 0)", FLAG),
        ("source", "provision the answer key rests on", TEXT),
    ],
}


def codebook(points: Sequence[int] = ()) -> Table:
    """Name, table, meaning and unit of every column of every table."""
    rows: list[tuple[Cell, ...]] = []
    for table, entries in _CODEBOOK.items():
        for name, meaning, unit in entries:
            if table == "feedback" and name == "mean":
                rows.extend(
                    (point_column(p), table, f"answers on scale point {p}", PEOPLE) for p in points
                )
            rows.append((name, table, meaning, unit))
    return Table(CODEBOOK_COLUMNS, rows)
