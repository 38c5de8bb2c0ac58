"""The storage port: every operation evalsvc needs from a database, and nothing else.

The app, the CLI and every other caller depend on `Storage` only; `open_storage`
(opening.py) picks the backend from the settings: SQLite (sqlite.py) for a file,
PostgreSQL (postgres.py) for a postgresql:// address. Operations are named for what
the application needs, not for SQL, and take and return the plain records of
records.py. Adding an operation means adding it here and to both backends (the
type checker holds each backend to this Protocol in opening.py).

Guarantees every backend gives:
- a write returns only after its COMMIT: nothing is acknowledged that is not stored;
- duplicates and conflicts are decided by the database's constraints inside the
  writing transaction, correct with any number of writers (processes or instances);
- a database that cannot take or give data raises StorageUnavailable (503), and the
  backend recovers by itself when the database is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from evalsvc.domain.access import Scope
from evalsvc.storage.records import (
    CodeCount,
    IssuedCode,
    KeyFacts,
    MigrationInput,
    NewSubmission,
    ResponseRow,
    Rewritten,
    ScoreRow,
    SharedSubmission,
    StoredAnswers,
    StoredSubmission,
    TokenRecord,
)


class Storage(Protocol):
    location: str
    """Where the data is, for messages (a file, or an address without its password)."""

    # -- lifecycle, health, migrations ----------------------------------------------------
    async def open(self, migration_input: MigrationInput | None = None) -> None:
        """Connect, and bring the schema and its data to the current version."""
        ...

    async def close(self, drain_seconds: float = 10.0) -> None:
        """Finish the queued writes (for up to `drain_seconds`), then disconnect."""
        ...

    async def healthy(self) -> bool: ...

    # -- the secret key -------------------------------------------------------------------
    async def key_facts(self) -> KeyFacts: ...

    async def set_key_fingerprint(self, fingerprint: bytes) -> None: ...

    # -- participant codes ----------------------------------------------------------------
    async def add_codes(self, course: str, hashes: list[bytes], agency: str | None) -> None:
        """Store newly issued codes; a code already stored is a Conflict (nothing stored)."""
        ...

    async def merge_codes(self, codes: Sequence[IssuedCode]) -> int:
        """Store the codes not stored yet (a stored code keeps its agency); how many were new."""
        ...

    async def code_lookup(self, course: str, code_hash: bytes) -> tuple[bool, str | None]:
        """(known, bound agency) of an issued code."""
        ...

    async def code_counts(self, course: str) -> list[CodeCount]:
        """How many codes were issued for the course, per bound agency (None: unbound)."""
        ...

    async def codes_to_share(self, courses: Sequence[str] | None = None) -> list[IssuedCode]:
        """The issued codes of `courses` (None: every course), for a push to a server."""
        ...

    # -- submissions ----------------------------------------------------------------------
    async def store_submission(self, new: NewSubmission) -> StoredSubmission:
        """Store once; the same submission_id and body again returns the first receipt.

        Raises Unprocessable (submission_id reused for another body) or Conflict
        (this participant already submitted this phase).
        """
        ...

    async def submission_by_receipt(self, course: str, receipt: str) -> StoredSubmission | None: ...

    async def known_submissions(self, submission_ids: Sequence[str]) -> set[str]:
        """Which of these submission ids are stored."""
        ...

    async def stored_answers(self, course: str, code_hash: bytes, phase: str) -> str | None:
        """The answers (JSON) stored for this code's participant and phase, if any."""
        ...

    async def count_submissions(self, course: str | None = None) -> int: ...

    async def submissions_to_share(
        self, courses: Sequence[str] | None, after: int, limit: int
    ) -> list[SharedSubmission]:
        """Up to `limit` stored submissions after position `after`, in order of arrival."""
        ...

    # -- what reports read ----------------------------------------------------------------
    async def data_version(self, course: str) -> int:
        """A number that changes whenever a submission of the course is stored or
        rescored, by any process: the report caches' key."""
        ...

    async def score_rows(self, course: str) -> list[ScoreRow]: ...

    async def scoring_counts(self, course: str) -> dict[str, int]: ...

    def iter_responses(self, course: str, chunk: int = 1000) -> AsyncIterator[ResponseRow]:
        """Every submission's answers in participant order, streamed in chunks."""
        ...

    async def rewrite_submissions(
        self,
        course: str,
        transform: Callable[[StoredAnswers], Rewritten | None],
        *,
        dry_run: bool = False,
    ) -> int:
        """Recompute what is derived from the stored answers (rescoring), in one
        transaction; how many submissions changed."""
        ...

    # -- access tokens and login sessions -------------------------------------------------
    async def add_token(
        self, name: str, role: str, token_hash: bytes, scope: Scope | None = None
    ) -> int: ...

    async def token_by_hash(self, token_hash: bytes) -> TokenRecord | None: ...

    async def list_tokens(self) -> list[TokenRecord]: ...

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token and end its sessions at once."""
        ...

    async def add_session(
        self, id_hash: bytes, token_id: int, created_at: str, expires_at: str
    ) -> None: ...

    async def token_by_session(self, id_hash: bytes, now: str) -> TokenRecord | None:
        """The token of a live session: not expired by `now`, its token not revoked."""
        ...

    async def end_session(self, id_hash: bytes) -> None: ...
