"""The people of every course of a programme as one cohort, scored on its framework.

`programme_cohort` lays the member courses' cohorts (`cohort.Cohort`, built from the
stored scores as every course report builds them) end to end and gives each person:

* the programme's groups: `course`, `country`, `year`, `agency_type` (from the
  person's agency) and every declared breakdown (sex, role...), from the course's
  breakdown item; people of a course that does not record a breakdown are outside it
  (counted in "all" only), as are agencies without a type;
* per measure and phase, a score per **framework skill** and the programme
  **total**, recomputed from the stored per-skill scores: with w_s the weight of
  course skill s in the person's course total (its knowledge points; for confidence
  the person's answered self-assessment items of s; for "I don't know" the knowledge
  items of s offering it), a framework score over the mapped skills S is

      sum over s in S of w_s * score_s  /  sum over s in S (with a score) of w_s,

  i.e. the percent of points over all their knowledge items, the mean over all their
  answered self-assessment items, the share of "I don't know" over all their items
  offering it. The programme total takes every mapped skill;
* the course's own knowledge total and pass mark, for the pass-mark figures, which
  follow each course's rule.

Pure: the course cohorts come from the course reports' data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from evalsvc.domain.cohort import UNKNOWN_GROUP, Cohort
from evalsvc.domain.design import AGENCY, Breakdown, Comparison, Design, Measure
from evalsvc.domain.programme import (
    AGENCY_TYPE,
    COUNTRY,
    COURSE,
    YEAR,
    MemberCourse,
    Programme,
)
from evalsvc.domain.questionnaire import NOT_STATED, Course
from evalsvc.domain.scoring import TOTAL


@dataclass(frozen=True)
class Member:
    """One course of the programme, with its people's place in the programme cohort."""

    course: Course
    mapping: MemberCourse
    design: Design
    cohort: Cohort
    start: int
    stop: int

    def framework_columns(self, framework_skill: str) -> list[int]:
        """The course's skill columns (in `design.skills`) mapped onto a framework skill;
        every mapped skill for the programme total."""
        skills = self.design.skills[:-1]
        return [
            skills.index(course_skill)
            for course_skill, target in self.mapping.skills.items()
            if (target == framework_skill or framework_skill == TOTAL) and course_skill in skills
        ]


@dataclass(frozen=True)
class ProgrammeCohort:
    programme: Programme
    design: Design
    cohort: Cohort
    members: tuple[Member, ...]
    pass_marks: np.ndarray
    """Each person's course pass mark (NaN: the course has none)."""
    course_totals: dict[tuple[str, str], np.ndarray]
    """(measure, phase) -> each person's own course total (NaN where absent)."""

    def member_of(self, course_id: str) -> Member:
        return next(m for m in self.members if m.course.id == course_id)


def programme_design(
    programme: Programme, courses: Mapping[str, Course], designs: Mapping[str, Design]
) -> Design:
    """Measures, comparisons and phases of any member course; the programme's breakdowns;
    the framework skills, then "total"."""
    measures: dict[str, Measure] = {}
    comparisons: dict[str, Comparison] = {}
    phases: dict[str, None] = {}
    for course_id in programme.course_ids():
        design = designs[course_id]
        for measure in design.measures:
            measures.setdefault(measure.id, measure)
        for comparison in design.comparisons:
            comparisons.setdefault(comparison.id, comparison)
        phases.update(dict.fromkeys(design.phases))
    order = ("knowledge", "confidence", "dont_know")
    return Design(
        measures=tuple(measures[m] for m in order if m in measures),
        comparisons=tuple(comparisons.values()),
        breakdowns=tuple(
            Breakdown(id=b, groups=programme.breakdown_groups(b)) for b in programme.breakdown_ids()
        ),
        phases=tuple(phases),
        skills=(*programme.skill_ids(), TOTAL),
    )


def programme_cohort(
    programme: Programme,
    courses: Mapping[str, Course],
    designs: Mapping[str, Design],
    cohorts: Mapping[str, Cohort],
) -> ProgrammeCohort:
    design = programme_design(programme, courses, designs)
    members: list[Member] = []
    start = 0
    for mapping in programme.courses:
        size = cohorts[mapping.id].size
        members.append(
            Member(
                course=courses[mapping.id],
                mapping=mapping,
                design=designs[mapping.id],
                cohort=cohorts[mapping.id],
                start=start,
                stop=start + size,
            )
        )
        start += size
    n = start
    groups = {
        breakdown.id: np.concatenate(
            [_groups(programme, member, breakdown) for member in members]
            or [np.zeros(0, dtype=np.int64)]
        )
        for breakdown in design.breakdowns
    }
    submitted = {
        phase: _stack(
            [m.cohort.submitted.get(phase, np.zeros(m.cohort.size, dtype=bool)) for m in members],
            bool,
        )
        for phase in design.phases
    }
    scores: dict[tuple[str, str], np.ndarray] = {}
    weights: dict[tuple[str, str], np.ndarray] = {}
    course_totals: dict[tuple[str, str], np.ndarray] = {}
    for measure in design.measures:
        for phase in design.phases:
            parts = [
                _framework_scores(member, measure.id, phase, design.skills) for member in members
            ]
            scores[(measure.id, phase)] = _stack([p[0] for p in parts], float).reshape(
                n, len(design.skills)
            )
            weights[(measure.id, phase)] = _stack([p[1] for p in parts], float).reshape(
                n, len(design.skills) - 1
            )
            course_totals[(measure.id, phase)] = _stack(
                [_course_total(member, measure.id, phase) for member in members], float
            )
    cohort = Cohort(
        numbers=np.arange(n, dtype=np.int64),
        groups=groups,
        submitted=submitted,
        scores=scores,
        weights=weights,
        correct={},
        answers={},
    )
    pass_marks = _stack(
        [
            np.full(
                m.cohort.size,
                np.nan if m.course.pass_mark is None else float(m.course.pass_mark),
            )
            for m in members
        ],
        float,
    )
    return ProgrammeCohort(
        programme=programme,
        design=design,
        cohort=cohort,
        members=tuple(members),
        pass_marks=pass_marks,
        course_totals=course_totals,
    )


def _stack(parts: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(p, dtype=dtype).reshape(-1) for p in parts])


def _groups(programme: Programme, member: Member, breakdown: Breakdown) -> np.ndarray:
    size = member.cohort.size
    index = {group: i for i, group in enumerate(breakdown.groups)}
    mapping = member.mapping
    if breakdown.id == COURSE:
        return np.full(size, index[mapping.id], dtype=np.int64)
    if breakdown.id == COUNTRY:
        return np.full(size, index.get(mapping.country, UNKNOWN_GROUP), dtype=np.int64)
    if breakdown.id == YEAR:
        return np.full(size, index.get(str(mapping.year), UNKNOWN_GROUP), dtype=np.int64)
    if breakdown.id == AGENCY_TYPE:
        agencies = member.design.breakdown(AGENCY).groups
        codes = [
            index.get(mapping.agencies.get(agencies[code], ""), UNKNOWN_GROUP)
            if code >= 0
            else UNKNOWN_GROUP
            for code in member.cohort.groups[AGENCY]
        ]
        return np.array(codes, dtype=np.int64)
    source = mapping.breakdowns.get(breakdown.id)
    if source is None or source.item not in member.cohort.groups:
        # the course does not record it: its people are in "all" only
        return np.full(size, UNKNOWN_GROUP, dtype=np.int64)
    options = member.design.breakdown(source.item).groups
    not_stated = index[NOT_STATED]
    codes = [
        index.get(source.groups.get(options[code], NOT_STATED), not_stated)
        if code >= 0
        else not_stated
        for code in member.cohort.groups[source.item]
    ]
    return np.array(codes, dtype=np.int64)


def _framework_scores(
    member: Member, measure: str, phase: str, subjects: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Framework scores (people x subjects) and each framework skill's weight in the
    programme total (people x framework skills); NaN and 0 where absent."""
    n = member.cohort.size
    out = np.full((n, len(subjects)), np.nan)
    shares = np.zeros((n, len(subjects) - 1))
    key = (measure, phase)
    if key not in member.cohort.scores:
        return out, shares
    scores = member.cohort.scores[key][:, :-1]
    weights = member.cohort.weights[key]
    present = ~np.isnan(scores)
    weighted = np.where(present, weights * np.nan_to_num(scores), 0.0)
    carried = np.where(present, weights, 0.0)
    total_columns = member.framework_columns(TOTAL)
    total_weight = carried[:, total_columns].sum(axis=1)
    for position, subject in enumerate(subjects):
        columns = member.framework_columns(subject)
        weight = carried[:, columns].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, position] = np.where(
                weight > 0,
                weighted[:, columns].sum(axis=1) / np.where(weight > 0, weight, 1),
                np.nan,
            )
            if subject != TOTAL:
                shares[:, position] = np.where(
                    total_weight > 0, weight / np.where(total_weight > 0, total_weight, 1), 0.0
                )
    return out, shares


def _course_total(member: Member, measure: str, phase: str) -> np.ndarray:
    key = (measure, phase)
    if key not in member.cohort.scores:
        return np.full(member.cohort.size, np.nan)
    return member.cohort.scores[key][:, -1]
