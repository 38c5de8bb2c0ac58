"""What the CLI commands do, apart from parsing and printing."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from evalsvc.app import create_app, load_courses
from evalsvc.domain.access import Scope
from evalsvc.domain.codes import code_hash, new_code, new_token, normalize_code, token_hash
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import ConfigError
from evalsvc.settings import Settings
from evalsvc.storage import Database, open_storage
from evalsvc.storage.records import TokenRecord

T = TypeVar("T")


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database, opened as the app opens it: migrated, key checked."""
    settings = settings.with_secret()
    courses = load_courses(settings)

    async def run() -> T:
        db = await open_storage(settings, courses)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def find_course(settings: Settings, course_id: str) -> Course:
    course = load_courses(settings).get(course_id)
    if course is None:
        raise ConfigError(f"no course {course_id!r} in {settings.surveys_path}")
    return course


def serve(settings: Settings, host: str, port: int, log_level: str) -> int:
    import uvicorn

    from evalsvc.web.slow_clients import header_deadline_protocol

    settings = settings.with_secret()
    protocol = header_deadline_protocol(settings.http_parser, settings.header_timeout_seconds)
    app = create_app(settings)

    async def nothing(db: Database) -> None:
        return None

    # Migrate and check the key before serving, so that a refusal is a plain message
    # and exit status 1 rather than a failed server start.
    with_database(settings, nothing)
    base = settings.base_url or f"http://{host}:{port}"
    for course in load_courses(settings).values():
        for phase in course.phases:
            print(f"  {course.id} {phase.id}: {base}/c/{course.id}/{phase.id}", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        log_level=log_level,
        access_log=False,
        http=protocol,
    )
    return 0


def issue_codes(
    settings: Settings,
    course_id: str,
    count: int,
    agency: str | None,
    cards: Path | None,
    url: str | None,
    languages: list[str] | None = None,
) -> list[str]:
    from evalsvc import cards as cards_sheet

    settings = settings.with_secret()
    course = find_course(settings, course_id)
    if course.pairing.method != "issued_codes":
        raise ConfigError(f"course {course_id!r} pairs by self-generated codes; issue none")
    if agency is not None and agency not in course.agency_ids():
        raise ConfigError(
            f"unknown agency {agency!r}; the course has {', '.join(course.agency_ids())}"
        )
    card_languages = cards_sheet.card_languages(course, languages)
    codes = list(dict.fromkeys(new_code() for _ in range(count)))
    while len(codes) < count:
        codes = list(dict.fromkeys([*codes, new_code()]))
    hashes = [code_hash(settings.secret_key, course.id, normalize_code(c) or c) for c in codes]

    with_database(settings, lambda db: db.add_codes(course.id, hashes, agency))
    if cards is not None:
        if not (url or settings.base_url):
            print(
                "warning: the cards show http://127.0.0.1:8000, which participants' phones"
                " cannot reach; pass --url or set EVALSVC_BASE_URL to the venue address",
                file=sys.stderr,
            )
        # the course page, not /pre: the same card serves the post questionnaire
        form_url = url or f"{settings.base_url or 'http://127.0.0.1:8000'}/c/{course.id}"
        html = cards_sheet.render_cards(course, codes, agency, form_url, card_languages)
        cards.write_text(html, encoding="utf-8")
    return codes


def create_token(
    settings: Settings, role: str, name: str, courses: list[str] | None = None
) -> tuple[int, str]:
    """A new token reaching `courses` (None: every course); returns (id, token)."""
    settings = settings.with_secret()
    if courses is not None:
        known = load_courses(settings)
        unknown = [course for course in courses if course not in known]
        if unknown:
            raise ConfigError(
                f"no course {', '.join(map(repr, unknown))} in {settings.surveys_path};"
                f" the courses are {', '.join(known)}"
            )
    scope = Scope(courses=tuple(dict.fromkeys(courses))) if courses is not None else Scope()
    token = new_token()
    hashed = token_hash(settings.secret_key, token)
    token_id = with_database(settings, lambda db: db.add_token(name, role, hashed, scope))
    return token_id, token


def list_tokens(settings: Settings) -> list[TokenRecord]:
    return with_database(settings, lambda db: db.list_tokens())


def revoke_token(settings: Settings, token_id: int) -> bool:
    return with_database(settings, lambda db: db.revoke_token(token_id))


class Progress:
    """Stages of a long offline run, on stderr, each with its time."""

    def __init__(self, stages: int) -> None:
        self.stages = stages
        self.done = 0
        self.started = time.monotonic()

    def step(self, label: str) -> None:
        self.done += 1
        bar = "#" * (20 * self.done // self.stages)
        elapsed = time.monotonic() - self.started
        print(f"\r[{bar:<20}] {self.done}/{self.stages} {label} ({elapsed:.1f} s)", file=sys.stderr)


def write_report(
    settings: Settings,
    course_id: str,
    fmt: str,
    out: Path,
    table: str = "summary",
    lang: str | None = None,
) -> None:
    from evalsvc import reports
    from evalsvc.exports import csv_export, html_report, xlsx_export
    from evalsvc.exports import tables as export_tables

    course = find_course(settings, course_id)
    progress = Progress(3)

    async def load(db: Database) -> tuple:
        participants = await reports.load_participants(db, course)
        feedback = await reports.load_feedback(db, course)
        return participants, feedback

    participants, feedback = with_database(settings, load)
    progress.step(f"read {len(participants)} participants")
    language = reports.report_language(course, lang)
    report = reports.report_from(course, participants, feedback, language)
    progress.step("computed the statistics")
    if fmt == "json":
        content: bytes | str = msgspec.json.format(msgspec.json.encode(report))
    elif fmt == "xlsx":
        content = xlsx_export.workbook(report, course)
    elif fmt == "html":
        content = html_report.render_report(report, course, inline_css=True, links=[])
    else:
        named = export_tables.report_tables(report, course)
        if table not in named:
            raise ConfigError(f"no table {table!r}; choose one of {', '.join(named)}")
        columns, rows = named[table]
        content = csv_export.table_csv(columns, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        out.write_text(content, encoding="utf-8")
    else:
        out.write_bytes(content)
    progress.step(f"wrote {out}")


def demo(settings: Settings, course_id: str, participants: int, seed: int, if_empty: bool) -> int:
    from evalsvc import demo as demo_cohort
    from evalsvc.intake import Intake

    settings = settings.with_secret()
    course = find_course(settings, course_id)

    async def work(db: Database) -> int:
        if if_empty and await db.count_submissions(course.id):
            return 0
        intake = Intake({course.id: course}, db, settings.secret_key)
        return await demo_cohort.fill(intake, course, participants, seed)

    return with_database(settings, work)
