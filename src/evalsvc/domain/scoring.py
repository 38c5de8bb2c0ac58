"""Scores of one submission: knowledge percentages, confidence means, item correctness.

Inputs are answers as normalised by `evalsvc.domain.answers.validate_answers`; values
of an unexpected shape are tolerated and simply score nothing. Every function here
considers all items of the course with the relevant role (pre and post show the same
knowledge and self-assessment items), whatever phase the answers came from.

Results are dicts of plain Python floats/bools. Skill keys come in the order of
``course.skills`` (then any other skill named by an item), and ``"total"`` comes last.

Knowledge scoring rule (`item_points`), for an item worth ``points``:

* unanswered, or ``"dont_know"`` chosen: 0;
* single_choice / true_false: ``points`` when the chosen option is the key, else 0;
* multiple_choice without partial credit: ``points`` when the set of chosen options
  equals the key set exactly, else 0;
* multiple_choice with ``partial_credit``::

      points * max(0, (correct chosen - wrong chosen) / len(key))

  e.g. key {a, c}, 2 points: {a} -> 2 * 1/2 = 1; {a, b, c} -> 2 * (2-1)/2 = 1;
  {a, b} -> 2 * 0 = 0; {b, d} -> 2 * max(0, -1) = 0; {a, c} -> 2.

A skill's knowledge score is 100 * points earned / points available over its
knowledge items; ``"total"`` does the same over all knowledge items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from evalsvc.domain.questionnaire import DONT_KNOW, Course, Item

TOTAL = "total"
"""Key of the all-skills figure in score dicts."""


def item_points(item: Item, answer: object) -> float:
    """Points earned by `answer` on knowledge item `item` (see the module docstring)."""
    key = frozenset(item.correct)
    if not key:
        return 0.0
    chosen = _selection(answer)
    if not chosen or DONT_KNOW in chosen:
        return 0.0
    points = float(item.points)
    if item.kind == "multiple_choice" and item.partial_credit:
        right = len(chosen & key)
        wrong = len(chosen - key)
        return points * max(0.0, (right - wrong) / len(key))
    return points if chosen == key else 0.0


def item_correct(course: Course, answers: Mapping[str, object]) -> dict[str, bool]:
    """Per knowledge item id: whether the answer is fully correct (partial credit is not)."""
    out: dict[str, bool] = {}
    for item in course.items_by_role("knowledge"):
        chosen = _selection(answers.get(item.id))
        out[item.id] = bool(item.correct) and chosen == frozenset(item.correct)
    return out


def knowledge_scores(course: Course, answers: Mapping[str, object]) -> dict[str, float]:
    """Per skill and ``"total"``: percentage (0..100) of knowledge points earned.

    Skills without knowledge items (or whose items are worth no points) are absent.
    """
    earned: dict[str, float] = {}
    available: dict[str, float] = {}
    for item in course.items_by_role("knowledge"):
        got = item_points(item, answers.get(item.id))
        for group in _groups(item):
            earned[group] = earned.get(group, 0.0) + got
            available[group] = available.get(group, 0.0) + float(item.points)
    return {
        group: float(100.0 * earned[group] / available[group])
        for group in _ordered(course, available)
        if available[group] > 0
    }


def confidence_scores(course: Course, answers: Mapping[str, object]) -> dict[str, float]:
    """Per skill: mean of the answered self-assessment likert values; ``"total"``: mean
    of all answered self-assessment items. A skill with nothing answered is absent,
    and so is ``"total"`` when nothing at all is answered. Values that are not whole
    numbers on the item's scale are ignored.
    """
    values: dict[str, list[int]] = {}
    for item in course.items_by_role("self_assessment"):
        value = _likert_value(course, item, answers.get(item.id))
        if value is None:
            continue
        for group in _groups(item):
            values.setdefault(group, []).append(value)
    return {
        group: float(sum(values[group]) / len(values[group])) for group in _ordered(course, values)
    }


def score_submission(
    course: Course, answers: Mapping[str, object]
) -> tuple[dict[str, float], dict[str, float], dict[str, bool]]:
    """(knowledge_scores, confidence_scores, item_correct) of one submission."""
    return (
        knowledge_scores(course, answers),
        confidence_scores(course, answers),
        item_correct(course, answers),
    )


def _selection(answer: object) -> frozenset[str]:
    if isinstance(answer, str):
        return frozenset((answer,))
    if isinstance(answer, list | tuple):
        return frozenset(v for v in answer if isinstance(v, str))
    return frozenset()


def _likert_value(course: Course, item: Item, answer: object) -> int | None:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return None
    if isinstance(answer, float) and not (math.isfinite(answer) and answer.is_integer()):
        return None
    value = int(answer)
    scale = course.scale(item.scale)
    if scale is not None and not scale.min <= value <= scale.max:
        return None
    return value


def _groups(item: Item) -> tuple[str, ...]:
    return (item.skill, TOTAL) if item.skill is not None else (TOTAL,)


def _ordered(course: Course, present: Iterable[str]) -> list[str]:
    keys = set(present)
    skills = [s for s in course.skill_ids() if s in keys and s != TOTAL]
    others = [k for k in present if k not in skills and k != TOTAL]
    return [*skills, *others, *([TOTAL] if TOTAL in keys else [])]
