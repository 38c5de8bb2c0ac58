"""score_submission computes every score in one pass; it must give exactly what the
five scoring functions give one by one (the same floats, in the same key order)."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsvc.catalog import load_paths
from evalsvc.demo import synthetic_answers
from evalsvc.domain import scoring
from tests.conftest import TEST_SURVEYS

COURSES = {
    **load_paths([TEST_SURVEYS]).courses,
    **load_paths([Path(__file__).resolve().parents[1] / "surveys"]).courses,
}


def _one_by_one(course, answers) -> scoring.PhaseScores:
    return scoring.PhaseScores(
        knowledge=scoring.knowledge_scores(course, answers),
        confidence=scoring.confidence_scores(course, answers),
        correct=scoring.item_correct(course, answers),
        dont_know=scoring.dont_know_scores(course, answers),
        confidence_answered=scoring.confidence_answered(course, answers),
    )


@settings(max_examples=200, deadline=None)
@given(
    course_id=st.sampled_from(sorted(COURSES)),
    seed=st.integers(0, 100_000),
    dropped=st.integers(0, 6),
    odd=st.sampled_from([None, "dont_know", ["dont_know", "a"], 2.5, True, "zz", 99]),
)
def test_one_pass_gives_what_the_five_functions_give(course_id, seed, dropped, odd) -> None:
    course = COURSES[course_id]
    rng = random.Random(seed)
    phase = rng.choice(course.phase_ids())
    answers: dict = synthetic_answers(
        course, phase, rng, {s: rng.random() for s in course.skill_ids()}
    )
    for key in rng.sample(sorted(answers), min(dropped, len(answers))):
        answers[key] = odd  # unanswered or of an unexpected shape: scores nothing
    together = scoring.score_submission(course, answers)
    apart = _one_by_one(course, answers)
    assert msgspec.json.encode(together) == msgspec.json.encode(apart)
