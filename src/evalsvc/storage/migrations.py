"""The versioned schema, once for both backends: each version's DDL in SQLite's and in
PostgreSQL's dialect, and the data step that goes with it.

A backend runs a version's DDL and its data step in one transaction, so an upgrade
is never half done whichever program (server or CLI command) opens the database
first. Data steps are written once, against `SubmissionRows`, which each backend
implements on its migrating connection; they get what they need to know about the
courses as `MigrationInput` (they cannot read course files).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import msgspec

from evalsvc.storage.records import MigrationInput, Rewritten, StoredAnswers

log = logging.getLogger(__name__)


class SubmissionRows(Protocol):
    """What a data step may do to the submissions, inside the migrating transaction."""

    async def submissions_of(self, course: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """(id, *columns) of every submission of the course."""
        ...

    async def update_submissions(
        self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Set `columns` to each row's values; each row is (*values, id)."""
        ...

    async def bump_versions(self, courses: Iterable[str]) -> None:
        """Move the data version of each course (the report caches' key)."""
        ...


DataStep = Callable[[SubmissionRows, MigrationInput], Any]


class Migration(NamedTuple):
    """One schema version: its DDL per dialect, and its data step."""

    sqlite: str
    postgresql: str
    data: DataStep | None = None


def check_columns(columns: Sequence[str]) -> None:
    """Column names are spliced into SQL: only this module's plain identifiers."""
    if not all(column.isidentifier() for column in columns):
        raise ValueError(f"not column names: {columns!r}")


async def backfill_feedback(rows: SubmissionRows, given: MigrationInput) -> None:
    """Copy feedback answers into their own column for submissions stored before it.

    Courses are known only from their definitions: a course whose folder is gone
    when the upgrade runs keeps its feedback in `answers` alone.
    """
    for course, item_ids in given.feedback_items.items():
        wanted = set(item_ids)
        updates = []
        for row_id, answers, feedback in await rows.submissions_of(course, ("answers", "feedback")):
            if feedback != "{}":
                continue
            given_answers = msgspec.json.decode(answers)
            moved = {key: value for key, value in given_answers.items() if key in wanted}
            if moved:
                updates.append((msgspec.json.encode(moved).decode(), row_id))
        await rows.update_submissions(("feedback",), updates)
        if updates:
            log.info("moved the feedback of %d %s submissions to its column", len(updates), course)


DERIVED = ("phase", "answers", "scores", "breakdowns", "summarised", "scoring")
REWRITTEN = ("scores", "breakdowns", "summarised", "scoring")


async def rewrite(
    rows: SubmissionRows,
    course: str,
    transform: Callable[[StoredAnswers], Rewritten | None],
    *,
    dry_run: bool = False,
) -> int:
    """Recompute what is derived from each submission's answers (rescoring, upgrades).

    Returns how many submissions changed; the course's data version moves if any.
    """
    updates = []
    for row in await rows.submissions_of(course, DERIVED):
        new = transform(StoredAnswers(*row[1:]))
        if new is not None:
            updates.append((*new, row[0]))
    if dry_run:
        return len(updates)
    await rows.update_submissions(REWRITTEN, updates)
    if updates:
        await rows.bump_versions([course])
    return len(updates)


async def rewrite_derived(rows: SubmissionRows, given: MigrationInput) -> None:
    """Fill schema 5's columns from the stored answers, course by course.

    The transforms (`evalsvc.rescoring.upgrade_transform`) come from the course
    definitions; a course whose folder is gone keeps its rows as they are (empty
    breakdowns, and no scoring fingerprint: the reports say "other rules").
    """
    for course, transform in given.rewriters.items():
        changed = await rewrite(rows, course, transform)
        if changed:
            log.info("filled in what is derived from %d %s submissions", changed, course)


MIGRATIONS: tuple[Migration, ...] = (
    # 1: the initial schema
    Migration(
        sqlite="""
        CREATE TABLE codes (
            course     TEXT NOT NULL,
            code_hash  BLOB NOT NULL,
            agency     TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (course, code_hash)
        ) WITHOUT ROWID;
        CREATE TABLE participants (
            id         INTEGER PRIMARY KEY,
            course     TEXT NOT NULL,
            code_hash  BLOB NOT NULL,
            number     INTEGER NOT NULL,
            agency     TEXT NOT NULL,
            UNIQUE (course, code_hash),
            UNIQUE (course, number)
        );
        CREATE TABLE submissions (
            id              INTEGER PRIMARY KEY,
            submission_id   TEXT NOT NULL UNIQUE,
            body_hash       BLOB NOT NULL,
            receipt         TEXT NOT NULL UNIQUE,
            course          TEXT NOT NULL,
            phase           TEXT NOT NULL,
            participant_id  INTEGER NOT NULL REFERENCES participants(id),
            agency          TEXT NOT NULL,
            agency_mismatch INTEGER NOT NULL DEFAULT 0,
            lang            TEXT NOT NULL,
            answers         TEXT NOT NULL,
            scores          TEXT NOT NULL,
            received_at     TEXT NOT NULL,
            UNIQUE (participant_id, phase)
        );
        CREATE INDEX submissions_by_course ON submissions (course, phase);
        CREATE TABLE tokens (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            role        TEXT NOT NULL CHECK (role IN ('evaluator', 'analyst')),
            token_hash  BLOB NOT NULL UNIQUE,
            created_at  TEXT NOT NULL,
            revoked_at  TEXT
        );
        """,
        # Timestamps are text in the storage's one format (records.timestamp), as in
        # SQLite, so that both backends compare and return them alike.
        postgresql="""
        CREATE TABLE codes (
            course     text NOT NULL,
            code_hash  bytea NOT NULL,
            agency     text,
            created_at text NOT NULL,
            PRIMARY KEY (course, code_hash)
        );
        CREATE TABLE participants (
            id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            course     text NOT NULL,
            code_hash  bytea NOT NULL,
            number     integer NOT NULL,
            agency     text NOT NULL,
            UNIQUE (course, code_hash),
            UNIQUE (course, number)
        );
        CREATE TABLE submissions (
            id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            submission_id   text NOT NULL UNIQUE,
            body_hash       bytea NOT NULL,
            receipt         text NOT NULL UNIQUE,
            course          text NOT NULL,
            phase           text NOT NULL,
            participant_id  bigint NOT NULL REFERENCES participants(id),
            agency          text NOT NULL,
            agency_mismatch integer NOT NULL DEFAULT 0,
            lang            text NOT NULL,
            answers         text NOT NULL,
            scores          text NOT NULL,
            received_at     text NOT NULL,
            UNIQUE (participant_id, phase)
        );
        CREATE INDEX submissions_by_course ON submissions (course, phase);
        CREATE TABLE tokens (
            id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name        text NOT NULL,
            role        text NOT NULL
                        CONSTRAINT tokens_role CHECK (role IN ('evaluator', 'analyst')),
            token_hash  bytea NOT NULL UNIQUE,
            created_at  text NOT NULL,
            revoked_at  text
        );
        """,
    ),
    # 2: feedback answers on their own, read by every report
    Migration(
        sqlite="ALTER TABLE submissions ADD COLUMN feedback TEXT NOT NULL DEFAULT '{}';",
        postgresql="ALTER TABLE submissions ADD COLUMN feedback text NOT NULL DEFAULT '{}';",
        data=backfill_feedback,
    ),
    # 3: facts about the service itself, e.g. the fingerprint of the secret key
    Migration(
        sqlite="CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;",
        postgresql="CREATE TABLE meta (name text PRIMARY KEY, value bytea NOT NULL);",
    ),
    # 4: token scopes (JSON of domain.access.Scope; '{}' reaches everything) and
    # server-side login sessions, kept only as keyed hashes of their ids
    Migration(
        sqlite="""
        ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE sessions (
            id_hash    BLOB PRIMARY KEY,
            token_id   INTEGER NOT NULL REFERENCES tokens(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_token ON sessions (token_id);
        """,
        postgresql="""
        ALTER TABLE tokens ADD COLUMN scope text NOT NULL DEFAULT '{}';
        CREATE TABLE sessions (
            id_hash    bytea PRIMARY KEY,
            token_id   bigint NOT NULL REFERENCES tokens(id),
            created_at text NOT NULL,
            expires_at text NOT NULL
        );
        CREATE INDEX sessions_by_token ON sessions (token_id);
        """,
    ),
    # 5: the answers every report reads, apart (summarised items of any phase, and the
    # breakdown items), the scoring rules each score was computed under, and a data
    # version per course that changes with every stored or rescored submission. The
    # data step recomputes them from the stored answers, with the course definitions.
    Migration(
        sqlite="""
        ALTER TABLE submissions RENAME COLUMN feedback TO summarised;
        ALTER TABLE submissions ADD COLUMN breakdowns TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE submissions ADD COLUMN scoring TEXT NOT NULL DEFAULT '';
        CREATE TABLE course_versions (
            course  TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO course_versions (course, version)
            SELECT course, count(*) FROM submissions GROUP BY course;
        """,
        postgresql="""
        ALTER TABLE submissions RENAME COLUMN feedback TO summarised;
        ALTER TABLE submissions ADD COLUMN breakdowns text NOT NULL DEFAULT '{}';
        ALTER TABLE submissions ADD COLUMN scoring text NOT NULL DEFAULT '';
        CREATE TABLE course_versions (
            course  text PRIMARY KEY,
            version bigint NOT NULL
        );
        INSERT INTO course_versions (course, version)
            SELECT course, count(*) FROM submissions GROUP BY course;
        """,
        data=rewrite_derived,
    ),
    # 6: several writers. Participant numbers come from a counter per course, moved in
    # the writing transaction (never max(number) + 1, which two writers would both
    # read alike); the counter starts where the stored numbers end. Tokens gain the
    # `donor` role (programme aggregates only) and the `sync` role (venue laptops
    # pushing to a central server); SQLite changes a
    # CHECK only by rebuilding the table (and, for its foreign key, the sessions').
    Migration(
        sqlite="""
        CREATE TABLE participant_numbers (
            course TEXT PRIMARY KEY,
            last   INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO participant_numbers (course, last)
            SELECT course, max(number) FROM participants GROUP BY course;
        ALTER TABLE sessions RENAME TO sessions_v5;
        ALTER TABLE tokens RENAME TO tokens_v5;
        CREATE TABLE tokens (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            role        TEXT NOT NULL CHECK (role IN ('evaluator', 'analyst', 'donor', 'sync')),
            token_hash  BLOB NOT NULL UNIQUE,
            created_at  TEXT NOT NULL,
            revoked_at  TEXT,
            scope       TEXT NOT NULL DEFAULT '{}'
        );
        INSERT INTO tokens (id, name, role, token_hash, created_at, revoked_at, scope)
            SELECT id, name, role, token_hash, created_at, revoked_at, scope FROM tokens_v5;
        CREATE TABLE sessions (
            id_hash    BLOB PRIMARY KEY,
            token_id   INTEGER NOT NULL REFERENCES tokens(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO sessions (id_hash, token_id, created_at, expires_at)
            SELECT id_hash, token_id, created_at, expires_at FROM sessions_v5;
        DROP TABLE sessions_v5;
        DROP TABLE tokens_v5;
        CREATE INDEX sessions_by_token ON sessions (token_id);
        """,
        postgresql="""
        CREATE TABLE participant_numbers (
            course text PRIMARY KEY,
            last   integer NOT NULL
        );
        INSERT INTO participant_numbers (course, last)
            SELECT course, max(number) FROM participants GROUP BY course;
        ALTER TABLE tokens DROP CONSTRAINT tokens_role;
        ALTER TABLE tokens ADD CONSTRAINT tokens_role
            CHECK (role IN ('evaluator', 'analyst', 'donor', 'sync'));
        """,
    ),
)


def statements(script: str) -> list[str]:
    """A version's DDL, one statement at a time (no semicolons inside statements)."""
    return [statement for statement in script.split(";") if statement.strip()]
