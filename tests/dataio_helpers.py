"""Shared set-up of the data in/out tests: the "trio" course and stored answers.

Answers are stored through `Intake` (the web submission's own steps: code, agency,
validation, scores, storage), skipping only the phase window, since trio's phases
closed in 2024.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from evalsvc.app import load_courses
from evalsvc.commands import issue_codes
from evalsvc.domain import answers as answers_mod
from evalsvc.intake import Intake
from evalsvc.settings import Settings
from evalsvc.storage import Storage
from tests.conftest import through_port

DATAIO_SURVEYS = Path(__file__).resolve().parent / "data" / "dataio"
TRIO = "trio"

# participant -> phase -> (agency, lang, answers)
TRIO_ANSWERS: list[dict[str, tuple[str, str, dict[str, Any]]]] = [
    {
        "pre": (
            "border",
            "kk",
            {"role": "officer", "years": 4, "sa-detect": 2, "k1": "b", "k2": "true", "k3": ["a"]},
        ),
        "post": (
            "border",
            "kk",
            {
                "sa-detect": 4,
                "sa_trace": 5,
                "k1": "b",
                "k2": "false",
                "k3": ["a", "c"],
                "fb_useful": 1,
                "fb_best": "Практика — өте жақсы",
            },
        ),
        "follow_up": ("border", "kk", {"sa-detect": 4, "k1": "dont_know", "k3": ["dont_know"]}),
    },
    {
        "pre": ("customs", "ru", {"role": "manager", "sa-detect": 3, "k1": "a", "k3": ["b"]}),
        "post": (
            "customs",
            "ru",
            {
                "sa-detect": 3,
                "k1": "b",
                "k2": "false",
                "fb_useful": 3,
                "fb_more": "Больше практики",
            },
        ),
    },
]


def trio_settings(settings: Settings) -> Settings:
    fields = {name: getattr(settings, name) for name in settings.__struct_fields__}
    return Settings(**{**fields, "surveys_path": DATAIO_SURVEYS})


def store_trio_answers(settings: Settings) -> list[str]:
    """Issue codes and store `TRIO_ANSWERS`; returns the codes, one per participant."""
    codes = issue_codes(settings, TRIO, len(TRIO_ANSWERS), None, None, None)
    course = load_courses(settings)[TRIO]

    async def work(db: Storage) -> None:
        intake = Intake({TRIO: course}, db, settings.with_secret().secret_key)
        for code, phases in zip(codes, TRIO_ANSWERS, strict=True):
            identity = await intake.identify(course, code, None)
            for phase, (agency, lang, raw) in phases.items():
                checked = answers_mod.validate_answers(course, phase, raw)
                assert checked.ok, checked.errors
                await intake.store(
                    course, phase, uuid.uuid4(), identity, agency, lang, checked.answers
                )

    through_port(settings, work)
    return codes
