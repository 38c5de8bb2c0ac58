"""A realistic synthetic cohort for trying evalsvc, written through the normal path.

Agencies start at different levels and gain differently per skill; some of what was
gained is lost again by the follow-up. A few participants never come back for the
post questionnaire, and more skip the follow-up months later. Every submission goes
through code lookup, answer validation, scoring and the single writer, exactly as a
participant's would.
"""

from __future__ import annotations

import random
import uuid

from evalsvc.domain import answers as answers_mod
from evalsvc.domain.codes import code_hash, new_code, normalize_code
from evalsvc.domain.questionnaire import DONT_KNOW, Course, Item
from evalsvc.intake import Intake

FEEDBACK_TEXTS = (
    "The joint exercise with customs and border guards was the most useful part.",
    "Практическое упражнение по отслеживанию оружия было самым полезным.",
    "More time for case studies from Central Asia, please.",
    "Больше времени на разбор реальных дел.",
    "Материалы на казахском языке были бы полезны.",
    "The session on financial investigation was too short.",
)


DROP_OUT = {"post": 0.1, "follow_up": 0.35}
"""Share of participants who skip a phase after the first (others: 0.2)."""
RETAINED = {"post": 1.0, "follow_up": 0.7}
"""Share of the course's gain still there at each phase (follow-up: some is lost)."""


def _chance_correct(rng: random.Random, level: float) -> bool:
    return rng.random() < min(0.97, max(0.03, level))


def _knowledge_answer(rng: random.Random, item: Item, level: float) -> object:
    options = [o for o in item.option_ids if o != DONT_KNOW]
    if item.dont_know and rng.random() < 0.25 * (1 - level):
        return DONT_KNOW
    correct = _chance_correct(rng, level)
    if item.kind == "multiple_choice":
        chosen = set(item.correct) if correct else set(rng.sample(options, k=2))
        return sorted(chosen)
    if correct:
        return item.correct[0]
    return rng.choice([o for o in options if o not in item.correct] or options)


def synthetic_answers(
    course: Course, phase: str, rng: random.Random, level: dict[str, float]
) -> dict[str, object]:
    answers: dict[str, object] = {}
    for item in course.items_in_phase(phase):
        skill_level = level.get(item.skill or "", 0.5)
        if item.role == "knowledge":
            answers[item.id] = _knowledge_answer(rng, item, skill_level)
        elif item.role == "self_assessment":
            scale = course.scale(item.scale)
            assert scale is not None
            centre = scale.min + skill_level * (scale.max - scale.min)
            answers[item.id] = max(scale.min, min(scale.max, round(rng.gauss(centre, 0.7))))
        elif item.kind == "likert":
            scale = course.scale(item.scale)
            assert scale is not None
            answers[item.id] = rng.choice(list(scale.points)[-3:])
        elif item.kind in ("long_text", "short_text") and rng.random() < 0.3:
            answers[item.id] = rng.choice(FEEDBACK_TEXTS)[: item.text_limit]
        elif item.kind == "single_choice" and rng.random() < 0.85:
            weights = [1.0 / (i + 1) for i in range(len(item.option_ids))]
            answers[item.id] = rng.choices(item.option_ids, weights=weights)[0]
        elif item.kind == "multiple_choice" and rng.random() < 0.7:
            answers[item.id] = sorted(rng.sample(item.option_ids, k=rng.randint(1, 2)))
        elif item.kind == "true_false" and rng.random() < 0.8:
            answers[item.id] = rng.choice(("true", "false"))
        elif item.kind == "number" and rng.random() < 0.6:
            low = int(item.min) if item.min is not None else 0
            high = int(item.max) if item.max is not None else low + 40
            answers[item.id] = rng.randint(low, min(high, low + 40))
    return answers


async def fill(intake: Intake, course: Course, participants: int, seed: int) -> int:
    """Submit a synthetic cohort; returns the number of submissions stored."""
    rng = random.Random(seed)
    agencies = course.agency_ids()
    skills = course.skill_ids()
    start = {a: {s: rng.uniform(0.25, 0.6) for s in skills} for a in agencies}
    gain = {a: {s: rng.uniform(0.05, 0.35) for s in skills} for a in agencies}
    codes = [new_code() for _ in range(participants)]
    stored = 0
    phases = course.phase_ids()
    for index, code in enumerate(codes):
        agency = (
            agencies[index % len(agencies)] if index < len(agencies) * 3 else rng.choice(agencies)
        )
        # issued to the participant's agency, as organisers do (the turnout counts codes
        # per agency); one at a time, so the random stream and the demo data stay as before
        hashed = code_hash(intake.secret, course.id, normalize_code(code) or code)
        await intake.db.add_codes(course.id, [hashed], agency)
        person = rng.gauss(0, 0.08)
        for position, phase in enumerate(phases):
            if position and rng.random() < DROP_OUT.get(phase, 0.2):
                continue  # did not answer this one
            kept = RETAINED.get(phase, 1.0) if position else 0.0
            level = {s: start[agency][s] + person + kept * gain[agency][s] for s in skills}
            raw = synthetic_answers(course, phase, rng, level)
            validated = answers_mod.validate_answers(course, phase, raw)
            assert validated.ok, validated.errors
            identity = await intake.identify(course, code, None)
            lang = rng.choice(course.languages)
            await intake.store(
                course, phase, uuid.uuid4(), identity, agency, lang, validated.answers
            )
            stored += 1
    return stored
