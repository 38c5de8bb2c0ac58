"""SQLite storage: every SQL statement of evalsvc lives in this module.

Writes go through one writer task that owns its connection and commits queued
units of work in batches (group commit: one fsync for many submissions). A
caller's future resolves only after COMMIT has returned, so nothing is
acknowledged that is not on disk. Each unit runs inside a SAVEPOINT, so a
conflict in one submission does not undo the others of its batch. Reads use
their own connections; with WAL they never wait for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import aiosqlite
import msgspec

from evalsvc.domain.access import Scope
from evalsvc.errors import (
    Conflict,
    EvalsvcError,
    RequestError,
    StorageUnavailable,
    Unprocessable,
)
from evalsvc.storage.records import (
    CodeCount,
    KeyFacts,
    MigrationInput,
    NewSubmission,
    ResponseRow,
    Rewritten,
    ScoreRow,
    StoredAnswers,
    StoredSubmission,
    TokenRecord,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Unit = Callable[[aiosqlite.Connection], Awaitable[T]]
DataStep = Callable[[aiosqlite.Connection, MigrationInput], Awaitable[None]]


async def _backfill_feedback(conn: aiosqlite.Connection, given: MigrationInput) -> None:
    """Copy feedback answers into their own column for submissions stored before it.

    Courses are known only from their definitions: a course whose folder is gone
    when the upgrade runs keeps its feedback in `answers` alone.
    """
    for course, item_ids in given.feedback_items.items():
        wanted = set(item_ids)
        rows = await conn.execute_fetchall(
            "SELECT id, answers FROM submissions WHERE course = ? AND feedback = '{}'",
            (course,),
        )
        updates = []
        for row_id, answers in rows:
            given_answers = msgspec.json.decode(answers)
            feedback = {key: value for key, value in given_answers.items() if key in wanted}
            if feedback:
                updates.append((msgspec.json.encode(feedback).decode(), row_id))
        await conn.executemany("UPDATE submissions SET feedback = ? WHERE id = ?", updates)
        if updates:
            log.info("moved the feedback of %d %s submissions to its column", len(updates), course)


async def _rewrite_derived(conn: aiosqlite.Connection, given: MigrationInput) -> None:
    """Fill schema 5's columns from the stored answers, course by course.

    The transforms (`evalsvc.rescoring.upgrade_transform`) come from the course
    definitions; a course whose folder is gone keeps its rows as they are (empty
    breakdowns, and no scoring fingerprint: the reports say "other rules").
    """
    for course, transform in given.rewriters.items():
        changed = await _rewrite(conn, course, transform)
        if changed:
            log.info("filled in what is derived from %d %s submissions", changed, course)


async def _rewrite(
    conn: aiosqlite.Connection,
    course: str,
    transform: Callable[[StoredAnswers], Rewritten | None],
    *,
    dry_run: bool = False,
) -> int:
    rows = await conn.execute_fetchall(
        "SELECT id, phase, answers, scores, breakdowns, summarised, scoring"
        " FROM submissions WHERE course = ?",
        (course,),
    )
    updates = []
    for row in rows:
        new = transform(StoredAnswers(*row[1:]))
        if new is not None:
            updates.append((*new, row[0]))
    if dry_run:
        return len(updates)
    await conn.executemany(
        "UPDATE submissions SET scores = ?, breakdowns = ?, summarised = ?, scoring = ?"
        " WHERE id = ?",
        updates,
    )
    if updates:
        await _bump_versions(conn, [course])
    return len(updates)


class Migration(NamedTuple):
    """One schema version: its DDL, and the data step that goes with it, both in
    one transaction, so an upgrade is never half done whichever program runs it."""

    schema: str
    data: DataStep | None = None


MIGRATIONS: tuple[Migration, ...] = (
    # 1: the initial schema
    Migration("""
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
    """),
    # 2: feedback answers on their own, read by every report
    Migration(
        """
        ALTER TABLE submissions ADD COLUMN feedback TEXT NOT NULL DEFAULT '{}';
        """,
        data=_backfill_feedback,
    ),
    # 3: facts about the service itself, e.g. the fingerprint of the secret key
    Migration("""
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;
    """),
    # 4: token scopes (JSON of domain.access.Scope; '{}' reaches everything) and
    # server-side login sessions, kept only as keyed hashes of their ids
    Migration("""
    ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE sessions (
        id_hash    BLOB PRIMARY KEY,
        token_id   INTEGER NOT NULL REFERENCES tokens(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_by_token ON sessions (token_id);
    """),
    # 5: the answers every report reads, apart (summarised items of any phase, and the
    # breakdown items), the scoring rules each score was computed under, and a data
    # version per course that changes with every stored or rescored submission. The
    # data step recomputes them from the stored answers, with the course definitions.
    Migration(
        """
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
        data=_rewrite_derived,
    ),
    # 6: the donor role (programme aggregates only). SQLite cannot change a CHECK
    # constraint in place: tokens is rebuilt, with the sessions that point to it, in
    # the order that keeps every foreign key valid (sessions survive the upgrade).
    Migration("""
    CREATE TABLE tokens_new (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        role        TEXT NOT NULL CHECK (role IN ('evaluator', 'analyst', 'donor')),
        token_hash  BLOB NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT,
        scope       TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO tokens_new (id, name, role, token_hash, created_at, revoked_at, scope)
        SELECT id, name, role, token_hash, created_at, revoked_at, scope FROM tokens;
    CREATE TABLE sessions_new (
        id_hash    BLOB PRIMARY KEY,
        token_id   INTEGER NOT NULL REFERENCES tokens_new(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO sessions_new (id_hash, token_id, created_at, expires_at)
        SELECT id_hash, token_id, created_at, expires_at FROM sessions;
    DROP TABLE sessions;
    DROP TABLE tokens;
    ALTER TABLE tokens_new RENAME TO tokens;
    ALTER TABLE sessions_new RENAME TO sessions;
    CREATE INDEX sessions_by_token ON sessions (token_id);
    """),
)
KEY_FINGERPRINT = "key_fingerprint"
_decode_scope = msgspec.json.Decoder(Scope).decode

READERS = 4
READER_WAIT_SECONDS = 10.0


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _connect(path: Path, *, readonly: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=FULL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    if readonly:
        await conn.execute("PRAGMA query_only=ON")
    return conn


class _Job:
    """A queued write: a generic unit of work, or a submission stored set-wise."""

    __slots__ = ("unit", "submission", "future")

    def __init__(
        self,
        future: asyncio.Future[Any],
        unit: Unit[Any] | None = None,
        submission: NewSubmission | None = None,
    ) -> None:
        self.unit = unit
        self.submission = submission
        self.future = future


class Database:
    """The narrow storage interface the rest of evalsvc uses."""

    def __init__(self, path: Path, *, batch_max: int = 256, ack_before_commit: bool = False):
        self.path = path
        self.batch_max = batch_max
        # Only for the durability test's negative control: acknowledges too early.
        self._ack_before_commit = ack_before_commit
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._jobs: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._busy = False

    # -- lifecycle -----------------------------------------------------------------
    async def open(self, migration_input: MigrationInput | None = None) -> None:
        """Open, and bring the file to the current schema and its data along with it.

        Use `evalsvc.storage.open_storage`, which passes what the data steps need
        and checks the secret key; opening directly is for tests of storage alone.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await _connect(self.path, readonly=False)
            await self._migrate(self._writer, migration_input or MigrationInput())
            for _ in range(READERS):
                self._readers.put_nowait(await _connect(self.path, readonly=True))
        except sqlite3.Error as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open database {self.path}: {exc}") from exc
        except BaseException:
            await self.close()
            raise
        self._task = asyncio.create_task(self._write_loop(), name="evalsvc-writer")

    async def close(self, drain_seconds: float = 10.0) -> None:
        """Finish the queued writes (for up to `drain_seconds`), then close."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), timeout=drain_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._jobs.empty():
            job = self._jobs.get_nowait()
            if not job.future.done():
                job.future.set_exception(StorageUnavailable("the service is shutting down"))
        while not self._readers.empty():
            await self._readers.get_nowait().close()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def _drained(self) -> None:
        while (not self._jobs.empty() or self._busy) and not self._task_done():
            await asyncio.sleep(0.01)

    def _task_done(self) -> bool:
        return self._task is None or self._task.done()

    async def _migrate(self, conn: aiosqlite.Connection, given: MigrationInput) -> None:
        version = await _user_version(conn)
        if version > len(MIGRATIONS):
            raise StorageUnavailable(
                f"{self.path} has schema version {version}, newer than this evalsvc knows"
            )
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            await conn.execute("BEGIN IMMEDIATE")
            try:
                if await _user_version(conn) >= number:  # another process upgraded it meanwhile
                    await conn.execute("ROLLBACK")
                    continue
                for statement in filter(str.strip, migration.schema.split(";")):
                    await conn.execute(statement)
                if migration.data is not None:
                    await migration.data(conn, given)
                await conn.execute(f"PRAGMA user_version={number}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            log.info("database migrated to schema version %d", number)

    # -- the single writer -------------------------------------------------------------
    async def write(self, unit: Unit[T]) -> T:
        """Run `unit(conn)` in the writer's next batch; return after its COMMIT."""
        return await self._enqueue(unit=unit)

    async def _enqueue(self, **work: Any) -> Any:
        if self._task is None or self._task.done():
            raise StorageUnavailable("the database writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put_nowait(_Job(future, **work))
        # shield: a client that disconnects must not cancel a write already queued
        return await asyncio.shield(future)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._jobs.get()]
            self._busy = True
            while len(batch) < self.batch_max and not self._jobs.empty():
                batch.append(self._jobs.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                self._busy = False

    async def _commit_batch(self, batch: list[_Job]) -> None:
        conn = self._writer
        assert conn is not None
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            await conn.execute("BEGIN IMMEDIATE")
            submissions = [job for job in batch if job.submission is not None]
            if submissions:
                outcomes.extend(await _store_submissions(conn, submissions))
            for job in batch:
                if job.unit is not None:
                    outcomes.append(await _run_unit(conn, job))
            if self._ack_before_commit:
                # The negative control: a write-behind buffer that answers first
                # and flushes every 50 ms, the design the durability test rejects.
                _settle(outcomes)
                await asyncio.sleep(0.05)
            await conn.execute("COMMIT")
        except BaseException as exc:
            # Whatever went wrong, the whole batch is undone and every caller hears so;
            # the writer itself carries on with the next batch (unless cancelled).
            log.error("write batch of %d failed, nothing acknowledged: %r", len(batch), exc)
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            message = (
                _storage_message(exc)
                if isinstance(exc, sqlite3.Error)
                else "the database could not store this; nothing was stored, please retry"
            )
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(StorageUnavailable(message))
            if not isinstance(exc, Exception):
                raise  # cancellation and exits still end the writer
            return
        _settle(outcomes)

    # -- reads ---------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        try:
            conn = await asyncio.wait_for(self._readers.get(), timeout=READER_WAIT_SECONDS)
        except TimeoutError:
            raise StorageUnavailable("the database is busy; please retry") from None
        try:
            yield conn
        except sqlite3.Error as exc:
            raise StorageUnavailable(_storage_message(exc)) from exc
        finally:
            self._readers.put_nowait(conn)

    async def healthy(self) -> bool:
        if self._task is None or self._task.done():
            return False
        try:
            async with self._reader() as conn:
                await (await conn.execute("SELECT count(*) FROM submissions")).fetchone()
        except StorageUnavailable:
            return False
        return True

    # -- codes -------------------------------------------------------------------------
    async def add_codes(self, course: str, hashes: list[bytes], agency: str | None) -> None:
        created = utc_now()

        async def unit(conn: aiosqlite.Connection) -> None:
            await conn.executemany(
                "INSERT INTO codes (course, code_hash, agency, created_at) VALUES (?, ?, ?, ?)",
                [(course, code_hash, agency, created) for code_hash in hashes],
            )

        await self.write(unit)

    async def code_counts(self, course: str) -> list[CodeCount]:
        """How many codes were issued for the course, per bound agency (None: unbound)."""
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                "SELECT agency, count(*) FROM codes WHERE course = ? GROUP BY agency", (course,)
            )
        return [CodeCount(row[0], int(row[1])) for row in rows]

    async def code_lookup(self, course: str, code_hash: bytes) -> tuple[bool, str | None]:
        """(known, bound agency) of an issued code."""
        async with self._reader() as conn:
            cursor = await conn.execute(
                "SELECT agency FROM codes WHERE course = ? AND code_hash = ?", (course, code_hash)
            )
            row = await cursor.fetchone()
        return (row is not None, row[0] if row else None)

    async def store_submission(self, new: NewSubmission) -> StoredSubmission:
        """Store once; the same submission_id and body again returns the first receipt.

        Raises Unprocessable (submission_id reused for another body) or Conflict
        (this participant already submitted this phase).
        """
        return await self._enqueue(submission=new)

    async def submission_by_receipt(self, course: str, receipt: str) -> StoredSubmission | None:
        async with self._reader() as conn:
            cursor = await conn.execute(
                "SELECT submission_id, receipt, received_at, phase FROM submissions"
                " WHERE course = ? AND receipt = ?",
                (course, receipt),
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        return StoredSubmission(row[0], row[1], row[2], created=False, phase=row[3])

    async def count_submissions(self, course: str | None = None) -> int:
        sql, args = "SELECT count(*) FROM submissions", cast(tuple[str, ...], ())
        if course is not None:
            sql, args = sql + " WHERE course = ?", (course,)
        async with self._reader() as conn:
            row = await (await conn.execute(sql, args)).fetchone()
        return int(row[0]) if row else 0

    async def data_version(self, course: str) -> int:
        """A number that changes whenever a submission of the course is stored or rescored."""
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                "SELECT version FROM course_versions WHERE course = ?", (course,)
            )
        return int(next(iter(rows))[0]) if rows else 0

    async def score_rows(self, course: str) -> list[ScoreRow]:
        """Every submission's scores and summarised answers, with the participant's
        (first) agency; any order."""
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                "SELECT p.number, p.agency, s.phase, s.scores, s.breakdowns, s.summarised,"
                " s.scoring FROM submissions s"
                " JOIN participants p ON p.id = s.participant_id WHERE s.course = ?",
                (course,),
            )
        return list(map(ScoreRow._make, rows))

    async def scoring_counts(self, course: str) -> dict[str, int]:
        """How many of the course's submissions were scored under each set of rules."""
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                "SELECT scoring, count(*) FROM submissions WHERE course = ? GROUP BY scoring",
                (course,),
            )
        return {str(row[0]): int(row[1]) for row in rows}

    async def rewrite_submissions(
        self,
        course: str,
        transform: Callable[[StoredAnswers], Rewritten | None],
        *,
        dry_run: bool = False,
    ) -> int:
        """Recompute what is derived from each submission's answers, in one transaction.

        `transform` gets each stored submission's answers and derived columns and
        returns new ones, or None to keep them. The answers themselves never change.
        Returns how many submissions changed; the course's data version moves if any.
        With `dry_run`, nothing is written.
        """

        async def unit(conn: aiosqlite.Connection) -> int:
            return await _rewrite(conn, course, transform, dry_run=dry_run)

        return await self.write(unit)

    async def iter_responses(self, course: str, chunk: int = 1000) -> AsyncIterator[ResponseRow]:
        """Submissions in participant order, fetched in chunks to bound memory.

        On a connection of its own: a slow download must not hold one of the
        readers that code lookups (and so every submission) depend on.
        """
        try:
            conn = await _connect(self.path, readonly=True)
        except sqlite3.Error as exc:
            raise StorageUnavailable(_storage_message(exc)) from exc
        try:
            cursor = await conn.execute(
                "SELECT p.number, p.agency, s.agency, s.agency_mismatch, s.phase, s.lang,"
                " s.received_at, s.answers FROM submissions s"
                " JOIN participants p ON p.id = s.participant_id"
                " WHERE s.course = ? ORDER BY p.number, s.phase",
                (course,),
            )
            while rows := await cursor.fetchmany(chunk):
                for row in rows:
                    yield ResponseRow(*row)
        finally:
            await conn.close()

    # -- the secret key ------------------------------------------------------------------
    async def key_facts(self) -> KeyFacts:
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                "SELECT (SELECT value FROM meta WHERE name = ?),"
                " (SELECT count(*) FROM codes), (SELECT count(*) FROM tokens),"
                " (SELECT count(*) FROM participants)",
                (KEY_FINGERPRINT,),
            )
        fingerprint, codes, tokens, participants = next(iter(rows))
        return KeyFacts(fingerprint, codes, tokens, participants)

    async def set_key_fingerprint(self, fingerprint: bytes) -> None:
        async def unit(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (KEY_FINGERPRINT, fingerprint),
            )

        await self.write(unit)

    # -- tokens -------------------------------------------------------------------------
    async def add_token(
        self, name: str, role: str, token_hash: bytes, scope: Scope | None = None
    ) -> int:
        created = utc_now()
        scope_json = msgspec.json.encode(scope or Scope()).decode()

        async def unit(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(
                "INSERT INTO tokens (name, role, token_hash, created_at, scope)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, token_hash, created, scope_json),
            )
            return int(cursor.lastrowid or 0)

        return await self.write(unit)

    async def token_by_hash(self, token_hash: bytes) -> TokenRecord | None:
        async with self._reader() as conn:
            cursor = await conn.execute(
                f"SELECT {_READER_COLUMNS} FROM tokens t WHERE t.token_hash = ?", (token_hash,)
            )
            row = await cursor.fetchone()
        return _token(row) if row else None

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_READER_COLUMNS} FROM tokens t ORDER BY t.id"
            )
        return [_token(row) for row in rows]

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token and end its sessions at once."""
        revoked = utc_now()

        async def unit(conn: aiosqlite.Connection) -> bool:
            cursor = await conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (revoked, token_id),
            )
            await conn.execute("DELETE FROM sessions WHERE token_id = ?", (token_id,))
            return cursor.rowcount == 1

        return await self.write(unit)

    # -- login sessions -----------------------------------------------------------------
    async def add_session(
        self, id_hash: bytes, token_id: int, created_at: str, expires_at: str
    ) -> None:
        """Store a new session; sessions expired by `created_at` are removed meanwhile."""

        async def unit(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (created_at,))
            await conn.execute(
                "INSERT INTO sessions (id_hash, token_id, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (id_hash, token_id, created_at, expires_at),
            )

        await self.write(unit)

    async def token_by_session(self, id_hash: bytes, now: str) -> TokenRecord | None:
        """The token of a live session: not expired by `now`, its token not revoked."""
        async with self._reader() as conn:
            cursor = await conn.execute(
                f"SELECT {_READER_COLUMNS} FROM sessions s JOIN tokens t ON t.id = s.token_id"
                " WHERE s.id_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
                (id_hash, now),
            )
            row = await cursor.fetchone()
        return _token(row) if row else None

    async def end_session(self, id_hash: bytes) -> None:
        async def unit(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

        await self.write(unit)


_READER_COLUMNS = "t.id, t.name, t.role, t.created_at, t.revoked_at, t.scope"


def _token(row: Any) -> TokenRecord:
    try:
        scope = _decode_scope(row[5])
    except msgspec.DecodeError:
        # unreadable (e.g. written by a newer evalsvc): reach nothing rather than guess
        scope = Scope(courses=())
    return TokenRecord(row[0], row[1], row[2], row[3], row[4], scope)


async def _store_submissions(
    conn: aiosqlite.Connection, jobs: list[_Job]
) -> list[tuple[_Job, Any, BaseException | None]]:
    """Decide every submission of a batch from a few set-wise reads, then insert.

    Decisions run in batch order in Python, so two jobs of one batch see each
    other exactly as if they had been committed one after the other; the
    database is touched a constant number of times per batch, not per job.
    """
    news = [job.submission for job in jobs if job.submission is not None]
    ids = [new.submission_id for new in news]
    earlier: dict[str, tuple[bytes, str, str]] = {
        row[0]: (row[1], row[2], row[3])
        for row in await conn.execute_fetchall(
            "SELECT submission_id, body_hash, receipt, received_at FROM submissions"
            f" WHERE submission_id IN ({_marks(ids)})",
            ids,
        )
    }
    people: dict[tuple[str, bytes], tuple[int, str]] = {}
    for course in {new.course for new in news}:
        hashes = [new.code_hash for new in news if new.course == course]
        rows = await conn.execute_fetchall(
            "SELECT id, code_hash, agency FROM participants"
            f" WHERE course = ? AND code_hash IN ({_marks(hashes)})",
            [course, *hashes],
        )
        people.update({(course, row[1]): (row[0], row[2]) for row in rows})
    taken: set[tuple[int, str]] = set()
    known_ids = [pid for pid, _ in people.values()]
    if known_ids:
        rows = await conn.execute_fetchall(
            "SELECT participant_id, phase FROM submissions"
            f" WHERE participant_id IN ({_marks(known_ids)})",
            known_ids,
        )
        taken = {(row[0], row[1]) for row in rows}
    (next_id,) = next(
        iter(await conn.execute_fetchall("SELECT coalesce(max(id), 0) FROM participants"))
    )
    numbers: dict[str, int] = {}

    outcomes: list[tuple[_Job, Any, BaseException | None]] = []
    new_people: list[tuple] = []
    new_rows: list[tuple] = []
    for job in jobs:
        new = job.submission
        assert new is not None
        prior = earlier.get(new.submission_id)
        error: RequestError
        if prior is not None:
            if prior[0] != new.body_hash:
                error = Unprocessable(
                    "this submission_id was already used for different answers",
                    code="submission_id_reused",
                )
                outcomes.append((job, None, error))
            else:
                stored = StoredSubmission(new.submission_id, prior[1], prior[2], created=False)
                outcomes.append((job, stored, None))
            continue
        person = people.get((new.course, new.code_hash))
        if person is None:
            if new.course not in numbers:
                rows = await conn.execute_fetchall(
                    "SELECT coalesce(max(number), 0) FROM participants WHERE course = ?",
                    (new.course,),
                )
                numbers[new.course] = next(iter(rows))[0]
            next_id += 1
            numbers[new.course] += 1
            person = people[(new.course, new.code_hash)] = (next_id, new.agency)
            new_people.append((next_id, new.course, new.code_hash, new.agency, numbers[new.course]))
        participant_id, first_agency = person
        if (participant_id, new.phase) in taken:
            error = Conflict(
                f"this code has already been used for the {new.phase} questionnaire",
                code="already_submitted",
            )
            outcomes.append((job, None, error))
            continue
        taken.add((participant_id, new.phase))
        earlier[new.submission_id] = (new.body_hash, new.receipt, new.received_at)
        new_rows.append(
            (
                new.submission_id,
                new.body_hash,
                new.receipt,
                new.course,
                new.phase,
                participant_id,
                new.agency,
                int(first_agency != new.agency),
                new.lang,
                new.answers_json,
                new.scores_json,
                new.summarised_json,
                new.breakdowns_json,
                new.scoring,
                new.received_at,
            )
        )
        stored = StoredSubmission(new.submission_id, new.receipt, new.received_at, created=True)
        outcomes.append((job, stored, None))
    if new_people:
        await conn.executemany(
            "INSERT INTO participants (id, course, code_hash, agency, number)"
            " VALUES (?, ?, ?, ?, ?)",
            new_people,
        )
    if new_rows:
        await conn.executemany(
            "INSERT INTO submissions (submission_id, body_hash, receipt, course, phase,"
            " participant_id, agency, agency_mismatch, lang, answers, scores, summarised,"
            " breakdowns, scoring, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_rows,
        )
        await _bump_versions(conn, sorted({row[3] for row in new_rows}))
    return outcomes


async def _bump_versions(conn: aiosqlite.Connection, courses: Iterable[str]) -> None:
    """Move the data version of each course (in the writer's transaction)."""
    await conn.executemany(
        "INSERT INTO course_versions (course, version) VALUES (?, 1)"
        " ON CONFLICT (course) DO UPDATE SET version = version + 1",
        [(course,) for course in courses],
    )


async def _run_unit(
    conn: aiosqlite.Connection, job: _Job
) -> tuple[_Job, Any, BaseException | None]:
    """One generic unit inside its own savepoint: its refusal undoes it alone."""
    assert job.unit is not None
    await conn.execute("SAVEPOINT unit")
    try:
        result = await job.unit(conn)
    except (EvalsvcError, sqlite3.IntegrityError) as exc:
        await conn.execute("ROLLBACK TO unit")
        await conn.execute("RELEASE unit")
        if isinstance(exc, sqlite3.IntegrityError):
            exc = Conflict(f"this conflicts with stored data: {exc}", code="conflict")
        return job, None, exc
    await conn.execute("RELEASE unit")
    return job, result, None


async def _user_version(conn: aiosqlite.Connection) -> int:
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


def _marks(values: list) -> str:
    """As many ? placeholders as values; batch_max keeps them under SQLite's limit."""
    return ", ".join("?" * len(values))


def _settle(outcomes: list[tuple[_Job, Any, BaseException | None]]) -> None:
    for job, result, error in outcomes:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)


def _storage_message(exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorname", "")
    if code in ("SQLITE_FULL",) or "full" in str(exc):
        return "the database disk is full; nothing was stored, please retry later"
    if code.startswith("SQLITE_BUSY") or "locked" in str(exc):
        return "the database is busy; nothing was stored, please retry"
    return "the database cannot store data right now; nothing was stored, please retry"


def encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()
