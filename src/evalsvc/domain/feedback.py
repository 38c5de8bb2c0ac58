"""Post-course feedback: Likert distributions per agency, and the free-text answers.

Distributions of small groups are withheld and free text is listed only from k post
submissions on; the rule is in `evalsvc.domain.suppression`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import msgspec
import numpy as np

from evalsvc.domain.cohort import ALL
from evalsvc.domain.questionnaire import TEXT_KINDS, Course, Item, Scale
from evalsvc.domain.suppression import SuppressionReason, suppression_plan


class FeedbackLikertRow(msgspec.Struct, kw_only=True, frozen=True):
    item: str
    agency: str
    n: int
    suppressed: bool
    suppressed_reason: SuppressionReason | None
    distribution: dict[int, int] | None
    """Scale point -> number of answers, every point of the scale listed."""
    mean: float | None
    top_two_box: float | None
    """Share of answers on the two highest scale points."""


class FeedbackTexts(msgspec.Struct, kw_only=True, frozen=True):
    item: str
    kind: str
    answers: list[str]
    notes: list[str]


class FeedbackSummary(msgspec.Struct, kw_only=True, frozen=True):
    min_cell_size: int
    likert: list[FeedbackLikertRow]
    texts: list[FeedbackTexts]


def feedback_summary(
    course: Course,
    responses: Sequence[tuple[str, Mapping[str, object]]],
    min_cell_size: int,
) -> FeedbackSummary:
    """Feedback of the post submissions; each response is (agency, answers)."""
    likert_rows: list[FeedbackLikertRow] = []
    texts: list[FeedbackTexts] = []
    for item in course.items_by_role("feedback"):
        scale = course.scale(item.scale)
        if item.kind == "likert" and scale is not None:
            likert_rows.extend(_likert_rows(course, item, scale, responses, min_cell_size))
        elif item.kind in TEXT_KINDS:
            texts.append(_text_answers(item, responses, min_cell_size))
    return FeedbackSummary(min_cell_size=min_cell_size, likert=likert_rows, texts=texts)


def _likert_rows(
    course: Course,
    item: Item,
    scale: Scale,
    responses: Sequence[tuple[str, Mapping[str, object]]],
    k: int,
) -> list[FeedbackLikertRow]:
    agencies = course.agency_ids()
    values: dict[str, list[int]] = {agency: [] for agency in (*agencies, ALL)}
    for agency, answers in responses:
        point = _likert_point(answers.get(item.id), scale)
        if point is None:
            continue
        values[ALL].append(point)
        if agency in values and agency != ALL:
            values[agency].append(point)
    counts = {agency: len(values[agency]) for agency in agencies}
    plan = suppression_plan(counts, len(values[ALL]), k)
    return [
        _likert_row(item.id, agency, values[agency], scale, plan.get(agency))
        for agency in (*agencies, ALL)
    ]


def _likert_row(
    item_id: str,
    agency: str,
    points: list[int],
    scale: Scale,
    reason: SuppressionReason | None,
) -> FeedbackLikertRow:
    n = len(points)
    if reason is not None or n == 0:
        return FeedbackLikertRow(
            item=item_id,
            agency=agency,
            n=n,
            suppressed=reason is not None,
            suppressed_reason=reason,
            distribution=None,
            mean=None,
            top_two_box=None,
        )
    counts = np.bincount(np.array(points) - scale.min, minlength=len(scale.points))
    top_two = int(np.count_nonzero(np.array(points) >= scale.max - 1))
    return FeedbackLikertRow(
        item=item_id,
        agency=agency,
        n=n,
        suppressed=False,
        suppressed_reason=None,
        distribution={point: int(count) for point, count in zip(scale.points, counts, strict=True)},
        mean=float(np.mean(points)),
        top_two_box=top_two / n,
    )


def _likert_point(answer: object, scale: Scale) -> int | None:
    """A whole number on the scale (int, or int-valued float), else None."""
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return None
    if isinstance(answer, float) and not (math.isfinite(answer) and answer.is_integer()):
        return None
    point = int(answer)
    return point if scale.min <= point <= scale.max else None


def _text_answers(
    item: Item, responses: Sequence[tuple[str, Mapping[str, object]]], k: int
) -> FeedbackTexts:
    if len(responses) < k:
        note = f"answers withheld: {len(responses)} post submissions, fewer than {k}"
        return FeedbackTexts(item=item.id, kind=item.kind, answers=[], notes=[note])
    answers = _non_empty_texts(answers.get(item.id) for _, answers in responses)
    # Sorted, not in submission order, so that no answer can be linked to a submission.
    return FeedbackTexts(
        item=item.id, kind=item.kind, answers=sorted(answers, key=str.casefold), notes=[]
    )


def _non_empty_texts(values: Iterable[object]) -> list[str]:
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]
