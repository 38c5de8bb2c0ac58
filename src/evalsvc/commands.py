"""What the CLI commands do, apart from parsing and printing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import jinja2

from evalsvc.app import WEB_DIR, create_app, load_courses
from evalsvc.domain.codes import code_hash, new_code, normalize_code
from evalsvc.errors import ConfigError
from evalsvc.settings import Settings
from evalsvc.storage import Database


def serve(settings: Settings, host: str, port: int, log_level: str) -> int:
    import uvicorn

    app = create_app(settings)
    base = settings.base_url or f"http://{host}:{port}"
    for course in load_courses(settings).values():
        for phase in course.phases:
            print(f"  {course.id} {phase.id}: {base}/c/{course.id}/{phase.id}", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level, access_log=False)
    return 0


def issue_codes(
    settings: Settings,
    course_id: str,
    count: int,
    agency: str | None,
    cards: Path | None,
    url: str | None,
) -> list[str]:
    settings = settings.with_secret()
    course = load_courses(settings).get(course_id)
    if course is None:
        raise ConfigError(f"no course {course_id!r} in {settings.surveys_path}")
    if course.pairing.method != "issued_codes":
        raise ConfigError(f"course {course_id!r} pairs by self-generated codes; issue none")
    if agency is not None and agency not in course.agency_ids():
        raise ConfigError(
            f"unknown agency {agency!r}; the course has {', '.join(course.agency_ids())}"
        )
    codes = list(dict.fromkeys(new_code() for _ in range(count)))
    while len(codes) < count:
        codes = list(dict.fromkeys([*codes, new_code()]))
    hashes = [code_hash(settings.secret_key, course.id, normalize_code(c) or c) for c in codes]

    async def store() -> None:
        db = Database(settings.db_path)
        await db.open()
        try:
            await db.add_codes(course.id, hashes, agency)
        finally:
            await db.close()

    asyncio.run(store())
    if cards is not None:
        form_url = url or f"{settings.base_url or 'http://127.0.0.1:8000'}/c/{course.id}/pre"
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(WEB_DIR / "templates"), autoescape=True
        )
        html = environment.get_template("cards.html").render(
            title=course.localize(course.title, course.default_lang),
            title_en=course.localize(course.title, "en"),
            url=form_url,
            codes=codes,
        )
        cards.write_text(html, encoding="utf-8")
    return codes
