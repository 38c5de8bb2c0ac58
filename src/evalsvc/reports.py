"""A course's evaluation report: stored submissions in, the verified analysis out.

The one place that turns storage rows into a `Cohort` and runs the domain's
`analyse`; the API, the HTML report, the downloads and the offline `evalsvc report`
all take their numbers from `report_from`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterator

import anyio
import msgspec

from evalsvc.domain.analysis import Analysis, analyse
from evalsvc.domain.cohort import Cohort, SubmissionRecord, cohort_from_columns
from evalsvc.domain.design import Design, analysis_design
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import PhaseScores, scoring_fingerprint
from evalsvc.exports.report_i18n import REPORT_LANGUAGES
from evalsvc.storage import Storage
from evalsvc.storage.records import ScoreRow
from evalsvc.stored_scores import submission_columns

_decode_scores = msgspec.json.Decoder(PhaseScores).decode
_decode_answers = msgspec.json.Decoder(dict[str, object]).decode
_decode_breakdowns = msgspec.json.Decoder(dict[str, str]).decode


class Named(msgspec.Struct, frozen=True):
    id: str
    name: str


class Scoring(msgspec.Struct, frozen=True, kw_only=True):
    """Whether every submission was scored under the course's current rules."""

    fingerprint: str
    """The current rules' fingerprint."""
    other_rules: int
    """Submissions scored under other rules (an answer key changed): `evalsvc rescore`."""


class CourseReport(msgspec.Struct, kw_only=True, frozen=True):
    course: str
    title: str
    lang: str
    generated_at: str
    min_cell_size: int
    design: Design
    agencies: list[Named]
    skills: list[Named]
    phases: list[Named]
    breakdowns: list[Named]
    """The breakdowns (agency, then the breakdown items) with their names."""
    groups: dict[str, list[Named]]
    """Breakdown id -> its groups with their names."""
    scoring: Scoring
    analysis: Analysis


def report_language(course: Course, wanted: str | None) -> str:
    """The report's language: as asked if the reports speak it (en, ru, kk) or the
    course does, else English. Names the course lacks in it fall back along the
    course's chain; the reports' own words fall back to English text by text."""
    for lang in (wanted, "en"):
        if lang in course.languages or lang in REPORT_LANGUAGES:
            return lang
    return course.default_lang


def records_from(rows: list[ScoreRow]) -> list[SubmissionRecord]:
    """The rows decoded one by one (`cohort.build_cohort`'s input; reports decode them
    into arrays instead, `stored_scores`)."""
    return [
        SubmissionRecord(
            participant=row.participant,
            agency=row.agency,
            phase=row.phase,
            scores=_decode_scores(row.scores_json),
            breakdowns=_decode_breakdowns(row.breakdowns_json),
            answers=_decode_answers(row.summarised_json),
        )
        for row in rows
    ]


def cohort_from_rows(course: Course, design: Design, rows: list[ScoreRow]) -> Cohort:
    """The cohort of a course's stored rows (what `report_from` analyses)."""
    return cohort_from_columns(course, design, submission_columns(course, design, rows))


async def load_rows(db: Storage, course: Course) -> tuple[list[ScoreRow], dict[str, int]]:
    """The course's score rows, and how many were scored under each set of rules.

    The counts are taken from the rows themselves: the same submissions as
    `Storage.scoring_counts` counts, read in the same pass (a second query would read
    every submission again, and could see a later one).
    """
    rows = await db.score_rows(course.id)
    return rows, dict(Counter(row.scoring for row in rows))


def report_from(
    course: Course, rows: list[ScoreRow], scoring_counts: dict[str, int], lang: str
) -> CourseReport:
    design = analysis_design(course)
    cohort = cohort_from_rows(course, design, rows)
    fingerprint = scoring_fingerprint(course)
    names = {
        "agency": [Named(a.id, course.localize(a.name, lang)) for a in course.agencies],
    }
    breakdowns = [Named("agency", "Agency")]  # the words are translated where shown
    for item in course.breakdown_items():
        breakdowns.append(Named(item.id, course.localize(item.text, lang)))
        names[item.id] = [
            *(Named(o.id, course.localize(o.text, lang)) for o in item.options),
            Named("not_stated", "not stated"),
        ]
    return CourseReport(
        course=course.id,
        title=course.localize(course.title, lang),
        lang=lang,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        min_cell_size=course.min_cell_size,
        design=design,
        agencies=names["agency"],
        skills=[Named(s.id, course.localize(s.name, lang)) for s in course.skills],
        phases=[
            Named(p.id, course.localize(p.title, lang) if p.title else p.id) for p in course.phases
        ],
        breakdowns=breakdowns,
        groups=names,
        scoring=Scoring(
            fingerprint=fingerprint,
            other_rules=sum(n for rules, n in scoring_counts.items() if rules != fingerprint),
        ),
        analysis=analyse(course, design, cohort),
    )


def _report_from_box(
    course: Course, box: list[list[ScoreRow]], scoring_counts: dict[str, int], lang: str
) -> CourseReport:
    return report_from(course, box.pop(), scoring_counts, lang)


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
    """The latest report per course and language, reused until the data changes.

    The key is the course's data version, read from the database: it moves with
    every stored or rescored submission, whichever process wrote it. The
    evaluators' endpoints all render one report; requests that arrive while it is
    being computed wait for that computation instead of repeating it.
    """

    def __init__(self) -> None:
        self._reports: dict[tuple[str, str], tuple[int, CourseReport]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.computed = 0
        """How many reports were computed (not served from the cache)."""

    async def report(self, db: Storage, course: Course, lang: str | None) -> CourseReport:
        key = (course.id, report_language(course, lang))
        async with self._locks.setdefault(key, asyncio.Lock()):
            version = await db.data_version(course.id)
            cached = self._reports.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            with _gc_paused():
                rows, scoring_counts = await load_rows(db, course)
                # CPU-bound: off the event loop, so submissions keep flowing meanwhile.
                # The rows go in a box that the thread empties: a worker thread keeps its
                # last call's arguments, and the rows must be gone before the collector
                # resumes (it would walk every one of them).
                box = [rows]
                del rows
                report = await anyio.to_thread.run_sync(
                    _report_from_box, course, box, scoring_counts, key[1]
                )
            self.computed += 1
            self._reports[key] = (version, report)
            return report
