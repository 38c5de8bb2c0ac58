"""Summaries of the items that are not scored: feedback, profile and follow-up questions.

Each phase's own items are summarised for that phase, whatever their kind, per
breakdown group (and "all"):

* choice items (single, multiple, true/false) -- how many people chose each answer;
* likert items -- the distribution over the scale, the mean and SD, and the top-two
  box (share on the two highest points); "does not apply" answers (`not_applicable`)
  are counted apart and left out of the means;
* number items -- mean and SD (no minimum, maximum or median: those are one
  person's answer);
* text items -- the answers of the whole phase, sorted, with no group and no link to
  a submission, once at least k people answered.

Figures of small groups are withheld by the plan (`disclosure.plan`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Annotated

import msgspec
import numpy as np

from evalsvc.domain.columns import COUNT, KEY, PEOPLE, SHARE, TEXT, VALUE, column
from evalsvc.domain.disclosure.plan import Plan, Reason
from evalsvc.domain.disclosure.releases import Release
from evalsvc.domain.populations import Populations, masks_by_group, summarised_items
from evalsvc.domain.questionnaire import (
    CHOICE_KINDS,
    NOT_APPLICABLE,
    TEXT_KINDS,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
)


class AnswerSummary(msgspec.Struct, kw_only=True, frozen=True):
    """One summarised item, in one phase, for one group."""

    phase: Annotated[str, column("the phase that asked the item", KEY)]
    item: Annotated[str, column("item id", KEY)]
    kind: Annotated[str, column("the item's kind", KEY)]
    breakdown: Annotated[str, column("all, agency, or a breakdown item", KEY)]
    group: Annotated[str, column("the group within the breakdown", KEY)]
    n: Annotated[int, column("people of the group who answered the item", PEOPLE)]
    n_not_applicable: Annotated[
        int | None, column('answers "does not apply", left out of the mean', COUNT)
    ] = None
    distribution: Annotated[
        dict[str, int] | None,
        column("answer (option id or scale point) -> number of people who gave it", COUNT),
    ] = None
    mean: Annotated[float | None, column("mean answer (likert and number items)", VALUE)] = None
    sd: Annotated[float | None, column("standard deviation (n - 1) of the answers", VALUE)] = None
    top_two_box: Annotated[
        float | None, column("share of answers on the two highest scale points", SHARE)
    ] = None
    withheld: Annotated[dict[str, Reason], column("withheld figures and why", TEXT)] = {}
    notes: Annotated[list[str], column("remarks, in English", TEXT)] = msgspec.field(
        default_factory=list
    )


class TextAnswers(msgspec.Struct, kw_only=True, frozen=True):
    phase: Annotated[str, column("the phase that asked the item", KEY)]
    item: Annotated[str, column("item id", KEY)]
    answers: Annotated[list[str], column("the answers, sorted, without any group", TEXT)]
    notes: Annotated[list[str], column("remarks, in English", TEXT)]


_FIGURES = ("n_not_applicable", "distribution", "mean", "sd", "top_two_box")


def answer_summaries(
    course: Course, populations: Populations, plan: Plan
) -> tuple[list[AnswerSummary], list[TextAnswers]]:
    rows: list[AnswerSummary] = []
    texts: list[TextAnswers] = []
    for phase, items in summarised_items(course).items():
        answers = populations.cohort.answers.get(phase) or []
        for item in items:
            values = [a.get(item.id) if a is not None else None for a in answers]
            if item.kind in TEXT_KINDS:
                texts.append(_texts(phase, item, values, course.min_cell_size))
                continue
            answered = populations.answered(phase, item.id)
            for breakdown in populations.breakdowns():
                for group, members in masks_by_group(populations, breakdown, answered):
                    release = Release("answers", "", phase, "", item.id, breakdown.id, group)
                    chosen = [values[i] for i in np.flatnonzero(members)]
                    rows.append(
                        _row(course, phase, item, breakdown.id, group, chosen, plan.reason(release))
                    )
    return rows, texts


def _row(
    course: Course,
    phase: str,
    item: Item,
    breakdown: str,
    group: str,
    chosen: Sequence[object],
    reason: Reason | None,
) -> AnswerSummary:
    row = AnswerSummary(
        phase=phase, item=item.id, kind=item.kind, breakdown=breakdown, group=group, n=len(chosen)
    )
    if reason is not None:
        return msgspec.structs.replace(
            row,
            withheld=dict.fromkeys(_FIGURES, reason),
            notes=[f"figures withheld ({reason}: {len(chosen)} people)"],
        )
    if not chosen:
        return row
    if item.kind == "likert":
        return msgspec.structs.replace(row, **_likert(course, item, chosen))
    if item.kind == "number":
        numbers = [float(v) for v in chosen if isinstance(v, int | float) and _is_number(v)]
        return msgspec.structs.replace(row, **_mean_sd(numbers))
    if item.kind in CHOICE_KINDS:
        options = TRUE_FALSE_OPTIONS if item.kind == "true_false" else item.option_ids
        counts: Counter[str] = Counter()
        for value in chosen:
            counts.update(value if isinstance(value, list) else [str(value)])
        return msgspec.structs.replace(
            row, distribution={option: counts.get(option, 0) for option in options}
        )
    return row


def _likert(course: Course, item: Item, chosen: Sequence[object]) -> dict[str, object]:
    scale = course.scale(item.scale)
    points = list(scale.points) if scale is not None else []
    numbers = [int(v) for v in chosen if _is_number(v)]  # type: ignore[call-overload]
    not_applicable = sum(1 for v in chosen if v == NOT_APPLICABLE)
    counts = Counter(numbers)
    fields: dict[str, object] = {
        "distribution": {str(point): counts.get(point, 0) for point in points},
        **_mean_sd([float(x) for x in numbers]),
    }
    if item.not_applicable:
        fields["n_not_applicable"] = not_applicable
    if numbers and points:
        top = sum(1 for x in numbers if x >= points[-1] - 1)
        fields["top_two_box"] = top / len(numbers)
    return fields


def _mean_sd(values: Sequence[float]) -> dict[str, object]:
    if not values:
        return {}
    array = np.array(values, dtype=float)
    fields: dict[str, object] = {"mean": float(array.mean())}
    if array.size >= 2:
        fields["sd"] = 0.0 if array.max() == array.min() else float(array.std(ddof=1))
    return fields


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _texts(phase: str, item: Item, values: Sequence[object], k: int) -> TextAnswers:
    given = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if len(given) < k:
        note = f"answers withheld: {len(given)} people answered, fewer than min_cell_size {k}"
        return TextAnswers(phase=phase, item=item.id, answers=[], notes=[note] if given else [])
    # Sorted, not in submission order, so that no answer can be linked to a submission.
    return TextAnswers(phase=phase, item=item.id, answers=sorted(given, key=str.casefold), notes=[])


def answers_of(records: Mapping[str, object], item_ids: Sequence[str]) -> dict[str, object]:
    """The answers to `item_ids` among a submission's answers (what storage keeps apart)."""
    return {key: records[key] for key in item_ids if key in records}
