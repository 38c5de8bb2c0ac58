"""What the CLI commands do, apart from parsing and printing."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import msgspec

from evalsvc.app import create_app, load_catalog, load_courses
from evalsvc.domain.access import Scope
from evalsvc.domain.codes import code_hash, new_code, new_token, normalize_code, token_hash
from evalsvc.domain.programme import Programme
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import ConfigError
from evalsvc.rescoring import RescoreReport
from evalsvc.settings import Settings
from evalsvc.storage import Storage, open_storage
from evalsvc.storage.records import TokenRecord

if TYPE_CHECKING:
    from evalsvc.sync.push import PushReport

T = TypeVar("T")


def with_database(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
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
        raise ConfigError(f"no course {course_id!r} in {_folders(settings)}")
    return course


def _folders(settings: Settings) -> str:
    return ":".join(str(folder) for folder in settings.survey_folders)


def serve(settings: Settings, host: str, port: int, log_level: str) -> int:
    import uvicorn

    from evalsvc.web.slow_clients import header_deadline_protocol

    settings = settings.with_secret()
    protocol = header_deadline_protocol(settings.http_parser, settings.header_timeout_seconds)
    app = create_app(settings)

    async def nothing(db: Storage) -> None:
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
        # uvloop when installed (uvicorn[standard], a dependency), else asyncio's loop;
        # the parser inside `protocol` is likewise httptools when installed, else h11
        loop="auto",
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


def token_scope(
    settings: Settings,
    role: str,
    courses: list[str] | None = None,
    programmes: list[str] | None = None,
    agency_types: list[str] | None = None,
) -> Scope:
    """The scope of a new token, checked against the catalog; ConfigError says what is wrong."""
    catalog = load_catalog(settings)
    if role == "donor":
        if not programmes:
            raise ConfigError("a donor token reaches programmes only: give --programme ID")
        if courses or agency_types:
            raise ConfigError("a donor token takes neither --course nor --agency-type")
    if agency_types and role != "evaluator":
        raise ConfigError("--agency-type limits an evaluator token; use --role evaluator")
    unknown = [c for c in courses or () if c not in catalog.courses]
    if unknown:
        raise ConfigError(
            f"no course {', '.join(map(repr, unknown))} in {_folders(settings)};"
            f" the courses are {', '.join(catalog.courses)}"
        )
    missing = [p for p in programmes or () if p not in catalog.programmes]
    if missing:
        raise ConfigError(
            f"no programme {', '.join(map(repr, missing))} in {_folders(settings)};"
            f" the programmes are {', '.join(catalog.programmes) or 'none'}"
        )
    known_types = {t for p in catalog.programmes.values() for t in p.agency_type_ids()}
    strange = [t for t in agency_types or () if t not in known_types]
    if strange:
        raise ConfigError(
            f"no agency type {', '.join(map(repr, strange))} in any programme;"
            f" the types are {', '.join(sorted(known_types)) or 'none'}"
        )
    reach_everything = courses is None and programmes is None
    return Scope(
        courses=None if reach_everything else tuple(dict.fromkeys(courses or ())),
        programmes=None if reach_everything else tuple(dict.fromkeys(programmes or ())),
        agency_types=tuple(dict.fromkeys(agency_types)) if agency_types else None,
    )


def create_token(
    settings: Settings,
    role: str,
    name: str,
    courses: list[str] | None = None,
    *,
    programmes: list[str] | None = None,
    agency_types: list[str] | None = None,
) -> tuple[int, str]:
    """A new token reaching `courses` and `programmes` (neither: everything), limited to
    `agency_types` if given; returns (id, token)."""
    settings = settings.with_secret()
    scope = token_scope(settings, role, courses, programmes, agency_types)
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
    from evalsvc.exports import registry as exports

    course = find_course(settings, course_id)
    progress = Progress(3)
    rows, scoring_counts = with_database(settings, lambda db: reports.load_rows(db, course))
    progress.step(f"read {len(rows)} submissions")
    language = reports.report_language(course, lang)
    report = reports.report_from(course, rows, scoring_counts, language)
    progress.step("computed the statistics and verified the disclosure plan")
    if fmt == "json":
        content: bytes | str = msgspec.json.format(msgspec.json.encode(report))
    elif fmt == "html":
        from evalsvc.exports import html_report

        content = html_report.render_report(report, course, inline_css=True, links=[])
    elif fmt == "pdf":
        from evalsvc.exports import pdf_report

        content = pdf_report.report_pdf(report, course)
    else:
        name = "report.xlsx" if fmt == "xlsx" else f"{table}.csv"
        export = exports.REPORT_EXPORTS.get(name)
        if export is None:
            tables = [n[: -len(".csv")] for n in exports.REPORT_EXPORTS if n.endswith(".csv")]
            raise ConfigError(f"no table {table!r}; choose one of {', '.join(tables)}")
        content = export.render(report, course)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        out.write_text(content, encoding="utf-8")
    else:
        out.write_bytes(content)
    progress.step(f"wrote {out}")


def find_programme(settings: Settings, programme_id: str) -> tuple[Programme, dict]:
    catalog = load_catalog(settings)
    programme = catalog.programmes.get(programme_id)
    if programme is None:
        raise ConfigError(
            f"no programme {programme_id!r} in {_folders(settings)}; the programmes are"
            f" {', '.join(catalog.programmes) or 'none'} (EVALSVC_SURVEYS may name several"
            " folders, e.g. surveys:examples)"
        )
    return programme, catalog.courses


def write_programme_report(
    settings: Settings,
    programme_id: str,
    fmt: str,
    out: Path,
    table: str = "summary",
    lang: str | None = None,
) -> None:
    from evalsvc import programme_reports
    from evalsvc.exports import registry as exports

    programme, courses = find_programme(settings, programme_id)
    progress = Progress(3)
    _, rows = with_database(
        settings, lambda db: programme_reports.load_programme_rows(db, programme)
    )
    progress.step(f"read {sum(len(r) for r in rows.values())} submissions of {len(rows)} courses")
    analysis = programme_reports.programme_analysis(programme, courses, rows)
    language = programme_reports.report_language(programme, lang)
    report = programme_reports.programme_report_from(programme, courses, analysis, language)
    progress.step("computed the statistics and verified the disclosure with the course reports")
    if fmt == "json":
        content: bytes | str = msgspec.json.format(msgspec.json.encode(report))
    else:
        name = {"xlsx": "report.xlsx", "html": "report.html"}.get(fmt, f"{table}.csv")
        export = exports.PROGRAMME_EXPORTS.get(name)
        if export is None:
            tables = [n[: -len(".csv")] for n in exports.PROGRAMME_EXPORTS if n.endswith(".csv")]
            raise ConfigError(
                f"no programme table {table!r} or format {fmt!r}; tables: {', '.join(tables)}"
            )
        content = export.render(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        out.write_text(content, encoding="utf-8")
    else:
        out.write_bytes(content)
    progress.step(f"wrote {out}")


def rescore(settings: Settings, course_id: str, dry_run: bool) -> RescoreReport:
    """Rescore the submissions scored under other rules than the course's current ones."""
    from evalsvc.rescoring import RescoreReport, rescore_transform

    course = find_course(settings, course_id)
    report = RescoreReport()
    with_database(
        settings,
        lambda db: db.rewrite_submissions(
            course.id, rescore_transform(course, report), dry_run=dry_run
        ),
    )
    return report


def demo(settings: Settings, course_id: str, participants: int, seed: int, if_empty: bool) -> int:
    from evalsvc import demo as demo_cohort
    from evalsvc.intake import Intake

    settings = settings.with_secret()
    course = find_course(settings, course_id)

    async def work(db: Storage) -> int:
        if if_empty and await db.count_submissions(course.id):
            return 0
        intake = Intake({course.id: course}, db, settings.secret_key)
        return await demo_cohort.fill(intake, course, participants, seed)

    return with_database(settings, work)


def demo_programme(
    settings: Settings, programme_id: str, participants: int, seed: int, if_empty: bool
) -> int:
    """Fill every course of a programme, each with a cohort of its own (seeds differ)."""
    from evalsvc import demo as demo_cohort
    from evalsvc.intake import Intake

    settings = settings.with_secret()
    programme, courses = find_programme(settings, programme_id)

    async def work(db: Storage) -> int:
        stored = 0
        for position, course_id in enumerate(programme.course_ids()):
            course = courses[course_id]
            if if_empty and await db.count_submissions(course.id):
                continue
            intake = Intake({course.id: course}, db, settings.secret_key)
            stored += await demo_cohort.fill(intake, course, participants, seed + position)
        return stored

    return with_database(settings, work)


# -- paper questionnaires (issue 15) ---------------------------------------------------------


def paper_questionnaire(
    settings: Settings, course_id: str, phase: str, lang: str | None, template: bool
) -> bytes | str:
    """The printable PDF of a phase, or (`template`) its CSV template for typing in."""
    from evalsvc.exports import paper
    from evalsvc.web.i18n import gettext_for

    course = find_course(settings, course_id)
    if course.phase(phase) is None:
        raise ConfigError(
            f"no phase {phase!r} in {course_id}; it has {', '.join(course.phase_ids())}"
        )
    if template:
        return paper.csv_template(course, phase)
    language = lang or course.default_lang
    if language not in course.languages:
        raise ConfigError(
            f"{course_id} is not offered in {language!r}: {', '.join(course.languages)}"
        )
    return paper.paper_pdf(course, phase, language, gettext_for(language))


class PaperImport(NamedTuple):
    outcomes: list
    """paper_import.RowOutcome per row; empty when the typings disagree."""
    disagreements: list
    """paper_import.Disagreement per differing cell (double entry only)."""


def import_paper(
    settings: Settings,
    course_id: str,
    phase: str,
    first: Path,
    second: Path | None,
    conflicts: Path | None,
    dry_run: bool,
) -> PaperImport:
    from evalsvc import paper_import
    from evalsvc.intake import Intake

    settings = settings.with_secret()
    course = find_course(settings, course_id)
    if course.phase(phase) is None:
        raise ConfigError(
            f"no phase {phase!r} in {course_id}; it has {', '.join(course.phase_ids())}"
        )
    sheet = paper_import.read_sheet(first, course, phase)
    if second is not None:
        other = paper_import.read_sheet(second, course, phase)
        found = paper_import.disagreements(course, phase, sheet, other)
        if found:
            paper_import.write_disagreements(conflicts or default_conflicts_path(first), found)
            return PaperImport([], found)

    async def work(db: Storage) -> list:
        intake = Intake({course.id: course}, db, settings.secret_key)
        return await paper_import.import_sheet(intake, course, phase, sheet, dry_run=dry_run)

    return PaperImport(with_database(settings, work), [])


def default_conflicts_path(first: Path) -> Path:
    return first.with_name(f"{first.stem}-conflicts.csv")


# -- venue laptops (issue 12) -----------------------------------------------------------------


def sync_push(
    settings: Settings,
    url: str,
    token: str,
    courses: list[str] | None,
    retries: int,
    batch_max: int,
) -> PushReport:
    """Send this database's codes and submissions to the server at `url` (see sync/push.py)."""
    from evalsvc.domain.codes import key_fingerprint
    from evalsvc.sync.push import push

    settings = settings.with_secret()
    if courses is not None:
        known = load_courses(settings)
        unknown = [course for course in courses if course not in known]
        if unknown:
            raise ConfigError(f"no course {', '.join(map(repr, unknown))} here")
    fingerprint = key_fingerprint(settings.secret_key)
    return with_database(
        settings,
        lambda db: push(db, url, token, fingerprint, courses, retries=retries, batch_max=batch_max),
    )
