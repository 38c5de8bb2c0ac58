"""PostgreSQL storage: the server engine, for a programme's central server.

Any number of `evalsvc serve` instances may share one database. Nothing a
decision depends on lives in a process: duplicates, conflicts and idempotency are
decided by the database's constraints (unique keys, INSERT ... ON CONFLICT), never
by reading first and inserting after in Python; participant ids come from an
identity column and per-course numbers from a counter row that the inserting
statement moves and holds until its COMMIT.

Submissions are committed in groups (storage/group_commit.py): each of a few
writer tasks takes the queued submissions and stores them with one statement
(STORE_BATCH: participants, submissions and data versions together), which
commits on its own; they are acknowledged after that. Other writes (codes,
tokens, sessions) are rare and run in their own transactions.

When the server is unreachable, restarting or refusing connections, every
operation raises StorageUnavailable (503, Retry-After) and nothing is
acknowledged; the pool reconnects by itself once the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import asyncpg
import msgspec

from evalsvc.domain.access import Scope
from evalsvc.errors import Conflict, RequestError, StorageUnavailable, Unprocessable
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
from evalsvc.storage.sqlite import KEY_FINGERPRINT, token_record

log = logging.getLogger(__name__)

CONNECT_SECONDS = 5.0
"""How long to wait for a new connection before answering 503."""
ACQUIRE_SECONDS = 10.0
"""How long a request waits for a free pooled connection before answering 503."""
COMMAND_SECONDS = 60.0
"""The longest one statement may run (a hung server answers 503, not never)."""
RETRIES = 3
"""Attempts at a batch that PostgreSQL aborted to break a deadlock between writers."""
MIGRATION_LOCK = 0x6576_616C_7376_63
"""pg_advisory_xact_lock key: instances starting together migrate one at a time."""

UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What asyncpg raises when the database cannot serve: a refused or lost connection,
a server shutting down or starting, a full disk, a timeout, a statement that failed."""


def redacted(url: str) -> str:
    """The address without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}{host}"))


def _message(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.DiskFullError):
        return "the database disk is full; nothing was stored, please retry later"
    if isinstance(exc, asyncpg.TooManyConnectionsError | TimeoutError):
        return "the database is busy; nothing was stored, please retry"
    if isinstance(
        exc,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError,
    ):
        # The connection may have gone during COMMIT: then it may be stored after all.
        # A retry (with the same submission_id) tells, and never stores anything twice.
        return "the database server cannot be reached; please retry"
    return "the database cannot store data right now; nothing was stored, please retry"


def _count(status: str) -> int:
    """The row count of a command status such as 'INSERT 0 3' or 'UPDATE 1'."""
    return int(status.rsplit(" ", 1)[-1])


class _Rows:
    """The data steps' view of the submissions, on the migrating transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def submissions_of(self, course: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        migrations.check_columns(columns)
        rows = await self.conn.fetch(
            f"SELECT id, {', '.join(columns)} FROM submissions WHERE course = $1 ORDER BY id",
            course,
        )
        return [tuple(row) for row in rows]

    async def update_submissions(
        self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        migrations.check_columns(columns)
        if not rows:
            return
        assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, 1))
        await self.conn.executemany(
            f"UPDATE submissions SET {assignments} WHERE id = ${len(columns) + 1}", rows
        )

    async def bump_versions(self, courses: Iterable[str]) -> None:
        await _bump_versions(self.conn, courses)


class PostgresStorage:
    """Storage in a PostgreSQL database (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        *,
        batch_max: int = 256,
        pool_size: int = 10,
        writers: int = 2,
        ack_before_commit: bool = False,
    ) -> None:
        self.url = url
        self.location = redacted(url)
        self.pool_size = pool_size
        # Only for the durability test's negative control: acknowledges too early.
        self._ack_before_commit = ack_before_commit
        self._pool: asyncpg.Pool | None = None
        self.group_commit = GroupCommit(
            self._commit_batch, batch_max=batch_max, writers=writers, name="evalsvc-pg-writer"
        )

    # -- lifecycle -----------------------------------------------------------------
    async def open(self, migration_input: MigrationInput | None = None) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                timeout=CONNECT_SECONDS,
                command_timeout=COMMAND_SECONDS,
            )
            async with self._pool.acquire(timeout=ACQUIRE_SECONDS) as conn:
                await self._migrate(conn, migration_input or MigrationInput())
        except UNAVAILABLE as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open database {self.location}: {exc}") from exc
        except BaseException:
            await self.close()
            raise
        self.group_commit.start()

    async def close(self, drain_seconds: float = 10.0) -> None:
        await self.group_commit.stop(drain_seconds)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=drain_seconds)
            except (TimeoutError, *UNAVAILABLE):
                pool.terminate()

    async def _migrate(self, conn: asyncpg.Connection, given: MigrationInput) -> None:
        """Each version in its own transaction, under an advisory lock, after
        reading the version again: several instances may start at once."""
        total = len(migrations.MIGRATIONS)
        while True:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (version integer PRIMARY KEY, applied_at text NOT NULL)"
                )
                version = int(
                    await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
                )
                if version > total:
                    raise StorageUnavailable(
                        f"{self.location} has schema version {version},"
                        " newer than this evalsvc knows"
                    )
                if version == total:
                    return
                migration = migrations.MIGRATIONS[version]
                for statement in migrations.statements(migration.postgresql):
                    await conn.execute(statement)
                if migration.data is not None:
                    await migration.data(_Rows(conn), given)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    version + 1,
                    utc_now(),
                )
            log.info("database migrated to schema version %d", version + 1)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; the database's failures become StorageUnavailable."""
        if self._pool is None:
            raise StorageUnavailable("the database is not open")
        try:
            async with self._pool.acquire(timeout=ACQUIRE_SECONDS) as conn:
                yield conn
        except UNAVAILABLE as exc:
            raise StorageUnavailable(_message(exc)) from exc

    async def healthy(self) -> bool:
        if not self.group_commit.running:
            return False
        try:
            async with self._connection() as conn:
                await conn.fetchval("SELECT 1", timeout=CONNECT_SECONDS)
        except StorageUnavailable:
            return False
        return True

    # -- group commit of submissions ---------------------------------------------------
    async def _commit_batch(self, batch: list[Job]) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                outcomes = await self._commit_once(batch)
            except asyncpg.TransactionRollbackError as exc:
                # a deadlock or serialization failure between writers: nothing of
                # the batch was stored, so trying it again is safe
                if attempt < RETRIES:
                    log.info("write batch of %d retried after %r", len(batch), exc)
                    continue
                fail(batch, _message(exc))
                return
            except BaseException as exc:
                log.error("write batch of %d failed, nothing acknowledged: %r", len(batch), exc)
                fail(
                    batch,
                    _message(exc)
                    if isinstance(exc, UNAVAILABLE)
                    else "the database could not store this; nothing was stored, please retry",
                )
                if not isinstance(exc, Exception):
                    raise  # cancellation and exits still end the writer
                return
            settle(outcomes)
            return

    async def _commit_once(self, batch: list[Job]) -> list[Outcome]:
        if self._pool is None:
            raise StorageUnavailable("the database is not open")
        async with self._pool.acquire(timeout=ACQUIRE_SECONDS) as conn:
            if not self._ack_before_commit:
                # each statement commits on its own: its answer comes after its COMMIT
                return await _store_submissions(conn, batch)
            async with conn.transaction():
                outcomes = await _store_submissions(conn, batch)
                # The negative control: a write-behind buffer that answers first
                # and flushes every 50 ms, the design the durability test rejects.
                settle(outcomes)
                await asyncio.sleep(0.05)
            return outcomes

    # -- codes -------------------------------------------------------------------------
    async def add_codes(self, course: str, hashes: list[bytes], agency: str | None) -> None:
        created = utc_now()
        async with self._connection() as conn:
            try:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO codes (course, code_hash, agency, created_at)"
                        " SELECT $1, h, $3, $4 FROM unnest($2::bytea[]) AS h",
                        course,
                        hashes,
                        agency,
                        created,
                    )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"this conflicts with stored data: {exc}", code="conflict") from exc

    async def merge_codes(self, codes: Sequence[IssuedCode]) -> int:
        async with self._connection() as conn:
            status = await conn.execute(
                "INSERT INTO codes (course, code_hash, agency, created_at)"
                " SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[])"
                " ON CONFLICT (course, code_hash) DO NOTHING",
                [c.course for c in codes],
                [c.code_hash for c in codes],
                [c.agency for c in codes],
                [c.created_at for c in codes],
            )
        return _count(status)

    async def code_lookup(self, course: str, code_hash: bytes) -> tuple[bool, str | None]:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT agency FROM codes WHERE course = $1 AND code_hash = $2", course, code_hash
            )
        return (row is not None, row["agency"] if row else None)

    async def code_counts(self, course: str) -> list[CodeCount]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT agency, count(*) FROM codes WHERE course = $1 GROUP BY agency", course
            )
        return [CodeCount(row[0], int(row[1])) for row in rows]

    async def codes_to_share(self, courses: Sequence[str] | None = None) -> list[IssuedCode]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT course, code_hash, agency, created_at FROM codes"
                " WHERE $1::text[] IS NULL OR course = ANY($1::text[])"
                " ORDER BY course, created_at",
                None if courses is None else list(courses),
            )
        return [
            IssuedCode(course=r[0], code_hash=bytes(r[1]), agency=r[2], created_at=r[3])
            for r in rows
        ]

    # -- submissions ---------------------------------------------------------------------
    async def store_submission(self, new: NewSubmission) -> StoredSubmission:
        stored: StoredSubmission = await self.group_commit.submit(submission=new)
        return stored

    async def submission_by_receipt(self, course: str, receipt: str) -> StoredSubmission | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT submission_id, receipt, received_at, phase FROM submissions"
                " WHERE course = $1 AND receipt = $2",
                course,
                receipt,
            )
        if row is None:
            return None
        return StoredSubmission(row[0], row[1], row[2], created=False, phase=row[3])

    async def known_submissions(self, submission_ids: Sequence[str]) -> set[str]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT submission_id FROM submissions WHERE submission_id = ANY($1::text[])",
                list(submission_ids),
            )
        return {row[0] for row in rows}

    async def stored_answers(self, course: str, code_hash: bytes, phase: str) -> str | None:
        async with self._connection() as conn:
            value = await conn.fetchval(
                "SELECT s.answers FROM submissions s JOIN participants p"
                " ON p.id = s.participant_id"
                " WHERE p.course = $1 AND p.code_hash = $2 AND s.phase = $3",
                course,
                code_hash,
                phase,
            )
        return None if value is None else str(value)

    async def count_submissions(self, course: str | None = None) -> int:
        async with self._connection() as conn:
            value = await conn.fetchval(
                "SELECT count(*) FROM submissions WHERE $1::text IS NULL OR course = $1", course
            )
        return int(value)

    async def submissions_to_share(
        self, courses: Sequence[str] | None, after: int, limit: int
    ) -> list[SharedSubmission]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT s.id, s.submission_id, s.body_hash, s.receipt, s.course, s.phase,"
                " p.code_hash, s.agency, s.lang, s.answers, s.breakdowns, s.scoring,"
                " s.received_at FROM submissions s JOIN participants p ON p.id = s.participant_id"
                " WHERE s.id > $1 AND ($2::text[] IS NULL OR s.course = ANY($2::text[]))"
                " ORDER BY s.id LIMIT $3",
                after,
                None if courses is None else list(courses),
                limit,
            )
        return [
            SharedSubmission(
                position=int(r[0]),
                submission_id=r[1],
                body_hash=bytes(r[2]),
                receipt=r[3],
                course=r[4],
                phase=r[5],
                code_hash=bytes(r[6]),
                agency=r[7],
                lang=r[8],
                answers_json=r[9],
                breakdowns_json=r[10],
                scoring=r[11],
                received_at=r[12],
            )
            for r in rows
        ]

    # -- what reports read ----------------------------------------------------------------
    async def data_version(self, course: str) -> int:
        async with self._connection() as conn:
            value = await conn.fetchval(
                "SELECT version FROM course_versions WHERE course = $1", course
            )
        return int(value or 0)

    async def score_rows(self, course: str) -> list[ScoreRow]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT p.number, p.agency, s.phase, s.scores, s.breakdowns, s.summarised,"
                " s.scoring FROM submissions s"
                " JOIN participants p ON p.id = s.participant_id WHERE s.course = $1",
                course,
            )
        return [ScoreRow(*row) for row in rows]

    async def scoring_counts(self, course: str) -> dict[str, int]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT scoring, count(*) FROM submissions WHERE course = $1 GROUP BY scoring",
                course,
            )
        return {str(row[0]): int(row[1]) for row in rows}

    async def iter_responses(self, course: str, chunk: int = 1000) -> AsyncIterator[ResponseRow]:
        """On a connection of its own, outside the pool: a slow download must not hold
        a connection that code lookups (and so every submission) depend on."""
        try:
            conn = await asyncpg.connect(
                self.url, timeout=CONNECT_SECONDS, command_timeout=COMMAND_SECONDS
            )
        except UNAVAILABLE as exc:
            raise StorageUnavailable(_message(exc)) from exc
        try:
            async with conn.transaction(readonly=True):
                async for row in conn.cursor(
                    "SELECT p.number, p.agency, s.agency, s.agency_mismatch, s.phase, s.lang,"
                    " s.received_at, s.answers FROM submissions s"
                    " JOIN participants p ON p.id = s.participant_id"
                    " WHERE s.course = $1 ORDER BY p.number, s.phase",
                    course,
                    prefetch=chunk,
                ):
                    yield ResponseRow(*row)
        except UNAVAILABLE as exc:
            raise StorageUnavailable(_message(exc)) from exc
        finally:
            await conn.close()

    async def rewrite_submissions(
        self,
        course: str,
        transform: Callable[[StoredAnswers], Rewritten | None],
        *,
        dry_run: bool = False,
    ) -> int:
        async with self._connection() as conn, conn.transaction():
            return await migrations.rewrite(_Rows(conn), course, transform, dry_run=dry_run)

    # -- the secret key ------------------------------------------------------------------
    async def key_facts(self) -> KeyFacts:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT value FROM meta WHERE name = $1),"
                " (SELECT count(*) FROM codes), (SELECT count(*) FROM tokens),"
                " (SELECT count(*) FROM participants)",
                KEY_FINGERPRINT,
            )
        assert row is not None
        fingerprint = None if row[0] is None else bytes(row[0])
        return KeyFacts(fingerprint, int(row[1]), int(row[2]), int(row[3]))

    async def set_key_fingerprint(self, fingerprint: bytes) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO meta (name, value) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                KEY_FINGERPRINT,
                fingerprint,
            )

    # -- tokens -------------------------------------------------------------------------
    async def add_token(
        self, name: str, role: str, token_hash: bytes, scope: Scope | None = None
    ) -> int:
        scope_json = msgspec.json.encode(scope or Scope()).decode()
        async with self._connection() as conn:
            try:
                value = await conn.fetchval(
                    "INSERT INTO tokens (name, role, token_hash, created_at, scope)"
                    " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    name,
                    role,
                    token_hash,
                    utc_now(),
                    scope_json,
                )
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise Conflict(f"this conflicts with stored data: {exc}", code="conflict") from exc
        return int(value)

    async def token_by_hash(self, token_hash: bytes) -> TokenRecord | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_ACCESS_COLUMNS} FROM tokens t WHERE t.token_hash = $1", token_hash
            )
        return token_record(row) if row else None

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._connection() as conn:
            rows = await conn.fetch(f"SELECT {_ACCESS_COLUMNS} FROM tokens t ORDER BY t.id")
        return [token_record(row) for row in rows]

    async def revoke_token(self, token_id: int) -> bool:
        async with self._connection() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                utc_now(),
                token_id,
            )
            await conn.execute("DELETE FROM sessions WHERE token_id = $1", token_id)
        return _count(status) == 1

    # -- login sessions -----------------------------------------------------------------
    async def add_session(
        self, id_hash: bytes, token_id: int, created_at: str, expires_at: str
    ) -> None:
        async with self._connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM sessions WHERE expires_at <= $1", created_at)
            await conn.execute(
                "INSERT INTO sessions (id_hash, token_id, created_at, expires_at)"
                " VALUES ($1, $2, $3, $4)",
                id_hash,
                token_id,
                created_at,
                expires_at,
            )

    async def token_by_session(self, id_hash: bytes, now: str) -> TokenRecord | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_ACCESS_COLUMNS} FROM sessions s JOIN tokens t ON t.id = s.token_id"
                " WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
                id_hash,
                now,
            )
        return token_record(row) if row else None

    async def end_session(self, id_hash: bytes) -> None:
        async with self._connection() as conn:
            await conn.execute("DELETE FROM sessions WHERE id_hash = $1", id_hash)


_ACCESS_COLUMNS = "t.id, t.name, t.role, t.created_at, t.revoked_at, t.scope"


STORE_BATCH = """
WITH
wanted AS (  -- the batch's participants: each code once, with its first agency
    SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[])
        WITH ORDINALITY AS w(course, code_hash, agency, ord)
),
known AS (
    SELECT p.id, p.course, p.code_hash, p.agency
    FROM participants p JOIN wanted w ON p.course = w.course AND p.code_hash = w.code_hash
),
submitted AS (  -- each new submission id's first job: a reused id makes nobody
    SELECT DISTINCT ON (s.submission_id) s.course, s.code_hash
    FROM unnest($4::text[], $7::text[], $9::bytea[])
        WITH ORDINALITY AS s(submission_id, course, code_hash, ord)
    WHERE NOT EXISTS (SELECT 1 FROM submissions x WHERE x.submission_id = s.submission_id)
    ORDER BY s.submission_id, s.ord
),
fresh AS (
    SELECT w.* FROM wanted w
    WHERE NOT EXISTS (
        SELECT 1 FROM known k WHERE k.course = w.course AND k.code_hash = w.code_hash)
      AND EXISTS (
        SELECT 1 FROM submitted t WHERE t.course = w.course AND t.code_hash = w.code_hash)
),
counts AS (SELECT course, count(*)::integer AS n FROM fresh GROUP BY course),
moved AS (  -- each course's counter moves by as many as it gains; locked until COMMIT
    INSERT INTO participant_numbers AS c (course, last)
    SELECT course, n FROM counts ORDER BY course
    ON CONFLICT (course) DO UPDATE SET last = c.last + excluded.last
    RETURNING course, last
),
added AS (
    INSERT INTO participants (course, code_hash, agency, number)
    SELECT f.course, f.code_hash, f.agency,
           m.last - n.n + row_number() OVER (PARTITION BY f.course ORDER BY f.ord)
    FROM fresh f JOIN moved m ON m.course = f.course JOIN counts n ON n.course = f.course
    ORDER BY f.ord
    ON CONFLICT (course, code_hash) DO NOTHING
    RETURNING id, course, code_hash, agency
),
people AS (SELECT * FROM known UNION ALL SELECT * FROM added),
stored AS (  -- in batch order: of two jobs with one key, the first is stored
    INSERT INTO submissions (submission_id, body_hash, receipt, course, phase,
        participant_id, agency, agency_mismatch, lang, answers, scores, summarised,
        breakdowns, scoring, received_at)
    SELECT s.submission_id, s.body_hash, s.receipt, s.course, s.phase,
           p.id, s.agency, (p.agency <> s.agency)::integer, s.lang, s.answers, s.scores,
           s.summarised, s.breakdowns, s.scoring, s.received_at
    FROM unnest($4::text[], $5::bytea[], $6::text[], $7::text[], $8::text[], $9::bytea[],
                $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                $16::text[], $17::text[])
        WITH ORDINALITY AS s(submission_id, body_hash, receipt, course, phase, code_hash,
                             agency, lang, answers, scores, summarised, breakdowns, scoring,
                             received_at, ord)
    JOIN people p ON p.course = s.course AND p.code_hash = s.code_hash
    ORDER BY s.ord
    ON CONFLICT DO NOTHING
    RETURNING submission_id, receipt, course
),
bumped AS (  -- the data version of each course that gained a submission
    INSERT INTO course_versions AS v (course, version)
    SELECT DISTINCT course, 1 FROM stored ORDER BY course
    ON CONFLICT (course) DO UPDATE SET version = v.version + 1
)
SELECT submission_id, receipt FROM stored
"""
"""One statement, one round trip, for a whole batch: the participants it needs (new
ones numbered from their course's counter), its submissions, and the data versions.
The constraints decide: ON CONFLICT DO NOTHING against the unique keys
(submission_id; participant and phase), in batch order."""


def _arguments(news: list[NewSubmission]) -> list[list[Any]]:
    """STORE_BATCH's arrays: the distinct participants, then one array per column."""
    wanted: dict[tuple[str, bytes], str] = {}
    for new in news:
        wanted.setdefault((new.course, new.code_hash), new.agency)
    return [
        [course for course, _ in wanted],
        [code_hash for _, code_hash in wanted],
        list(wanted.values()),
        [new.submission_id for new in news],
        [new.body_hash for new in news],
        [new.receipt for new in news],
        [new.course for new in news],
        [new.phase for new in news],
        [new.code_hash for new in news],
        [new.agency for new in news],
        [new.lang for new in news],
        [new.answers_json for new in news],
        [new.scores_json for new in news],
        [new.summarised_json for new in news],
        [new.breakdowns_json for new in news],
        [new.scoring for new in news],
        [new.received_at for new in news],
    ]


async def _store_submissions(conn: asyncpg.Connection, jobs: list[Job]) -> list[Outcome]:
    """Store a batch with STORE_BATCH, then explain, after the fact, why a job was not
    stored: its submission_id is stored (a retry: 200; other answers: 422), else its
    phase was answered (409). A job whose participant another writer added while the
    statement ran (its snapshot could not see them) is tried once more, in a new
    statement; that race costs at most a gap in the participant numbers.
    """
    outcomes: dict[int, Outcome] = {}
    pending = list(range(len(jobs)))
    for attempt in range(2):
        news: list[NewSubmission] = [jobs[i].submission for i in pending]
        created = {row[0]: row[1] for row in await conn.fetch(STORE_BATCH, *_arguments(news))}
        refused = [
            new.submission_id for new in news if created.get(new.submission_id) != new.receipt
        ]
        stored = await _by_submission_id(conn, refused) if refused else {}
        unexplained = []
        claimed: set[str] = set()
        for index, new in zip(pending, news, strict=True):
            job, sid = jobs[index], new.submission_id
            error: RequestError
            if created.get(sid) == new.receipt and sid not in claimed:
                claimed.add(sid)
                outcomes[index] = (
                    job,
                    StoredSubmission(sid, new.receipt, new.received_at, True),
                    None,
                )
            elif sid in stored:  # read after the statement: whoever stored it, it is there
                body_hash, receipt, received_at = stored[sid]
                if body_hash != new.body_hash:
                    error = Unprocessable(
                        "this submission_id was already used for different answers",
                        code="submission_id_reused",
                    )
                    outcomes[index] = (job, None, error)
                else:
                    again = StoredSubmission(sid, receipt, received_at, created=False)
                    outcomes[index] = (job, again, None)
            elif attempt == 0:
                unexplained.append(index)
            else:
                error = Conflict(
                    f"this code has already been used for the {new.phase} questionnaire",
                    code="already_submitted",
                )
                outcomes[index] = (job, None, error)
        pending = unexplained
        if not pending:
            break
    return [outcomes[index] for index in range(len(jobs))]


async def _by_submission_id(
    conn: asyncpg.Connection, submission_ids: list[str]
) -> dict[str, tuple[bytes, str, str]]:
    rows = await conn.fetch(
        "SELECT submission_id, body_hash, receipt, received_at FROM submissions"
        " WHERE submission_id = ANY($1::text[])",
        submission_ids,
    )
    return {row[0]: (bytes(row[1]), row[2], row[3]) for row in rows}


async def _bump_versions(conn: asyncpg.Connection, courses: Iterable[str]) -> None:
    """Move the data version of each course (rescoring and data migrations; a batch of
    submissions moves it within STORE_BATCH)."""
    await conn.execute(
        "INSERT INTO course_versions (course, version) SELECT c, 1 FROM unnest($1::text[]) AS c"
        " ON CONFLICT (course) DO UPDATE SET version = course_versions.version + 1",
        list(courses),
    )
