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

"I don't know" (`dont_know_scores`): the percentage of a skill's knowledge items that
offer "I don't know" which were answered so; ``"total"`` over all such items. Skills
without such items are absent.

`scoring_fingerprint` identifies the rules above together with the course's answer
key, points and skills, so that submissions scored under other rules can be found and
rescored (`evalsvc rescore`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import msgspec

from evalsvc.domain.per_course import PerCourse
from evalsvc.domain.questionnaire import DONT_KNOW, Course, Item, Scale

TOTAL = "total"
"""Key of the all-skills figure in score dicts."""

SCORING_RULES_VERSION = 2
"""Bumped whenever the rules in this module change what a stored score means."""


class PhaseScores(msgspec.Struct, frozen=True, kw_only=True):
    """The scores of one submission, as stored with it and read back by the reports."""

    knowledge: dict[str, float]
    """skill id -> 0..100 percent of points, plus key "total"."""
    confidence: dict[str, float]
    """skill id -> likert mean, plus "total"; a skill with no answered item is absent."""
    correct: dict[str, bool]
    """knowledge item id -> answered fully correctly."""
    dont_know: dict[str, float] = {}
    """skill id -> 0..100 percent of its "I don't know" items answered so, plus "total"."""
    confidence_answered: dict[str, int] = {}
    """skill id -> self-assessment items answered (the weights of the confidence total)."""


def item_points(item: Item, answer: object) -> float:
    """Points earned by `answer` on knowledge item `item` (see the module docstring)."""
    return _points(item, frozenset(item.correct), _selection(answer))


def _points(item: Item, key: frozenset[str], chosen: frozenset[str]) -> float:
    if not key or not chosen or DONT_KNOW in chosen:
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
    for item in _tables(course).knowledge:
        chosen = _selection(answers.get(item.id))
        out[item.id] = bool(item.correct) and chosen == frozenset(item.correct)
    return out


def knowledge_scores(course: Course, answers: Mapping[str, object]) -> dict[str, float]:
    """Per skill and ``"total"``: percentage (0..100) of knowledge points earned.

    Skills without knowledge items (or whose items are worth no points) are absent.
    """
    earned: dict[str, float] = {}
    available: dict[str, float] = {}
    for item in _tables(course).knowledge:
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
    for item in _tables(course).self_assessment:
        value = _likert_value(course, item, answers.get(item.id))
        if value is None:
            continue
        for group in _groups(item):
            values.setdefault(group, []).append(value)
    return {
        group: float(sum(values[group]) / len(values[group])) for group in _ordered(course, values)
    }


def dont_know_scores(course: Course, answers: Mapping[str, object]) -> dict[str, float]:
    """Per skill and ``"total"``: percent of the knowledge items offering "I don't know"
    that were answered "I don't know"."""
    chosen: dict[str, int] = {}
    offered: dict[str, int] = {}
    for item in _tables(course).knowledge:
        if not item.dont_know:
            continue
        said = int(DONT_KNOW in _selection(answers.get(item.id)))
        for group in _groups(item):
            chosen[group] = chosen.get(group, 0) + said
            offered[group] = offered.get(group, 0) + 1
    return {group: 100.0 * chosen[group] / offered[group] for group in _ordered(course, offered)}


def confidence_answered(course: Course, answers: Mapping[str, object]) -> dict[str, int]:
    """Per skill: how many self-assessment items were answered with a scale value."""
    counts: dict[str, int] = {}
    for item in _tables(course).self_assessment:
        if item.skill is not None and _likert_value(course, item, answers.get(item.id)) is not None:
            counts[item.skill] = counts.get(item.skill, 0) + 1
    return {skill: counts[skill] for skill in _ordered(course, counts)}


def score_submission(course: Course, answers: Mapping[str, object]) -> PhaseScores:
    """Every score of one submission: what the five functions above give, computed in
    one pass over the items (each answer read once; the same sums in the same order)."""
    tables = _tables(course)
    earned: dict[str, float] = {}
    available: dict[str, float] = {}
    correct: dict[str, bool] = {}
    said: dict[str, int] = {}
    offered: dict[str, int] = {}
    for item, key, groups in tables.knowledge_keys:
        chosen = _selection(answers.get(item.id))
        got = _points(item, key, chosen)
        points = float(item.points)
        for group in groups:
            earned[group] = earned.get(group, 0.0) + got
            available[group] = available.get(group, 0.0) + points
        correct[item.id] = bool(item.correct) and chosen == key
        if item.dont_know:
            dont_know = int(DONT_KNOW in chosen)
            for group in groups:
                said[group] = said.get(group, 0) + dont_know
                offered[group] = offered.get(group, 0) + 1
    values: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    for item in tables.self_assessment:
        value = _likert_value(course, item, answers.get(item.id))
        if value is None:
            continue
        for group in _groups(item):
            values.setdefault(group, []).append(value)
        if item.skill is not None:
            counts[item.skill] = counts.get(item.skill, 0) + 1
    return PhaseScores(
        knowledge={
            group: float(100.0 * earned[group] / available[group])
            for group in _ordered(course, available)
            if available[group] > 0
        },
        confidence={
            group: float(sum(values[group]) / len(values[group]))
            for group in _ordered(course, values)
        },
        correct=correct,
        dont_know={
            group: 100.0 * said[group] / offered[group] for group in _ordered(course, offered)
        },
        confidence_answered={skill: counts[skill] for skill in _ordered(course, counts)},
    )


def scoring_fingerprint(course: Course) -> str:
    """A short hash of everything that decides a score (see `_fingerprint`)."""
    return _tables(course).fingerprint


def _fingerprint(course: Course) -> str:
    """A short hash of everything that decides a score: these rules' version, the
    skills, and every knowledge and self-assessment item's key, points and scale.

    Texts, sections and phases do not count: rewording a question keeps the scores.
    """
    items = [
        (
            item.id,
            item.role,
            item.kind,
            item.skill,
            sorted(item.correct),
            float(item.points),
            item.partial_credit,
            item.dont_know,
            item.scale,
        )
        for item in course.items
        if item.role in ("knowledge", "self_assessment")
    ]
    scales = [(s.id, s.min, s.max) for s in course.scales]
    rules = msgspec.json.encode([SCORING_RULES_VERSION, list(course.skill_ids()), scales, items])
    return hashlib.sha256(rules).hexdigest()[:16]


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
    scale = _tables(course).scales.get(item.scale) if item.scale is not None else None
    if scale is not None and not scale.min <= value <= scale.max:
        return None
    return value


def _groups(item: Item) -> tuple[str, ...]:
    return (item.skill, TOTAL) if item.skill is not None else (TOTAL,)


class _Tables(NamedTuple):
    """What scoring looks up in a course, once per course (see `per_course`)."""

    knowledge: tuple[Item, ...]
    knowledge_keys: tuple[tuple[Item, frozenset[str], tuple[str, ...]], ...]
    """Each knowledge item with its key (as a set) and the groups it counts in."""
    self_assessment: tuple[Item, ...]
    skill_ids: tuple[str, ...]
    scales: dict[str, Scale]
    """scale id -> the course's first scale of that id, as `Course.scale` finds it."""
    fingerprint: str


def _build_tables(course: Course, _: str) -> _Tables:
    scales: dict[str, Scale] = {}
    for scale in course.scales:
        scales.setdefault(scale.id, scale)
    knowledge = course.items_by_role("knowledge")
    return _Tables(
        knowledge=knowledge,
        knowledge_keys=tuple((i, frozenset(i.correct), _groups(i)) for i in knowledge),
        self_assessment=course.items_by_role("self_assessment"),
        skill_ids=course.skill_ids(),
        scales=scales,
        fingerprint=_fingerprint(course),
    )


_tables = PerCourse(_build_tables)


def _ordered(course: Course, present: Iterable[str]) -> list[str]:
    keys = set(present)
    skills = [s for s in _tables(course).skill_ids if s in keys and s != TOTAL]
    others = [k for k in present if k not in skills and k != TOTAL]
    return [*skills, *others, *([TOTAL] if TOTAL in keys else [])]
