"""Course reports built the real way, for the renderers' tests.

Submissions go through code lookup, answer validation, scoring and the single writer
into a real SQLite file (`evalsvc.demo.fill` for a synthetic cohort, `submit` for
hand-made answers); the report is then read back and computed with
`reports.report_from`, exactly as `evalsvc report` does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evalsvc import demo, reports
from evalsvc.domain import answers as answers_mod
from evalsvc.domain.codes import code_hash, new_code, normalize_code
from evalsvc.domain.questionnaire import Course
from evalsvc.intake import Intake
from evalsvc.reports import CourseReport
from evalsvc.storage.records import ResponseRow, ScoreRow
from evalsvc.storage.sqlite import SQLiteStorage
from tests.conftest import TEST_SECRET


@dataclass(frozen=True)
class Person:
    """A hand-made participant: agency, and answers to add per phase."""

    agency: str
    answers: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """phase -> answers that replace the synthetic ones (missing phase: not answered)."""
    level: float = 0.5


@dataclass(frozen=True)
class Built:
    course: Course
    report: CourseReport
    rows: list[ScoreRow]
    scoring_counts: dict[str, int]
    responses: list[ResponseRow]

    def report_for(self, course: Course, lang: str = "en") -> CourseReport:
        """The same stored submissions reported under another version of the course."""
        return reports.report_from(course, self.rows, self.scoring_counts, lang)


def build(
    path: Path,
    course: Course,
    *,
    participants: int = 0,
    seed: int = 7,
    people: Sequence[Person] = (),
    lang: str = "en",
) -> Built:
    # in a thread of its own: Playwright's sync API (and async tests) run an event loop here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        work = _build(path, course, participants, seed, people, lang)
        return pool.submit(asyncio.run, work).result()


async def _build(
    path: Path,
    course: Course,
    participants: int,
    seed: int,
    people: Sequence[Person],
    lang: str,
) -> Built:
    db = SQLiteStorage(path)
    await db.open()
    try:
        intake = Intake({course.id: course}, db, TEST_SECRET)
        if participants:
            await demo.fill(intake, course, participants, seed)
        rng = random.Random(seed)
        for person in people:
            await submit_person(intake, course, person, rng)
        rows, counts = await reports.load_rows(db, course)
        responses = [row async for row in db.iter_responses(course.id)]
    finally:
        await db.close()
    return Built(course, reports.report_from(course, rows, counts, lang), rows, counts, responses)


async def submit_person(intake: Intake, course: Course, person: Person, rng: random.Random) -> None:
    code = new_code()
    hashed = code_hash(intake.secret, course.id, normalize_code(code) or code)
    await intake.db.add_codes(course.id, [hashed], None)
    level = {skill: person.level for skill in course.skill_ids()}
    for phase, given in person.answers.items():
        raw = {**demo.synthetic_answers(course, phase, rng, level), **given}
        validated = answers_mod.validate_answers(course, phase, raw)
        assert validated.ok, validated.errors
        identity = await intake.identify(course, code, None)
        await intake.store(
            course, phase, uuid.uuid4(), identity, person.agency, "en", validated.answers
        )
