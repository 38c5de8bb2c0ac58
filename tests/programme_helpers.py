"""The test programme (tests/data/programme) with demo participants in a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from evalsvc import commands, programme_reports
from evalsvc.app import load_catalog
from evalsvc.programme_reports import ProgrammeReport
from evalsvc.settings import Settings
from evalsvc.storage import open_storage
from evalsvc.storage.records import ScoreRow

DATA = Path(__file__).resolve().parent / "data"
PROGRAMME_SURVEYS = DATA / "programme"
PROGRAMME = "test-prog"
SECRET = b"0123456789abcdef0123456789abcdef-test"


def programme_settings(folder: Path) -> Settings:
    return Settings(
        db_path=folder / "programme.sqlite3",
        surveys_path=PROGRAMME_SURVEYS,
        secret_key=SECRET,
        secret_file=folder / "secret.key",
    )


def surveys_env(settings: Settings) -> str:
    """EVALSVC_SURVEYS for these settings: every folder, separated by ':'."""
    return ":".join(str(folder) for folder in settings.survey_folders)


def fill(settings: Settings, participants: int = 14, seed: int = 3) -> int:
    return commands.demo_programme(settings, PROGRAMME, participants, seed, if_empty=False)


def score_rows(settings: Settings) -> dict[str, list[ScoreRow]]:
    """Each member course's stored rows, one per submission, as the programme reads them."""
    catalog = load_catalog(settings.with_secret())
    programme = catalog.programmes[PROGRAMME]

    async def rows() -> dict[str, list[ScoreRow]]:
        db = await open_storage(settings.with_secret(), catalog.courses)
        try:
            return (await programme_reports.load_programme_rows(db, programme))[1]
        finally:
            await db.close()

    return asyncio.run(rows())


def report_of(settings: Settings, lang: str = "en") -> ProgrammeReport:
    catalog = load_catalog(settings.with_secret())
    programme = catalog.programmes[PROGRAMME]
    analysis = programme_reports.programme_analysis(
        programme, catalog.courses, score_rows(settings)
    )
    return programme_reports.programme_report_from(programme, catalog.courses, analysis, lang)


def with_surveys(settings: Settings, *folders: Path) -> Settings:
    return msgspec.structs.replace(
        settings, surveys_path=folders[0], more_surveys=tuple(folders[1:])
    )
