"""A course's evaluation report: stored scores in, domain tables out.

The one place that turns storage rows into `ParticipantScores` and calls the
domain's summary functions; the API, the HTML report, the downloads and the
offline `evalsvc report` all take their numbers from `report_from`.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from evalsvc.domain import summary as tables
from evalsvc.domain.questionnaire import Course
from evalsvc.storage import Database

_decode_scores = msgspec.json.Decoder(tables.PhaseScores).decode
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
    summary: tables.Summary
    items: list[tables.ItemRow]
    reliability: list[tables.ReliabilityRow]
    feedback: tables.FeedbackSummary


def report_language(course: Course, wanted: str | None) -> str:
    """Names in the report's language: as asked, else English (the report's own prose)."""
    for lang in (wanted, "en"):
        if lang in course.languages:
            return lang  # type: ignore[return-value]
    return course.default_lang


async def load_participants(db: Database, course: Course) -> list[tables.ParticipantScores]:
    by_number: dict[int, tuple[str, dict[str, tables.PhaseScores]]] = {}
    for row in await db.score_rows(course.id):
        agency, phases = by_number.setdefault(row.participant, (row.agency, {}))
        phases[row.phase] = _decode_scores(row.scores_json)
    return [
        tables.ParticipantScores(number, agency, phases.get("pre"), phases.get("post"))
        for number, (agency, phases) in by_number.items()
    ]


async def load_feedback(db: Database, course: Course) -> list[tuple[str, dict[str, object]]]:
    wanted = {item.id for item in course.items_by_role("feedback")}
    responses = []
    async for row in db.iter_responses(course.id):
        if row.phase == "post":
            answers = _decode_answers(row.answers_json)
            responses.append((row.agency, {k: v for k, v in answers.items() if k in wanted}))
    return responses


def report_from(
    course: Course,
    participants: list[tables.ParticipantScores],
    feedback: list[tuple[str, dict[str, object]]],
    lang: str,
) -> CourseReport:
    return CourseReport(
        course=course.id,
        title=course.localize(course.title, lang),
        lang=lang,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        min_cell_size=course.min_cell_size,
        agencies=[Named(a.id, course.localize(a.name, lang)) for a in course.agencies],
        skills=[Named(s.id, course.localize(s.name, lang)) for s in course.skills],
        n_participants=len(participants),
        summary=tables.summarize(course, participants),
        items=tables.item_analysis(course, participants),
        reliability=tables.reliability(course, participants),
        feedback=tables.feedback_summary(course, feedback, course.min_cell_size),
    )
