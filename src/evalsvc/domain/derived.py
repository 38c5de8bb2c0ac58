"""What is derived from one submission's answers and stored beside them.

`derive` gives the scores (frozen at intake, see `scoring`), the answers to the
breakdown items (sex, role...), the answers to the summarised items of the phase
(feedback, profile, follow-up questions) and the fingerprint of the scoring rules.
Intake stores them with each submission; a data migration and `evalsvc rescore`
recompute them from the stored answers.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from evalsvc.domain.per_course import PerCourse
from evalsvc.domain.questionnaire import PAIRED_ROLES, Course
from evalsvc.domain.scoring import PhaseScores, score_submission, scoring_fingerprint


class Derived(msgspec.Struct, frozen=True, kw_only=True):
    scores: PhaseScores
    breakdowns: dict[str, str]
    summarised: dict[str, object]
    scoring: str


def derive(course: Course, phase: str, answers: Mapping[str, object]) -> Derived:
    breakdown_ids, summarised_ids = _phase_items(course, phase)
    return Derived(
        scores=score_submission(course, answers),
        breakdowns={
            item_id: str(answers[item_id])
            for item_id in breakdown_ids
            if isinstance(answers.get(item_id), str)
        },
        summarised={item_id: answers[item_id] for item_id in summarised_ids if item_id in answers},
        scoring=scoring_fingerprint(course),
    )


def _build_phase_items(course: Course, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The phase's breakdown items, and its summarised ones, in the order it shows them."""
    shown = course.items_in_phase(phase)
    return (
        tuple(item.id for item in shown if item.breakdown),
        tuple(item.id for item in shown if item.role not in PAIRED_ROLES and not item.breakdown),
    )


_phase_items = PerCourse(_build_phase_items)
