"""The analysis design of a course: its measures, comparisons and breakdowns, as data.

Everything a report iterates over comes from here, and everything here comes from
the course file:

* **measures** -- `knowledge` (percent of knowledge points), `confidence` (the mean
  self-assessment on the course's one self-assessment scale) and `dont_know` (percent
  of the knowledge items offering "I don't know" that were answered so), each only
  when the course has items for it; their unit, range and decimals follow the course;
* **comparisons** -- pairs of phases, `course.comparison_pairs()`;
* **breakdowns** -- `agency` (always) and every profile item with `breakdown = true`;
  the people who did not answer such an item form the group `not_stated`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from evalsvc.domain.questionnaire import NOT_STATED, Course
from evalsvc.domain.scoring import TOTAL

ALL = "all"
"""Breakdown and group key of the rows that pool every participant."""
AGENCY = "agency"
"""Breakdown id of the agencies."""

MeasureId = Literal["knowledge", "confidence", "dont_know"]


class Measure(msgspec.Struct, frozen=True, kw_only=True):
    id: MeasureId
    label: str
    """Short English name, for reports."""
    unit: str
    """What one unit is, in English: "percent of points", "scale points (1-5)"."""
    gain_unit: str
    """What one unit of a difference is: "percentage points", "scale points"."""
    minimum: float
    maximum: float
    decimals: int
    """Decimals to show for means and gains of this measure."""
    higher_is_better: bool
    normalized_gain: bool
    """Whether normalized gains, relative to `maximum`, mean anything for it."""


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    """``<from>_<to>``, e.g. ``pre_post``."""
    from_phase: str
    to_phase: str


class Breakdown(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    """`AGENCY` or the breakdown item's id."""
    groups: tuple[str, ...]
    """Group ids in display order (for items: the options, then `not_stated`)."""


class Design(msgspec.Struct, frozen=True, kw_only=True):
    measures: tuple[Measure, ...]
    comparisons: tuple[Comparison, ...]
    breakdowns: tuple[Breakdown, ...]
    phases: tuple[str, ...]
    skills: tuple[str, ...]
    """Skill ids, then "total"."""

    def measure(self, measure_id: str) -> Measure:
        return next(m for m in self.measures if m.id == measure_id)

    def breakdown(self, breakdown_id: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.id == breakdown_id)


def analysis_design(course: Course) -> Design:
    return Design(
        measures=course_measures(course),
        comparisons=tuple(
            Comparison(id=f"{first}_{second}", from_phase=first, to_phase=second)
            for first, second in course.comparison_pairs()
        ),
        breakdowns=(
            Breakdown(id=AGENCY, groups=course.agency_ids()),
            *(
                Breakdown(id=item.id, groups=(*(o.id for o in item.options), NOT_STATED))
                for item in course.breakdown_items()
            ),
        ),
        phases=course.phase_ids(),
        skills=(*course.skill_ids(), TOTAL),
    )


def course_measures(course: Course) -> tuple[Measure, ...]:
    measures = []
    if course.items_by_role("knowledge"):
        measures.append(
            Measure(
                id="knowledge",
                label="Knowledge",
                unit="percent of points",
                gain_unit="percentage points",
                minimum=0.0,
                maximum=100.0,
                decimals=1,
                higher_is_better=True,
                normalized_gain=True,
            )
        )
    scale = course.self_assessment_scale()
    if scale is not None:
        measures.append(
            Measure(
                id="confidence",
                label="Confidence",
                unit=f"scale points ({scale.min}-{scale.max})",
                gain_unit="scale points",
                minimum=float(scale.min),
                maximum=float(scale.max),
                decimals=2,
                higher_is_better=True,
                normalized_gain=False,
            )
        )
    if any(item.dont_know for item in course.items_by_role("knowledge")):
        measures.append(
            Measure(
                id="dont_know",
                label='"I don\'t know" answers',
                unit="percent of items",
                gain_unit="percentage points",
                minimum=0.0,
                maximum=100.0,
                decimals=1,
                higher_is_better=False,
                normalized_gain=False,
            )
        )
    return tuple(measures)
