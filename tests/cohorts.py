"""Synthetic cohorts for the disclosure tests, scored by the real scoring.

A `Person` says who someone is (agency, breakdown answers), which phases they answered
and how they answered (a `Style` per phase). `records` turns people into the
`SubmissionRecord`s that storage would hand to the reports: every phase's answers go
through `answers.validate_answers` and `derived.derive`, exactly as at intake, so the
scores are the real ones.

`people_strategy` draws random cohorts for hypothesis (groups of 0..6 people, people who
answered only some phases, skipped optional items, constant, identical and extreme
scores); `person` builds hand-made cohorts for the concrete attacks; `demo_like_people`
draws a cohort the way `evalsvc demo` does. `validated_answers` gives the answers as
intake keeps them, from which the tests know the truth an attacker is after.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from hypothesis import strategies as st

from evalsvc import demo
from evalsvc.catalog import load_course
from evalsvc.domain.answers import validate_answers
from evalsvc.domain.cohort import SubmissionRecord
from evalsvc.domain.derived import derive
from evalsvc.domain.questionnaire import DONT_KNOW, NOT_APPLICABLE, Course, Item

SURVEYS = Path(__file__).resolve().parent / "data" / "surveys"

OUTSIDER = "former-agency"
"""An agency the course no longer lists: such people count in the "all" rows only."""

Style = Literal["random", "right", "wrong", "dont_know", "blank", "low", "high"]
"""How someone answers a phase:

* random -- any option, sometimes "I don't know", sometimes nothing (optional items);
* right / wrong -- every knowledge item right (100%) or wrong (0%), self-assessment at
  the top / bottom of the scale; feedback random;
* dont_know -- "I don't know" wherever offered, nothing elsewhere;
* blank -- nothing but the required items;
* low / high -- like wrong / right but with one knowledge item the other way.
"""
STYLES: tuple[Style, ...] = ("random", "right", "wrong", "dont_know", "blank", "low", "high")


@dataclass(frozen=True)
class Person:
    number: int
    agency: str
    phases: Mapping[str, Style]
    """Phase id -> how the phase was answered (phases not listed were not answered)."""
    profile: Mapping[str, str] = field(default_factory=dict)
    """Breakdown item id -> chosen option; absent: not answered (group not_stated)."""
    seed: int = 0
    """Seeds the random choices of "random" answers (and of feedback answers)."""
    copy_of: int | None = None
    """Answer each phase exactly as this (earlier) person did, where both answered it."""
    given: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Phase -> raw answers to give as they are (instead of answering in a style)."""


@cache
def course(name: str) -> Course:
    loaded, problems = load_course(SURVEYS / name)
    assert loaded is not None and not problems, problems
    return loaded


def person(
    number: int,
    agency: str,
    phases: Iterable[str] | Mapping[str, Style] = ("pre", "post"),
    style: Style = "random",
    **profile: str,
) -> Person:
    """One hand-made participant; `phases` answered in `style` unless given per phase."""
    chosen = dict(phases) if isinstance(phases, Mapping) else dict.fromkeys(phases, style)
    return Person(number=number, agency=agency, phases=chosen, profile=profile, seed=number)


def answers_of(course: Course, someone: Person, phase: str) -> dict[str, object]:
    """The raw answers `someone` gives in `phase` (before validation)."""
    if phase in someone.given:
        return dict(someone.given[phase])
    style = someone.phases[phase]
    rng = random.Random(f"{someone.seed}:{phase}")
    raw: dict[str, object] = {}
    for index, item in enumerate(course.items_in_phase(phase)):
        if item.breakdown:
            if item.id in someone.profile:
                raw[item.id] = someone.profile[item.id]
            continue
        value = _answer(course, item, style, rng, flip=index == 0)
        if value is None and item.required:
            value = _answer(course, item, "random", rng, flip=False, skip=False)
        if value is not None:
            raw[item.id] = value
    return raw


def _answer(
    course: Course, item: Item, style: Style, rng: random.Random, *, flip: bool, skip: bool = True
) -> object | None:
    if style == "blank":
        return None
    if item.role == "knowledge":
        return _knowledge(item, style, rng, flip=flip, skip=skip)
    if item.role == "self_assessment":
        scale = course.scale(item.scale)
        assert scale is not None
        if style in ("right", "high"):
            return scale.max
        if style in ("wrong", "low"):
            return scale.min
        if style == "dont_know" or (skip and rng.random() < 0.2):
            return None
        return rng.choice(list(scale.points))
    return _summarised(course, item, rng, skip=skip and style != "right")


def _knowledge(
    item: Item, style: Style, rng: random.Random, *, flip: bool, skip: bool
) -> object | None:
    options = [o for o in item.option_ids if o != DONT_KNOW]
    key = list(item.correct)
    wrong = [o for o in options if o not in key] or options
    if style == "dont_know":
        return _shape(item, [DONT_KNOW]) if item.dont_know else None
    good = style in ("right", "high")
    if style in ("high", "low") and flip:
        good = not good
    if style in ("right", "wrong", "high", "low"):
        return _shape(item, key if good else [wrong[0]])
    roll = rng.random()
    if skip and roll < 0.1:
        return None
    if item.dont_know and roll < 0.2:
        return _shape(item, [DONT_KNOW])
    if item.kind == "multiple_choice":
        chosen = [o for o in options if rng.random() < 0.5] or [rng.choice(options)]
        return chosen
    return _shape(item, [rng.choice(options)])


def _shape(item: Item, chosen: Sequence[str]) -> object:
    return list(chosen) if item.kind == "multiple_choice" else chosen[0]


def _summarised(course: Course, item: Item, rng: random.Random, *, skip: bool) -> object | None:
    if skip and rng.random() < 0.15:
        return None
    if item.kind == "likert":
        scale = course.scale(item.scale)
        assert scale is not None
        if item.not_applicable and _accepts_not_applicable(course, item) and rng.random() < 0.2:
            return NOT_APPLICABLE
        return rng.choice(list(scale.points))
    if item.kind == "number":
        low = item.min if item.min is not None else 0.0
        high = item.max if item.max is not None else 100.0
        middle = rng.randint(int(low), int(high))
        return rng.choice([low, high, middle, round(rng.uniform(low, high), 2)])
    if item.kind == "true_false":
        return rng.choice(["true", "false"])
    if item.kind == "single_choice":
        return rng.choice(item.option_ids)
    if item.kind == "multiple_choice":
        return [o for o in item.option_ids if rng.random() < 0.5] or [item.option_ids[0]]
    return rng.choice(["Useful", "too short", "More practice, please", "ok"])


_ACCEPTS_NOT_APPLICABLE: dict[tuple[str, str], bool] = {}


def _accepts_not_applicable(course: Course, item: Item) -> bool:
    """Whether intake takes "does not apply" for this item (it may not yet)."""
    key = (course.id, item.id)
    if key not in _ACCEPTS_NOT_APPLICABLE:
        phase = next(p.id for p in course.phases if item in course.items_in_phase(p.id))
        answer = {item.id: NOT_APPLICABLE}
        _ACCEPTS_NOT_APPLICABLE[key] = validate_answers(course, phase, answer).ok
    return _ACCEPTS_NOT_APPLICABLE[key]


def validated_answers(
    course: Course, people: Sequence[Person]
) -> dict[tuple[int, str], dict[str, object]]:
    """(person, phase) -> the answers as intake validated them."""
    out: dict[tuple[int, str], dict[str, object]] = {}
    by_number = {p.number: p for p in people}
    for someone in people:
        for phase in course.phase_ids():
            if phase not in someone.phases:
                continue
            source = by_number.get(someone.copy_of) if someone.copy_of is not None else None
            if source is not None and phase in source.phases:
                raw = answers_of(course, source, phase)
                for item in course.items_in_phase(phase):  # the copy keeps its own profile
                    if item.breakdown:
                        raw.pop(item.id, None)
                        if item.id in someone.profile:
                            raw[item.id] = someone.profile[item.id]
            else:
                raw = answers_of(course, someone, phase)
            validated = validate_answers(course, phase, raw)
            assert validated.ok, (someone, phase, validated.errors)
            out[(someone.number, phase)] = dict(validated.answers)
    return out


def records(course: Course, people: Sequence[Person]) -> list[SubmissionRecord]:
    """What storage would hold for these people: validated, derived, scored."""
    agency = {p.number: p.agency for p in people}
    out = []
    for (number, phase), answers in validated_answers(course, people).items():
        derived = derive(course, phase, answers)
        out.append(
            SubmissionRecord(
                participant=number,
                agency=agency[number],
                phase=phase,
                scores=derived.scores,
                breakdowns=derived.breakdowns,
                answers=derived.summarised,
            )
        )
    return out


# -- cohorts like the demo's ---------------------------------------------------------------


def demo_like_people(course: Course, participants: int, seed: int) -> list[Person]:
    """A cohort drawn as `evalsvc demo` draws one (`evalsvc.demo.fill`, without storage):
    agencies that start at different levels and gain differently per skill, some
    forgetting by the follow-up, and the demo's drop-out rates."""
    rng = random.Random(seed)
    agencies = course.agency_ids()
    skills = course.skill_ids()
    start = {a: {s: rng.uniform(0.25, 0.6) for s in skills} for a in agencies}
    gain = {a: {s: rng.uniform(0.05, 0.35) for s in skills} for a in agencies}
    people = []
    for index in range(participants):
        agency = (
            agencies[index % len(agencies)] if index < len(agencies) * 3 else rng.choice(agencies)
        )
        ability = rng.gauss(0, 0.08)
        given: dict[str, dict[str, object]] = {}
        for position, phase in enumerate(course.phase_ids()):
            if position and rng.random() < demo.DROP_OUT.get(phase, 0.2):
                continue
            kept = demo.RETAINED.get(phase, 1.0) if position else 0.0
            level = {s: start[agency][s] + ability + kept * gain[agency][s] for s in skills}
            given[phase] = demo.synthetic_answers(course, phase, rng, level)
        people.append(
            Person(
                number=index + 1,
                agency=agency,
                phases=dict.fromkeys(given, "random"),
                given=given,
            )
        )
    return [p for p in people if p.phases]


# -- random cohorts ------------------------------------------------------------------------


def phase_sets(course: Course) -> list[tuple[str, ...]]:
    """Every non-empty set of the course's phases, the full set first."""
    phases = course.phase_ids()
    sets = [
        tuple(p for i, p in enumerate(phases) if mask >> i & 1)
        for mask in range(1, 2 ** len(phases))
    ]
    return sorted(sets, key=lambda s: (-len(s), s))


@st.composite
def people_strategy(draw: st.DrawFn, course: Course, max_group: int = 6) -> list[Person]:
    """A random cohort of `course`: 0..max_group people per agency, a few outsiders.

    Most people answer every phase in a random style; some answer only some phases,
    skip items, answer everything right or wrong, or copy someone else's answers.
    """
    sets = phase_sets(course)
    breakdowns = course.breakdown_items()
    people: list[Person] = []
    agencies = [*course.agency_ids(), OUTSIDER]
    for agency in agencies:
        size = draw(st.integers(0, 1 if agency == OUTSIDER else max_group))
        for _ in range(size):
            number = len(people) + 1
            answered = draw(st.sampled_from(sets))
            phases = {
                phase: draw(st.sampled_from(STYLES), label=f"style {phase}") for phase in answered
            }
            profile = {}
            for item in breakdowns:
                options = [o.id for o in item.options]
                chosen = draw(st.sampled_from([*options, None]), label=item.id)
                if chosen is not None:
                    profile[item.id] = chosen
            copy_of = None
            if people and draw(st.integers(0, 9)) == 0:
                copy_of = draw(st.integers(1, len(people)))
            people.append(
                Person(
                    number=number,
                    agency=agency,
                    phases=phases,
                    profile=profile,
                    seed=draw(st.integers(0, 2**16)),
                    copy_of=copy_of,
                )
            )
    return people
