"""Taking in one submission: phase, code, agency, answers, scores, storage.

Shared by the JSON API and the web forms so that both apply the same rules in
the same order. No HTTP here: problems are raised as `evalsvc.errors` types.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from evalsvc.domain import answers as answers_mod
from evalsvc.domain.codes import (
    code_hash,
    keyed_hash,
    normalize_code,
    self_generated_code,
)
from evalsvc.domain.derived import derive
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Forbidden, NotFound, Unprocessable
from evalsvc.known_codes import KnownCodes
from evalsvc.storage import Storage
from evalsvc.storage.records import NewSubmission, StoredSubmission, utc_now

UNKNOWN_CODE_MESSAGE = "this code is not valid for this course; check the code on your card"


class SubmissionBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The JSON body of POST /api/v1/courses/{course}/responses."""

    submission_id: uuid.UUID
    phase: str
    code: str | None = None
    pairing: dict[str, str] | None = None
    agency: str | None = None
    lang: str | None = None
    answers: dict[str, Any] = {}


class Accepted(NamedTuple):
    """A submission that passed every check: the arguments of `Intake.store`."""

    course: Course
    phase: str
    submission_id: uuid.UUID
    identity: Identity
    agency: str
    lang: str
    answers: dict[str, Any]


class Identity(msgspec.Struct, frozen=True):
    code_hash: bytes
    bound_agency: str | None
    normalized: str


class Intake:
    def __init__(self, courses: Mapping[str, Course], db: Storage, secret: bytes) -> None:
        self.courses = courses
        self.db = db
        self.secret = secret
        self.codes = KnownCodes(db)
        """Issued codes found so far (app start-up preloads them all)."""

    def course(self, course_id: str) -> Course:
        course = self.courses.get(course_id)
        if course is None:
            raise unknown_course(course_id)
        return course

    def open_phase(self, course: Course, phase_id: str, now: dt.datetime | None = None) -> None:
        phase = course.phase(phase_id)
        if phase is None:
            raise NotFound(f"no phase {phase_id!r} in this course", code="unknown_phase")
        if not phase.is_open(now or dt.datetime.now(dt.UTC)):
            raise Forbidden(f"the {phase_id} questionnaire is closed", code="phase_closed")

    async def identify(
        self, course: Course, code: str | None, pairing: Mapping[str, str] | None
    ) -> Identity:
        """Resolve the participant's code; unknown and foreign codes fail alike."""
        if course.pairing.method == "self_generated":
            question_ids = [q.id for q in course.pairing.questions]
            derived = self_generated_code(pairing or {}, question_ids)
            if derived is None:
                raise Unprocessable(
                    "answer every pairing question",
                    code="pairing_incomplete",
                    fields={"pairing": "answer every pairing question"},
                )
            return Identity(code_hash(self.secret, course.id, derived), None, derived)
        normalized = normalize_code(code or "")
        # An impossible code is hashed and looked up all the same, so that the
        # answer and its timing do not tell a malformed code from an unknown one.
        hashed = code_hash(self.secret, course.id, normalized or (code or "")[:64])
        known, agency = await self.codes.lookup(course.id, hashed)
        if not known or normalized is None:
            raise Forbidden(UNKNOWN_CODE_MESSAGE, code="unknown_code", fields={"code": "unknown"})
        return Identity(hashed, agency, normalized)

    def choose_agency(self, course: Course, identity: Identity, given: str | None) -> str:
        if identity.bound_agency is not None:
            return identity.bound_agency
        if not given:
            raise Unprocessable("choose your agency", code="invalid", fields={"agency": "required"})
        if given not in course.agency_ids():
            raise Unprocessable(
                f"unknown agency {given!r}", code="invalid", fields={"agency": "unknown_agency"}
            )
        return given

    def language(self, course: Course, lang: str | None) -> str:
        return lang if lang in course.languages else course.default_lang

    async def store(
        self,
        course: Course,
        phase_id: str,
        submission_id: uuid.UUID,
        identity: Identity,
        agency: str,
        lang: str,
        validated: dict[str, Any],
        received_at: str | None = None,
    ) -> StoredSubmission:
        """Score and store; `received_at` (UTC, as `utc_now` writes it) defaults to now,
        and is given by imports of answers collected earlier (paper)."""
        derived = derive(course, phase_id, validated)
        body = msgspec.json.encode(
            {"phase": phase_id, "code": identity.normalized, "agency": agency, "lang": lang}
        ) + answers_mod.canonical(validated)
        new = NewSubmission(
            submission_id=str(submission_id),
            body_hash=keyed_hash(self.secret, "body", course.id, body.decode()),
            receipt=new_receipt(),
            course=course.id,
            phase=phase_id,
            code_hash=identity.code_hash,
            agency=agency,
            lang=lang,
            answers_json=msgspec.json.encode(validated).decode(),
            scores_json=msgspec.json.encode(derived.scores).decode(),
            summarised_json=msgspec.json.encode(derived.summarised).decode(),
            breakdowns_json=msgspec.json.encode(derived.breakdowns).decode(),
            scoring=derived.scoring,
            received_at=received_at or utc_now(),
        )
        return await self.db.store_submission(new)


def unknown_course(course_id: str) -> NotFound:
    """The one answer for a course that does not exist, or that a token may not see."""
    return NotFound(f"no course {course_id!r}", code="unknown_course")


def new_receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
