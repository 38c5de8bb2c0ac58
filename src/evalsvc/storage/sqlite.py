"""SQLite storage: the embedded default, one file for a course on a laptop.

Writes go through one writer task that commits queued units of work in batches
(group commit, storage/group_commit.py: one fsync for many submissions). A
caller's future resolves only after COMMIT has returned, so nothing is
acknowledged that is not on disk. Submissions are decided set-wise for the whole
batch (`_store_submissions`), in one hand-off to a thread of their own that owns a
plain sqlite3 connection: BEGIN to COMMIT without returning to the busy event loop
between statements (through aiosqlite, each of the ten or so statements waited for
the loop in turn, and a batch took tens of milliseconds). Generic units of work
(codes, tokens, rescoring) go through the aiosqlite writer connection, each inside
a SAVEPOINT so that a refusal of one does not undo the others of its batch; the
writer task runs the two kinds one transaction after the other, never at once.
Reads use their own connections; with WAL they never wait for the writer.

Another process may write the same file (a CLI command while the server runs):
every write transaction starts with BEGIN IMMEDIATE, which takes SQLite's one
write lock before anything is read, so what a batch decides from its reads holds
until its COMMIT.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

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
from evalsvc.storage import migrations
from evalsvc.storage.group_commit import GroupCommit, Job, Outcome, fail, settle
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
    utc_now,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Unit = Callable[[aiosqlite.Connection], Awaitable[T]]

KEY_FINGERPRINT = "key_fingerprint"
_decode_scope = msgspec.json.Decoder(Scope).decode

READERS = 4
READER_WAIT_SECONDS = 10.0


def _connect_sync(path: Path) -> sqlite3.Connection:
    """The submission batches' connection (their thread only; see the module docstring)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


async def _connect(path: Path, *, readonly: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
    try:
        await _use_wal(conn)
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        if readonly:
            await conn.execute("PRAGMA query_only=ON")
    except BaseException:
        await conn.close()  # else its thread outlives us and the process cannot exit
        raise
    return conn


async def _use_wal(conn: aiosqlite.Connection, patience: float = 5.0) -> None:
    """WAL is a property of the file, set by its first opener. When two processes open
    a new file at once, both try, and SQLite answers one of them "database is locked"
    at once, without waiting out the busy timeout (waiting could deadlock): that one
    tries again until the other has switched the file."""
    deadline = time.monotonic() + patience
    while True:
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


class _Rows:
    """The data steps' view of the submissions, on the writer's open transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def submissions_of(self, course: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        migrations.check_columns(columns)
        rows = await self.conn.execute_fetchall(
            f"SELECT id, {', '.join(columns)} FROM submissions WHERE course = ? ORDER BY id",
            (course,),
        )
        return [tuple(row) for row in rows]

    async def update_submissions(
        self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        migrations.check_columns(columns)
        assignments = ", ".join(f"{column} = ?" for column in columns)
        await self.conn.executemany(
            f"UPDATE submissions SET {assignments} WHERE id = ?", list(rows)
        )

    async def bump_versions(self, courses: Iterable[str]) -> None:
        await _bump_versions(self.conn, courses)


class SQLiteStorage:
    """Storage in one SQLite file (see the module's docstring)."""

    def __init__(self, path: Path, *, batch_max: int = 256, ack_before_commit: bool = False):
        self.path = path
        self.location = str(path)
        self.batch_max = batch_max
        # Only for the durability test's negative control: acknowledges too early.
        self._ack_before_commit = ack_before_commit
        self._writer: aiosqlite.Connection | None = None
        self._batch_conn: sqlite3.Connection | None = None
        self._batch_thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self.group_commit = GroupCommit(self._commit_batch, batch_max=batch_max)

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
            self._batch_thread = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="evalsvc-sqlite-batch"
            )
            self._batch_conn = await asyncio.get_running_loop().run_in_executor(
                self._batch_thread, _connect_sync, self.path
            )
        except sqlite3.Error as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open database {self.path}: {exc}") from exc
        except BaseException:
            await self.close()
            raise
        self.group_commit.start()

    async def close(self, drain_seconds: float = 10.0) -> None:
        """Finish the queued writes (for up to `drain_seconds`), then close."""
        await self.group_commit.stop(drain_seconds)
        while not self._readers.empty():
            await self._readers.get_nowait().close()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._batch_thread is not None:
            if self._batch_conn is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._batch_thread, self._batch_conn.close
                )
                self._batch_conn = None
            self._batch_thread.shutdown(wait=True)
            self._batch_thread = None

    async def _migrate(self, conn: aiosqlite.Connection, given: MigrationInput) -> None:
        version = await _user_version(conn)
        if version > len(migrations.MIGRATIONS):
            raise StorageUnavailable(
                f"{self.path} has schema version {version}, newer than this evalsvc knows"
            )
        for number, migration in enumerate(migrations.MIGRATIONS[version:], start=version + 1):
            await conn.execute("BEGIN IMMEDIATE")
            try:
                # Reading a table makes SQLite reload its cached schema if another
                # process changed it meanwhile; the PRAGMA alone does not, and an ALTER
                # TABLE is checked against the cached schema ("no such column").
                await conn.execute("SELECT count(*) FROM sqlite_schema")
                if await _user_version(conn) >= number:  # another process upgraded it meanwhile
                    await conn.execute("ROLLBACK")
                    continue
                for statement in migrations.statements(migration.sqlite):
                    await conn.execute(statement)
                if migration.data is not None:
                    await migration.data(_Rows(conn), given)
                await conn.execute(f"PRAGMA user_version={number}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            log.info("database migrated to schema version %d", number)

    # -- the single writer -------------------------------------------------------------
    async def write(self, unit: Unit[T]) -> T:
        """Run `unit(conn)` in the writer's next batch; return after its COMMIT."""
        result: T = await self.group_commit.submit(unit=unit)
        return result

    async def _commit_batch(self, batch: list[Job]) -> None:
        submissions = [job for job in batch if job.submission is not None]
        units = [job for job in batch if job.unit is not None]
        if submissions:
            await self._commit_part(submissions, self._commit_submissions)
        if units:
            await self._commit_part(units, self._commit_units)

    async def _commit_part(
        self, jobs: list[Job], commit: Callable[[list[Job]], Awaitable[list[Outcome]]]
    ) -> None:
        """One transaction for `jobs`; each caller hears its outcome after COMMIT."""
        try:
            outcomes = await commit(jobs)
        except BaseException as exc:
            # Whatever went wrong, the whole transaction is undone and every caller hears
            # so; the writer itself carries on with the next batch (unless cancelled).
            log.error("write batch of %d failed, nothing acknowledged: %r", len(jobs), exc)
            fail(
                jobs,
                _storage_message(exc)
                if isinstance(exc, sqlite3.Error)
                else "the database could not store this; nothing was stored, please retry",
            )
            if not isinstance(exc, Exception):
                raise  # cancellation and exits still end the writer
            return
        settle(outcomes)

    async def _commit_submissions(self, jobs: list[Job]) -> list[Outcome]:
        """The submissions of a batch, BEGIN to COMMIT in one hand-off to their thread."""
        assert self._batch_thread is not None and self._batch_conn is not None
        loop = asyncio.get_running_loop()
        conn, early = self._batch_conn, self._ack_before_commit

        def transaction() -> list[Outcome]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes = _store_submissions(conn, jobs)
                if early:
                    # The negative control: a write-behind buffer that answers first
                    # and flushes every 50 ms, the design the durability test rejects.
                    loop.call_soon_threadsafe(settle, outcomes)
                    time.sleep(0.05)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            return outcomes

        work = loop.run_in_executor(self._batch_thread, transaction)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            # The transaction goes on in its thread: wait for its end, so that nobody
            # is told "not stored" about a submission that was committed.
            with contextlib.suppress(Exception):
                settle(await work)
            raise

    async def on_submissions_connection(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(conn)` on the submissions' connection, in its thread, between two of
        their transactions (connection settings such as PRAGMA max_page_count)."""
        assert self._batch_thread is not None and self._batch_conn is not None
        conn = self._batch_conn
        return await asyncio.get_running_loop().run_in_executor(
            self._batch_thread, lambda: work(conn)
        )

    async def _commit_units(self, jobs: list[Job]) -> list[Outcome]:
        conn = self._writer
        assert conn is not None
        outcomes: list[Outcome] = []
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for job in jobs:
                outcomes.append(await _run_unit(conn, job))
            if self._ack_before_commit:
                settle(outcomes)  # the negative control, as for submissions
                await asyncio.sleep(0.05)
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        return outcomes

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
        if not self.group_commit.running:
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

    async def merge_codes(self, codes: Sequence[IssuedCode]) -> int:
        """Add the codes not stored yet (a stored code keeps its agency); how many were new."""

        async def unit(conn: aiosqlite.Connection) -> int:
            before = conn.total_changes
            await conn.executemany(
                "INSERT INTO codes (course, code_hash, agency, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (course, code_hash) DO NOTHING",
                [(c.course, c.code_hash, c.agency, c.created_at) for c in codes],
            )
            return conn.total_changes - before

        return await self.write(unit)

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

    async def codes_to_share(self, courses: Sequence[str] | None = None) -> list[IssuedCode]:
        """The issued codes (of `courses`, else all), as a venue pushes them."""
        sql, args = "SELECT course, code_hash, agency, created_at FROM codes", list[str]()
        if courses is not None:
            sql, args = sql + f" WHERE course IN ({_marks(list(courses))})", list(courses)
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(sql + " ORDER BY course, created_at", args)
        return [
            IssuedCode(course=row[0], code_hash=row[1], agency=row[2], created_at=row[3])
            for row in rows
        ]

    # -- submissions ---------------------------------------------------------------------
    async def store_submission(self, new: NewSubmission) -> StoredSubmission:
        """Store once; the same submission_id and body again returns the first receipt.

        Raises Unprocessable (submission_id reused for another body) or Conflict
        (this participant already submitted this phase).
        """
        stored: StoredSubmission = await self.group_commit.submit(submission=new)
        return stored

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

    async def known_submissions(self, submission_ids: Sequence[str]) -> set[str]:
        """Which of these submission ids are stored."""
        known: set[str] = set()
        async with self._reader() as conn:
            for start in range(0, len(submission_ids), 500):
                part = list(submission_ids[start : start + 500])
                rows = await conn.execute_fetchall(
                    "SELECT submission_id FROM submissions"
                    f" WHERE submission_id IN ({_marks(part)})",
                    part,
                )
                known.update(row[0] for row in rows)
        return known

    async def stored_answers(self, course: str, code_hash: bytes, phase: str) -> str | None:
        """The answers (JSON) stored for this code's participant and phase, if any."""
        async with self._reader() as conn:
            cursor = await conn.execute(
                "SELECT s.answers FROM submissions s JOIN participants p"
                " ON p.id = s.participant_id"
                " WHERE p.course = ? AND p.code_hash = ? AND s.phase = ?",
                (course, code_hash, phase),
            )
            row = await cursor.fetchone()
        return str(row[0]) if row else None

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
            return await migrations.rewrite(_Rows(conn), course, transform, dry_run=dry_run)

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

    async def submissions_to_share(
        self, courses: Sequence[str] | None, after: int, limit: int
    ) -> list[SharedSubmission]:
        """Stored submissions in order of arrival, those after position `after`."""
        sql = (
            "SELECT s.id, s.submission_id, s.body_hash, s.receipt, s.course, s.phase,"
            " p.code_hash, s.agency, s.lang, s.answers, s.breakdowns, s.scoring,"
            " s.received_at FROM submissions s JOIN participants p ON p.id = s.participant_id"
            " WHERE s.id > ?"
        )
        args: list[Any] = [after]
        if courses is not None:
            sql += f" AND s.course IN ({_marks(list(courses))})"
            args += list(courses)
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(sql + " ORDER BY s.id LIMIT ?", [*args, limit])
        return [_shared(row) for row in rows]

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
                f"SELECT {_ACCESS_COLUMNS} FROM tokens t WHERE t.token_hash = ?", (token_hash,)
            )
            row = await cursor.fetchone()
        return token_record(row) if row else None

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._reader() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_ACCESS_COLUMNS} FROM tokens t ORDER BY t.id"
            )
        return [token_record(row) for row in rows]

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
                f"SELECT {_ACCESS_COLUMNS} FROM sessions s JOIN tokens t ON t.id = s.token_id"
                " WHERE s.id_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
                (id_hash, now),
            )
            row = await cursor.fetchone()
        return token_record(row) if row else None

    async def end_session(self, id_hash: bytes) -> None:
        async def unit(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

        await self.write(unit)


_ACCESS_COLUMNS = "t.id, t.name, t.role, t.created_at, t.revoked_at, t.scope"


def token_record(row: Sequence[Any]) -> TokenRecord:
    try:
        scope = _decode_scope(row[5])
    except msgspec.DecodeError:
        # unreadable (e.g. written by a newer evalsvc): reach nothing rather than guess
        scope = Scope(courses=())
    return TokenRecord(int(row[0]), row[1], row[2], row[3], row[4], scope)


def _shared(row: Sequence[Any]) -> SharedSubmission:
    return SharedSubmission(
        position=int(row[0]),
        submission_id=row[1],
        body_hash=bytes(row[2]),
        receipt=row[3],
        course=row[4],
        phase=row[5],
        code_hash=bytes(row[6]),
        agency=row[7],
        lang=row[8],
        answers_json=row[9],
        breakdowns_json=row[10],
        scoring=row[11],
        received_at=row[12],
    )


def _store_submissions(conn: sqlite3.Connection, jobs: list[Job]) -> list[Outcome]:
    """Decide every submission of a batch from a few set-wise reads, then insert.

    Decisions run in batch order in Python, so two jobs of one batch see each
    other exactly as if they had been committed one after the other; the
    database is touched a constant number of times per batch, not per job. This
    is sound because the batch holds SQLite's write lock (BEGIN IMMEDIATE) from
    its first read to its COMMIT: no other writer can change what was read.
    """
    news = [job.submission for job in jobs if job.submission is not None]
    ids = [new.submission_id for new in news]
    earlier: dict[str, tuple[bytes, str, str]] = {
        row[0]: (row[1], row[2], row[3])
        for row in conn.execute(
            "SELECT submission_id, body_hash, receipt, received_at FROM submissions"
            f" WHERE submission_id IN ({_marks(ids)})",
            ids,
        )
    }
    people = _participants(conn, [(new.course, new.code_hash) for new in news])
    taken: set[tuple[int, str]] = set()
    known_ids = [pid for pid, _ in people.values()]
    if known_ids:
        rows = conn.execute(
            "SELECT participant_id, phase FROM submissions"
            f" WHERE participant_id IN ({_marks(known_ids)})",
            known_ids,
        )
        taken = {(row[0], row[1]) for row in rows}

    # First pass: who is new, deciding in batch order as the second pass does (a job
    # whose submission_id is already taken creates nobody). Their ids come from
    # SQLite (the rowid), their numbers from the course's counter.
    fresh: dict[tuple[str, bytes], str] = {}
    seen = set(earlier)
    for new in news:
        if new.submission_id in seen:
            continue
        seen.add(new.submission_id)
        key = (new.course, new.code_hash)
        if key not in people and key not in fresh:
            fresh[key] = new.agency
    if fresh:
        _add_participants(conn, fresh)
        people.update(_participants(conn, fresh))

    outcomes: list[Outcome] = []
    new_rows: list[tuple[Any, ...]] = []
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
        participant_id, first_agency = people[(new.course, new.code_hash)]
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
    if new_rows:
        conn.executemany(
            "INSERT INTO submissions (submission_id, body_hash, receipt, course, phase,"
            " participant_id, agency, agency_mismatch, lang, answers, scores, summarised,"
            " breakdowns, scoring, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_rows,
        )
        conn.executemany(BUMP_VERSION, [(course,) for course in sorted({r[3] for r in new_rows})])
    return outcomes


def _participants(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, bytes]]
) -> dict[tuple[str, bytes], tuple[int, str]]:
    """(course, code hash) -> (participant id, first agency) of those stored."""
    wanted: dict[str, list[bytes]] = {}
    for course, code_hash in keys:
        wanted.setdefault(course, []).append(code_hash)
    people: dict[tuple[str, bytes], tuple[int, str]] = {}
    for course, hashes in wanted.items():
        rows = conn.execute(
            "SELECT id, code_hash, agency FROM participants"
            f" WHERE course = ? AND code_hash IN ({_marks(hashes)})",
            [course, *hashes],
        )
        people.update({(course, row[1]): (row[0], row[2]) for row in rows})
    return people


def _add_participants(conn: sqlite3.Connection, fresh: dict[tuple[str, bytes], str]) -> None:
    """Insert new participants (with their first agency) under their courses' next
    numbers: each course's counter moves by as many as it gains, in this transaction."""
    per_course: dict[str, int] = {}
    for course, _ in fresh:
        per_course[course] = per_course.get(course, 0) + 1
    last: dict[str, int] = {}
    for course, count in sorted(per_course.items()):
        rows = conn.execute(
            "INSERT INTO participant_numbers (course, last) VALUES (?, ?)"
            " ON CONFLICT (course) DO UPDATE SET last = last + excluded.last RETURNING last",
            (course, count),
        )
        last[course] = int(rows.fetchone()[0]) - count
    rows_to_insert = []
    for (course, code_hash), agency in fresh.items():
        last[course] += 1
        rows_to_insert.append((course, code_hash, agency, last[course]))
    conn.executemany(
        "INSERT INTO participants (course, code_hash, agency, number) VALUES (?, ?, ?, ?)",
        rows_to_insert,
    )


BUMP_VERSION = (
    "INSERT INTO course_versions (course, version) VALUES (?, 1)"
    " ON CONFLICT (course) DO UPDATE SET version = version + 1"
)


async def _bump_versions(conn: aiosqlite.Connection, courses: Iterable[str]) -> None:
    """Move the data version of each course (in the writer's transaction)."""
    await conn.executemany(BUMP_VERSION, [(course,) for course in courses])


async def _run_unit(conn: aiosqlite.Connection, job: Job) -> Outcome:
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


def _marks(values: list[Any]) -> str:
    """As many ? placeholders as values; batch_max keeps them under SQLite's limit."""
    return ", ".join("?" * len(values))


def _storage_message(exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorname", "")
    if code in ("SQLITE_FULL",) or "full" in str(exc):
        return "the database disk is full; nothing was stored, please retry later"
    if code.startswith("SQLITE_BUSY") or "locked" in str(exc):
        return "the database is busy; nothing was stored, please retry"
    return "the database cannot store data right now; nothing was stored, please retry"
