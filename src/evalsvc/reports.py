"""A course's evaluation report: stored scores in, domain tables out.

The one place that turns storage rows into `ParticipantScores` and calls the
domain's summary functions; the API, the HTML report, the downloads and the
offline `evalsvc report` all take their numbers from `report_from`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
from collections.abc import Iterator

import anyio
import msgspec

from evalsvc.domain.cohort import ParticipantScores, PhaseScores
from evalsvc.domain.feedback import FeedbackSummary, feedback_summary
from evalsvc.domain.items import (
    ItemRow,
    ReliabilityRow,
    correct_matrices,
    item_analysis,
    reliability,
)
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.summary import Summary, summarize
from evalsvc.storage import Database

_decode_scores = msgspec.json.Decoder(PhaseScores).decode
_decode_answers = msgspec.json.Decoder(dict[str, object]).decode


class Named(msgspec.Struct, frozen=True):
    id: str
    name: str


class CourseReport(msgspec.Struct, kw_only=True, frozen=True):
    course: str
    title: str
    lang: str
    generated_at: str
    min_cell_size: int
    agencies: list[Named]
    skills: list[Named]
    n_participants: int
    summary: Summary
    items: list[ItemRow]
    reliability: list[ReliabilityRow]
    feedback: FeedbackSummary


def report_language(course: Course, wanted: str | None) -> str:
    """Names in the report's language: as asked, else English (the report's own prose)."""
    for lang in (wanted, "en"):
        if lang in course.languages:
            return lang  # type: ignore[return-value]
    return course.default_lang


async def load_participants(db: Database, course: Course) -> list[ParticipantScores]:
    by_number: dict[int, tuple[str, dict[str, PhaseScores]]] = {}
    for row in await db.score_rows(course.id):
        agency, phases = by_number.setdefault(row.participant, (row.agency, {}))
        phases[row.phase] = _decode_scores(row.scores_json)
    return [
        ParticipantScores(number, agency, phases.get("pre"), phases.get("post"))
        for number, (agency, phases) in sorted(by_number.items())
    ]


async def load_feedback(db: Database, course: Course) -> list[tuple[str, dict[str, object]]]:
    """(agency, feedback answers) of every post submission that gave feedback."""
    return [
        (row.agency, _decode_answers(row.feedback_json))
        for row in await db.feedback_rows(course.id)
    ]


def report_from(
    course: Course,
    participants: list[ParticipantScores],
    feedback: list[tuple[str, dict[str, object]]],
    lang: str,
) -> CourseReport:
    correct = correct_matrices(course, participants)
    return CourseReport(
        course=course.id,
        title=course.localize(course.title, lang),
        lang=lang,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        min_cell_size=course.min_cell_size,
        agencies=[Named(a.id, course.localize(a.name, lang)) for a in course.agencies],
        skills=[Named(s.id, course.localize(s.name, lang)) for s in course.skills],
        n_participants=len(participants),
        summary=summarize(course, participants),
        items=item_analysis(course, participants, correct),
        reliability=reliability(course, participants, correct),
        feedback=feedback_summary(course, feedback, course.min_cell_size),
    )


_gc_pauses = 0
_gc_was_enabled = True


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is built.

    Building one makes some hundred thousand small objects that live until the
    report is done; the collector would walk them again and again (about a third
    of the time at 10,000 participants) to find no cycles. Overlapping pauses, from
    reports of several courses at once, are counted: the last one out restores it.
    """
    global _gc_pauses, _gc_was_enabled
    if _gc_pauses == 0:
        _gc_was_enabled = gc.isenabled()
        gc.disable()
    _gc_pauses += 1
    try:
        yield
    finally:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled:
            gc.enable()


class ReportCache:
    """The latest report per course and language, reused until a submission arrives.

    The evaluators' endpoints (summary, items, reliability, feedback, downloads,
    the HTML report) all render one report; computing it once per change of the
    data, rather than once per request, keeps them fast. Requests that arrive
    while it is being computed wait for that computation instead of repeating it.
    """

    def __init__(self) -> None:
        self._reports: dict[tuple[str, str], tuple[tuple[int, int], CourseReport]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def report(self, db: Database, course: Course, lang: str | None) -> CourseReport:
        key = (course.id, report_language(course, lang))
        async with self._locks.setdefault(key, asyncio.Lock()):
            fingerprint = await db.fingerprint(course.id)
            cached = self._reports.get(key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            with _gc_paused():
                participants = await load_participants(db, course)
                feedback = await load_feedback(db, course)
                # CPU-bound: off the event loop, so submissions keep flowing meanwhile
                report = await anyio.to_thread.run_sync(
                    report_from, course, participants, feedback, key[1]
                )
            self._reports[key] = (fingerprint, report)
            return report
