"""What a venue sends the central server, and what it hears back.

Hashes travel as hex. Codes travel only as their keyed hashes, so the venue and the
server must share the secret key: every batch carries the venue key's fingerprint
(`domain.codes.key_fingerprint`), and the server refuses a batch made under another.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

SYNC_MAX_BODY_BYTES = 4 * 1024 * 1024
"""The push endpoint's body limit (for sync tokens only; participants' limit stays)."""
KNOWN_MAX_IDS = 1000
"""Most submission ids one `known` question may ask about."""


class SharedCode(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    course: str
    code_hash: str
    agency: str | None
    created_at: str


class SyncedSubmission(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    submission_id: str
    course: str
    phase: str
    code_hash: str
    body_hash: str
    receipt: str
    agency: str
    breakdowns: dict[str, Any]
    """The breakdown answers as the venue derived them; the server derives its own."""
    lang: str
    answers: dict[str, Any]
    received_at: str
    """When the venue received it, kept as the submission's time on the server too."""
    scoring: str
    """The fingerprint of the scoring rules the venue scored it under."""


class SyncBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    key_fingerprint: str
    codes: list[SharedCode] = []
    submissions: list[SyncedSubmission] = []


Status = Literal["sent", "already_there", "conflict", "rejected"]


class SubmissionOutcome(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    course: str
    phase: str
    status: Status
    rescored: bool = False
    """Scored at the venue under other rules: the server rescored it with its course files."""
    reason: str = ""


class SyncResult(msgspec.Struct, frozen=True, kw_only=True):
    codes_added: int
    codes_already_there: int
    codes_rejected: list[str]
    submissions: list[SubmissionOutcome]


class KnownQuestion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    submission_ids: list[str]


class KnownAnswer(msgspec.Struct, frozen=True):
    known: list[str]
