"""Plain records passed across the storage interface, and its timestamp format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from evalsvc.domain.access import EVERYTHING, Scope


def timestamp(moment: dt.datetime) -> str:
    """How storage writes a moment: UTC, ISO 8601 with milliseconds and Z, which sorts
    as text (both backends store and compare timestamps as this text)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return timestamp(dt.datetime.now(dt.UTC))


class NewSubmission(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    body_hash: bytes
    receipt: str
    course: str
    phase: str
    code_hash: bytes
    agency: str
    lang: str
    answers_json: str
    scores_json: str
    summarised_json: str
    """The summarised (unscored) items' answers alone: reports need not decode every answer."""
    breakdowns_json: str
    """The breakdown items' answers (sex, role...), read by every report."""
    scoring: str
    """Fingerprint of the scoring rules the scores were computed under."""
    received_at: str


class StoredSubmission(NamedTuple):
    submission_id: str
    receipt: str
    received_at: str
    created: bool
    phase: str | None = None


class CodeCount(NamedTuple):
    """Codes issued for a course and bound to one agency (None: issued without one)."""

    agency: str | None
    issued: int


class ScoreRow(NamedTuple):
    participant: int
    agency: str
    phase: str
    scores_json: str
    breakdowns_json: str
    summarised_json: str
    scoring: str


class StoredAnswers(NamedTuple):
    """A stored submission's answers and what was derived from them, for rewriting."""

    phase: str
    answers_json: str
    scores_json: str
    breakdowns_json: str
    summarised_json: str
    scoring: str


class Rewritten(NamedTuple):
    """New derived columns of a submission: scores, breakdowns, summarised, scoring."""

    scores_json: str
    breakdowns_json: str
    summarised_json: str
    scoring: str


class ResponseRow(NamedTuple):
    participant: int
    agency: str
    submitted_agency: str
    agency_mismatch: int
    phase: str
    lang: str
    received_at: str
    answers_json: str


class TokenRecord(NamedTuple):
    id: int
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    scope: Scope = EVERYTHING


class KeyFacts(NamedTuple):
    """What the database says about the secret key its hashes were made with."""

    fingerprint: bytes | None
    """The stored key fingerprint; None in a fresh database or one made before schema 3."""
    codes: int
    tokens: int
    participants: int

    @property
    def holds_keyed_data(self) -> bool:
        return bool(self.codes or self.tokens or self.participants)


class MigrationInput(msgspec.Struct, frozen=True, kw_only=True):
    """What data migrations need to know about the courses (they cannot read files)."""

    feedback_items: dict[str, tuple[str, ...]] = {}
    """Course id -> ids of its feedback items."""
    rewriters: dict[str, Callable[[StoredAnswers], Rewritten | None]] = {}
    """Course id -> how to recompute what is derived from a submission's answers."""


class IssuedCode(msgspec.Struct, frozen=True, kw_only=True):
    """An issued participant code, as stored: only its keyed hash."""

    course: str
    code_hash: bytes
    agency: str | None
    created_at: str


class SharedSubmission(msgspec.Struct, frozen=True, kw_only=True):
    """A stored submission as a venue sends it to the central server (`evalsvc sync`)."""

    position: int
    """Its place in this database's order of arrival (resuming a push starts after it)."""
    submission_id: str
    body_hash: bytes
    receipt: str
    course: str
    phase: str
    code_hash: bytes
    agency: str
    lang: str
    answers_json: str
    breakdowns_json: str
    scoring: str
    received_at: str
