"""validate_answers checks answers in their plain form with one typed conversion;
for every input it must decide exactly as the full checks do (same answers, same
errors), whether the conversion takes it or hands it on."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evalsvc.catalog import load_paths
from evalsvc.demo import synthetic_answers
from evalsvc.domain import answers as answers_mod
from evalsvc.domain.answers import validate_answers
from tests.test_answers import COURSE

BUNDLED = load_paths([Path(__file__).resolve().parents[1] / "surveys"]).courses
SALW = BUNDLED["salw-nexus-kz-2024"]


def _values(course, phase: str) -> st.SearchStrategy:
    options = sorted(
        {o for rule in answers_mod.phase_rules(course, phase).values() for o in rule.options}
    )
    scalar = st.one_of(
        st.sampled_from(options or ["x"]),
        st.integers(-2, 12),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
        st.booleans(),
        st.none(),
        st.sampled_from(["", " ", "not_applicable", "dont_know", "true", "3"]),
        st.text(max_size=5),
    )
    return st.one_of(scalar, st.lists(scalar, max_size=3))


def _raw(course, phase: str) -> st.SearchStrategy:
    ids = list(answers_mod.phase_rules(course, phase))
    return st.dictionaries(st.sampled_from([*ids, "stray"]), _values(course, phase), max_size=12)


def _same(course, phase: str, raw: dict) -> None:
    fast = validate_answers(course, phase, raw)
    full = answers_mod._validate_fully(course, phase, raw)
    assert fast == full
    assert list(fast.answers) == list(full.answers)  # the phase's order, too


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_answers_are_decided_as_the_full_checks_decide(data) -> None:
    phase = data.draw(st.sampled_from(COURSE.phase_ids()))
    _same(COURSE, phase, data.draw(_raw(COURSE, phase)))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), drop=st.integers(0, 80), phase=st.sampled_from(["pre", "post"]))
def test_realistic_submissions_are_decided_alike(seed, drop, phase) -> None:
    rng = random.Random(seed)
    answers = synthetic_answers(SALW, phase, rng, {s: rng.random() for s in SALW.skill_ids()})
    for key in list(answers)[drop : drop + 3]:  # some unanswered, required or not
        del answers[key]
    _same(SALW, phase, answers)


def test_valid_plain_answers_take_the_typed_path() -> None:
    """The typed conversion takes a complete, valid submission (else it would be no
    faster), and gives the same normalised answers."""
    rng = random.Random(1)
    answers = synthetic_answers(SALW, "post", rng, {s: 0.6 for s in SALW.skill_ids()})
    plain = answers_mod._plain_answers(SALW, "post", answers)
    assert plain is not None
    assert plain == answers_mod._validate_fully(SALW, "post", answers).answers
