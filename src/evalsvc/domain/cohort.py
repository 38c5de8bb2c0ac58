"""The participants of a course as arrays: what every report table computes on.

`cohort_from_columns` turns the stored submissions (`SubmissionColumns`: the
participants' pseudonymous numbers and agencies, the phases, the breakdown answers and
the scores frozen at intake, in arrays; `build_cohort` takes them as
`SubmissionRecord`s) into a `Cohort`: one row per participant, with

* the group of each breakdown (agency, and every `breakdown = true` item) as codes;
* which phases each participant answered;
* per measure and phase, the scores per skill and "total" (NaN where absent), and the
  weight of each skill in the participant's total (what the disclosure verifier needs
  to relate a total to its skills);
* per phase, which knowledge items were answered correctly;
* per phase, the answers to the items that are summarised rather than scored
  (feedback, profile, follow-up application questions).

Pure: the submissions come from storage, decoded; nothing here knows SQL or JSON.
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
    _columns: dict[str, dict[str, list[object]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def size(self) -> int:
        return int(self.numbers.size)

    def answer_column(self, phase: str, item: str) -> list[object]:
        """Each participant's answer to one summarised item in a phase (None: none).

        Read off `answers` once per phase for all items (going through each
        participant's few answers, not each item for each participant).
        """
        columns = self._columns.get(phase)
        if columns is None:
            columns = self._columns[phase] = {}
            size = self.size
            for i, given in enumerate(self.answers.get(phase) or ()):
                if given:
                    for key, value in given.items():
                        if value is not None:
                            # not named `column`: Babel would take it for the marker
                            values = columns.get(key)
                            if values is None:
                                values = columns[key] = [None] * size
                            values[i] = value
        return columns.get(item) or [None] * self.size


class SubmissionColumns(NamedTuple):
    """Many stored submissions, one row each, in any order: what a cohort is built from.

    `stored_scores.submission_columns` decodes them from storage straight into these
    arrays; `build_cohort` arranges `SubmissionRecord`s the same way.
    """

    participant: np.ndarray
    """Pseudonymous numbers (int)."""
    agency: Sequence[str]
    phase: Sequence[str]
    scores: Mapping[str, np.ndarray]
    """Measure -> rows x design.skills (skills, then total); NaN where absent."""
    confidence_answered: np.ndarray
    """rows x skills (no total): self-assessment items answered; 0 where absent."""
    correct: np.ndarray
    """rows x knowledge items: 1.0 right, 0.0 wrong, NaN absent."""
    breakdowns: Sequence[Mapping[str, str]]
    answers: Sequence[Mapping[str, object]]


def build_cohort(course: Course, design: Design, records: Iterable[SubmissionRecord]) -> Cohort:
    records = list(records)
    knowledge_items = tuple(item.id for item in course.items_by_role("knowledge"))
    n = len(records)
    scores: dict[str, np.ndarray] = {
        measure.id: _matrix((getattr(r.scores, measure.id) for r in records), design.skills, n)
        for measure in design.measures
    }
    answered = _matrix((r.scores.confidence_answered for r in records), design.skills[:-1], n)
    columns = SubmissionColumns(
        participant=np.array([r.participant for r in records], dtype=np.int64),
        agency=[r.agency for r in records],
        phase=[r.phase for r in records],
        scores=scores,
        confidence_answered=np.nan_to_num(answered, nan=0.0),
        correct=_matrix((r.scores.correct for r in records), knowledge_items, n),
        breakdowns=[r.breakdowns for r in records],
        answers=[r.answers for r in records],
    )
    return cohort_from_columns(course, design, columns)


def cohort_from_columns(course: Course, design: Design, columns: SubmissionColumns) -> Cohort:
    """One row per participant (ascending numbers), each phase's submission in its row."""
    participants = np.asarray(columns.participant, dtype=np.int64)
    numbers, person = np.unique(participants, return_inverse=True)
    person = person.reshape(-1)
    n, rows = int(numbers.size), int(person.size)
    phase_index = {phase: i for i, phase in enumerate(design.phases)}
    phase_of = np.array([phase_index.get(p, -1) for p in columns.phase], dtype=np.int64)

    # a participant's agency is the same in each of their submissions: take the first
    first_row = np.zeros(n, dtype=np.int64)
    first_row[person[::-1]] = np.arange(rows)[::-1]
    agencies = [columns.agency[i] for i in first_row.tolist()]
    groups = {AGENCY: _codes(agencies, course.agency_ids())}
    for breakdown in design.breakdowns[1:]:
        chosen = _breakdown_values(columns, person, phase_of, breakdown.id, n)
        groups[breakdown.id] = _codes(chosen, breakdown.groups)

    skills = design.skills[:-1]
    fixed_weights = _fixed_weights(course, skills)
    submitted: dict[str, np.ndarray] = {}
    scores: dict[tuple[str, str], np.ndarray] = {}
    weights: dict[tuple[str, str], np.ndarray] = {}
    correct: dict[str, np.ndarray] = {}
    answers: dict[str, list[Mapping[str, object] | None]] = {}
    for index, phase in enumerate(design.phases):
        mine = np.flatnonzero(phase_of == index)
        who = person[mine]
        submitted[phase] = np.zeros(n, dtype=bool)
        submitted[phase][who] = True
        for measure in design.measures:
            matrix = np.full((n, len(design.skills)), np.nan)
            matrix[who] = columns.scores[measure.id][mine]
            scores[(measure.id, phase)] = matrix
            if measure.id == "confidence":
                counts = np.zeros((n, len(skills)))
                counts[who] = columns.confidence_answered[mine]
                counts[np.isnan(matrix[:, :-1])] = 0.0
                totals = counts.sum(axis=1, keepdims=True)
                with np.errstate(invalid="ignore", divide="ignore"):
                    weights[(measure.id, phase)] = np.where(totals > 0, counts / totals, 0.0)
            else:
                present = ~np.isnan(matrix[:, :-1])
                weights[(measure.id, phase)] = np.where(present, fixed_weights[measure.id], 0.0)
        correct[phase] = np.full((n, columns.correct.shape[1]), np.nan)
        correct[phase][who] = columns.correct[mine]
        phase_answers: list[Mapping[str, object] | None] = [None] * n
        for row, someone in zip(mine.tolist(), who.tolist(), strict=True):
            phase_answers[someone] = columns.answers[row]
        answers[phase] = phase_answers
    return Cohort(
        numbers=numbers,
        groups=groups,
        submitted=submitted,
        scores=scores,
        weights=weights,
        correct=correct,
        answers=answers,
    )


def _breakdown_values(
    columns: SubmissionColumns, person: np.ndarray, phase_of: np.ndarray, item_id: str, n: int
) -> list[str]:
    """Each participant's answer to a breakdown item in their earliest phase (in the
    course's order) that has one, else `NOT_STATED`."""
    chosen: list[str] = [NOT_STATED] * n
    answered = [i for i, given in enumerate(columns.breakdowns) if item_id in given]
    # latest phase first, so that the earliest one's answer is written last
    for row in sorted(answered, key=lambda i: -int(phase_of[i])):
        if phase_of[row] >= 0:
            chosen[int(person[row])] = columns.breakdowns[row][item_id]
    return chosen


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
