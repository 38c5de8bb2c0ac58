"""The participants of a course as arrays: what every report table computes on.

`build_cohort` turns the stored submissions (`SubmissionRecord`: the participant's
pseudonymous number and agency, the phase, the breakdown answers and the scores
frozen at intake) into a `Cohort`: one row per participant, with

* the group of each breakdown (agency, and every `breakdown = true` item) as codes;
* which phases each participant answered;
* per measure and phase, the scores per skill and "total" (NaN where absent), and the
  weight of each skill in the participant's total (what the disclosure verifier needs
  to relate a total to its skills);
* per phase, which knowledge items were answered correctly;
* per phase, the answers to the items that are summarised rather than scored
  (feedback, profile, follow-up application questions).

Pure: the records come from storage, decoded; nothing here knows SQL or JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

import numpy as np

from evalsvc.domain.design import AGENCY, Design
from evalsvc.domain.questionnaire import NOT_STATED, Course
from evalsvc.domain.scoring import PhaseScores

UNKNOWN_GROUP = -1
"""Code of a participant whose agency is not one of the course's (counted in 'all' only)."""


class SubmissionRecord(NamedTuple):
    participant: int
    """Pseudonymous number within the course."""
    agency: str
    """The participant's agency (as first submitted)."""
    phase: str
    scores: PhaseScores
    breakdowns: Mapping[str, str]
    """Breakdown item id -> chosen option, as answered in this submission."""
    answers: Mapping[str, object]
    """The answers to summarised (unscored) items of this submission."""


@dataclass(frozen=True)
class Cohort:
    numbers: np.ndarray
    """Pseudonymous participant numbers, ascending."""
    groups: dict[str, np.ndarray]
    """Breakdown id -> each participant's group index in `Breakdown.groups`
    (`UNKNOWN_GROUP` for an agency outside the course)."""
    submitted: dict[str, np.ndarray]
    """Phase -> whether each participant answered it."""
    scores: dict[tuple[str, str], np.ndarray]
    """(measure, phase) -> participants x design.skills (skills, then total); NaN absent."""
    weights: dict[tuple[str, str], np.ndarray]
    """(measure, phase) -> participants x skills (no total): the weight of each skill
    in the participant's total; 0 where the skill is absent."""
    correct: dict[str, np.ndarray]
    """Phase -> participants x knowledge items: 1.0 right, 0.0 wrong, NaN no submission."""
    answers: dict[str, list[Mapping[str, object] | None]] = field(default_factory=dict)
    """Phase -> each participant's answers to summarised items (None: no submission)."""

    @property
    def size(self) -> int:
        return int(self.numbers.size)


def build_cohort(course: Course, design: Design, records: Iterable[SubmissionRecord]) -> Cohort:
    by_person: dict[int, dict[str, SubmissionRecord]] = {}
    agency_of: dict[int, str] = {}
    for record in records:
        by_person.setdefault(record.participant, {})[record.phase] = record
        agency_of.setdefault(record.participant, record.agency)
    numbers = np.array(sorted(by_person), dtype=np.int64)
    people = [by_person[int(number)] for number in numbers]
    n = len(people)

    groups = {AGENCY: _codes([agency_of[int(x)] for x in numbers], course.agency_ids())}
    for breakdown in design.breakdowns[1:]:
        chosen = [_breakdown_value(phases, breakdown.id, course.phase_ids()) for phases in people]
        groups[breakdown.id] = _codes(chosen, breakdown.groups)

    skills = design.skills[:-1]
    knowledge_items = tuple(item.id for item in course.items_by_role("knowledge"))
    submitted: dict[str, np.ndarray] = {}
    scores: dict[tuple[str, str], np.ndarray] = {}
    weights: dict[tuple[str, str], np.ndarray] = {}
    correct: dict[str, np.ndarray] = {}
    answers: dict[str, list[Mapping[str, object] | None]] = {}
    fixed_weights = _fixed_weights(course, skills)
    for phase in design.phases:
        records_of_phase = [phases.get(phase) for phases in people]
        submitted[phase] = np.array([r is not None for r in records_of_phase], dtype=bool)
        phase_scores = [r.scores if r is not None else None for r in records_of_phase]
        for measure in design.measures:
            matrix = _matrix(
                (getattr(s, measure.id) if s is not None else None for s in phase_scores),
                design.skills,
                n,
            )
            scores[(measure.id, phase)] = matrix
            if measure.id == "confidence":
                counts = _matrix(
                    (s.confidence_answered if s is not None else None for s in phase_scores),
                    skills,
                    n,
                )
                counts = np.nan_to_num(counts, nan=0.0)
                counts[np.isnan(matrix[:, :-1])] = 0.0
                totals = counts.sum(axis=1, keepdims=True)
                with np.errstate(invalid="ignore", divide="ignore"):
                    weights[(measure.id, phase)] = np.where(totals > 0, counts / totals, 0.0)
            else:
                present = ~np.isnan(matrix[:, :-1])
                weights[(measure.id, phase)] = np.where(present, fixed_weights[measure.id], 0.0)
        correct[phase] = _matrix(
            (s.correct if s is not None else None for s in phase_scores), knowledge_items, n
        )
        answers[phase] = [r.answers if r is not None else None for r in records_of_phase]
    return Cohort(
        numbers=numbers,
        groups=groups,
        submitted=submitted,
        scores=scores,
        weights=weights,
        correct=correct,
        answers=answers,
    )


def _breakdown_value(phases: Mapping[str, SubmissionRecord], item_id: str, order: Sequence[str]):
    """The earliest phase's answer to a breakdown item, else `NOT_STATED`."""
    for phase in order:
        record = phases.get(phase)
        if record is not None and item_id in record.breakdowns:
            return record.breakdowns[item_id]
    return NOT_STATED


def _codes(values: Sequence[str], ids: Sequence[str]) -> np.ndarray:
    index = {value: i for i, value in enumerate(ids)}
    fallback = index.get(NOT_STATED, UNKNOWN_GROUP)
    return np.array([index.get(v, fallback) for v in values], dtype=np.int64)


def _fixed_weights(course: Course, skills: Sequence[str]) -> dict[str, np.ndarray]:
    """Knowledge: points per skill; "I don't know": items offering it per skill."""
    points = dict.fromkeys(skills, 0.0)
    offered = dict.fromkeys(skills, 0.0)
    for item in course.items_by_role("knowledge"):
        if item.skill in points:
            points[item.skill] += float(item.points)
            offered[item.skill] += float(item.dont_know)
    out = {}
    for measure, per_skill in (("knowledge", points), ("dont_know", offered)):
        values = np.array([per_skill[s] for s in skills], dtype=float)
        total = values.sum()
        out[measure] = values / total if total > 0 else values
    return out


def _matrix(
    records: Iterable[Mapping[str, float] | Mapping[str, bool] | Mapping[str, int] | None],
    keys: Sequence[str],
    n: int,
) -> np.ndarray:
    """One row per record, its values in `keys` order; NaN where a key is missing.

    Scoring writes its dicts in course order, so usually the values can be taken as
    they are (much faster for 10,000 participants than looking up every key).
    """
    keys = list(keys)
    missing = [math.nan] * len(keys)

    def values(record: Mapping | None) -> Iterable[float]:
        if record is None:
            return missing
        if list(record) == keys:
            return record.values()
        return [record.get(key, math.nan) for key in keys]

    flat = chain.from_iterable(map(values, records))
    matrix = np.fromiter(flat, dtype=float, count=n * len(keys)).reshape(n, len(keys))
    matrix[~np.isfinite(matrix)] = np.nan
    return matrix
