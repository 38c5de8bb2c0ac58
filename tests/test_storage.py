"""Storage: migrations, group commit, several writers, and faults that must become a 503.

The tests of the port run on SQLite and on PostgreSQL (`backends`); those about
SQLite itself (its file, PRAGMAs, locks, full disk, old schemas) on SQLite alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app, load_courses
from evalsvc.errors import Conflict, StorageUnavailable, Unprocessable
from evalsvc.storage import open_storage
from evalsvc.storage.migrations import MIGRATIONS
from evalsvc.storage.records import NewSubmission
from evalsvc.storage.sqlite import SQLiteStorage
from tests.conftest import run_cli, through_port

pytestmark = pytest.mark.anyio
RESPONSES = "/api/v1/courses/tiny/responses"


def submission(code: str) -> dict:
    return {
        "submission_id": str(uuid.uuid4()),
        "phase": "pre",
        "code": code,
        "answers": {"sa_detect": 2, "k1": "a", "k4": "a", "k3": ["b"]},
    }


def stored_submission(code_hash: bytes, phase: str = "pre", submission_id: str = "",
                      body: bytes = b"body", course: str = "tiny") -> NewSubmission:  # fmt: skip
    """A submission as intake hands it to storage (the answers do not matter here)."""
    return NewSubmission(
        submission_id=submission_id or str(uuid.uuid4()),
        body_hash=body,
        receipt=uuid.uuid4().hex[:14].upper(),
        course=course,
        phase=phase,
        code_hash=code_hash,
        agency="border",
        lang="en",
        answers_json="{}",
        scores_json="{}",
        summarised_json="{}",
        breakdowns_json="{}",
        scoring="",
        received_at="2024-03-12T09:00:00.000Z",
    )


async def opened(settings):
    return await open_storage(settings, load_courses(settings))


@pytest.mark.backends
async def test_migrations_run_once_even_when_two_instances_start_together(settings) -> None:
    first, second = await asyncio.gather(opened(settings), opened(settings))
    await asyncio.gather(first.close(), second.close())
    again = await opened(settings)
    try:
        assert await again.healthy()
        assert await again.count_submissions() == 0
    finally:
        await again.close()


async def test_openers_of_a_new_sqlite_file_at_once_all_open_it(settings, tmp_path) -> None:
    """A race, so many rounds: three openers of a new file switch it to WAL and migrate
    it together (one is told "database is locked" at once, one may hold a stale schema)."""
    for round_number in range(25):
        fresh = msgspec.structs.replace(settings, db_path=tmp_path / f"{round_number}.sqlite3")
        opened_all = await asyncio.gather(*(opened(fresh) for _ in range(3)))
        await asyncio.gather(*(db.close() for db in opened_all))


@pytest.mark.backends
async def test_concurrent_submissions_share_commits(settings) -> None:
    db = await opened(settings)
    try:
        group = db.group_commit  # both backends have one; the port does not say
        jobs, batches = group.jobs, group.batches  # opening may have written (the key)
        stored = await asyncio.gather(
            *(db.store_submission(stored_submission(uuid.uuid4().bytes)) for _ in range(200))
        )
        assert all(s.created for s in stored) and group.jobs - jobs == 200
        batches = group.batches - batches
        assert batches < 200 / 4, f"expected group commit: {batches} batches"
        assert group.largest_batch <= settings.batch_max
    finally:
        await db.close()


@pytest.mark.backends
async def test_the_constraints_decide_retries_reuse_and_second_answers(settings) -> None:
    """Within one batch and across batches, as if committed one after the other."""
    db = await opened(settings)
    try:
        person, other = b"p" * 32, b"o" * 32
        first = stored_submission(person, submission_id=str(uuid.uuid4()))
        same_again = stored_submission(person, submission_id=first.submission_id)
        reused = stored_submission(other, submission_id=first.submission_id, body=b"other")
        second_pre = stored_submission(person)
        outcomes = await asyncio.gather(
            *(db.store_submission(new) for new in (first, same_again, reused, second_pre)),
            return_exceptions=True,
        )
        assert outcomes[0].created and outcomes[0].receipt == first.receipt
        assert not outcomes[1].created and outcomes[1].receipt == first.receipt
        assert isinstance(outcomes[2], Unprocessable) and outcomes[2].code == "submission_id_reused"
        assert isinstance(outcomes[3], Conflict) and outcomes[3].code == "already_submitted"
        later = await db.store_submission(
            stored_submission(person, submission_id=first.submission_id)
        )
        assert not later.created and later.receipt == first.receipt
        assert (await db.store_submission(stored_submission(person, "post"))).created
        assert await db.count_submissions("tiny") == 2
        # the refused code made nobody: the next new person is number 2
        assert (await db.store_submission(stored_submission(b"t" * 32))).created
        assert {row.participant for row in await db.score_rows("tiny")} == {1, 2}
    finally:
        await db.close()


@pytest.mark.backends
async def test_several_writers_at_once_store_each_submission_once_and_number_without_gaps(
    settings,
) -> None:
    """Three storages on one database (three instances, or a CLI command beside the
    server) store overlapping submissions at once: each is stored once, every retry
    elsewhere is answered with the first receipt, and no two participants share a
    number (no max(number) + 1 anywhere). On PostgreSQL a number may be skipped when
    two writers add the same participant at the same moment; one writer skips none."""
    writers = [await opened(settings) for _ in range(3)]
    try:
        people = [uuid.uuid4().bytes for _ in range(90)]
        news = [stored_submission(code_hash) for code_hash in people]
        results = await asyncio.gather(
            *(
                writers[(index + turn) % 3].store_submission(new)
                for turn in range(3)  # each submission sent to all three writers
                for index, new in enumerate(news)
            ),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, BaseException)]
        assert sum(r.created for r in results) == 90
        receipts = {new.submission_id: new.receipt for new in news}
        assert all(r.receipt == receipts[r.submission_id] for r in results)
        numbers = [row.participant for row in await writers[0].score_rows("tiny")]
        assert len(numbers) == len(set(numbers)) == 90 and min(numbers) >= 1
        # one writer alone numbers the next participants without a gap
        more = [stored_submission(uuid.uuid4().bytes) for _ in range(5)]
        await asyncio.gather(*(writers[0].store_submission(new) for new in more))
        latest = sorted(row.participant for row in await writers[0].score_rows("tiny"))[-5:]
        assert latest == list(range(latest[0], latest[0] + 5)) and latest[0] > max(numbers)
    finally:
        await asyncio.gather(*(writer.close() for writer in writers))


@pytest.mark.backends
async def test_a_fresh_database_has_no_data_version_and_a_submission_moves_it(settings) -> None:
    db = await opened(settings)
    try:
        assert await db.data_version("tiny") == 0
        await db.store_submission(stored_submission(b"x" * 32))
        one = await db.data_version("tiny")
        await db.store_submission(stored_submission(b"y" * 32))
        assert 0 < one < await db.data_version("tiny")
        assert await db.data_version("waves") == 0
    finally:
        await db.close()


async def test_sqlite_migrations_run_once_and_set_wal(tmp_path) -> None:
    path = tmp_path / "db.sqlite3"
    for _ in range(2):
        db = SQLiteStorage(path)
        await db.open()
        await db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StorageUnavailable, match="newer than this evalsvc knows"):
        await SQLiteStorage(path).open()


async def test_full_disk_is_503_nothing_acknowledged_is_lost_and_it_recovers(
    settings, issue
) -> None:
    codes = issue(count=60, agency="border")
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        db: SQLiteStorage = app.state.database

        async def cap_pages(conn) -> None:
            (pages,) = await (await conn.execute("PRAGMA page_count")).fetchone()
            await conn.execute(f"PRAGMA max_page_count = {pages}")

        def in_app_loop(unit) -> None:
            # the test client runs the app in its own thread and event loop
            client.blocking_portal.call(db.write, unit)

        def cap_submission_pages(conn: sqlite3.Connection) -> None:
            (pages,) = conn.execute("PRAGMA page_count").fetchone()
            conn.execute(f"PRAGMA max_page_count = {pages}")

        def in_app_loop_on_submissions(work) -> None:
            client.blocking_portal.call(db.on_submissions_connection, work)

        # the page limit is a connection's setting: set on both writing connections
        await asyncio.to_thread(in_app_loop, cap_pages)
        await asyncio.to_thread(in_app_loop_on_submissions, cap_submission_pages)
        acked, refused = [], []
        for code in codes[:40]:
            body = submission(code)
            response = await client.post(RESPONSES, json=body)
            if response.status_code == 201:
                acked.append(body["submission_id"])
            else:
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "storage_unavailable"
                assert "full" in response.json()["message"]
                assert response.headers["retry-after"]
                refused.append(body)
        assert refused, "the capped database must fill up"

        async def uncap(conn) -> None:
            await conn.execute("PRAGMA max_page_count = 1073741823")

        await asyncio.to_thread(in_app_loop, uncap)
        await asyncio.to_thread(
            in_app_loop_on_submissions,
            lambda conn: conn.execute("PRAGMA max_page_count = 1073741823"),
        )
        for body in refused:  # the same submission retried after the disk has room
            response = await client.post(RESPONSES, json=body)
            assert response.status_code == 201
            acked.append(body["submission_id"])
        assert (await client.get("/healthz")).status_code == 200
    with sqlite3.connect(settings.db_path) as conn:
        stored = {r[0] for r in conn.execute("SELECT submission_id FROM submissions")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stored == set(acked)


async def test_locked_database_is_503_then_recovers(settings, issue) -> None:
    (code, second) = issue(count=2, agency="border")
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        other = sqlite3.connect(settings.db_path, timeout=0)
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            blocked = await client.post(RESPONSES, json=submission(code))
        finally:
            other.rollback()
            other.close()
        assert blocked.status_code == 503
        assert "busy" in blocked.json()["message"]
        assert (await client.post(RESPONSES, json=submission(second))).status_code == 201


# The schema evalsvc 0.1 created (migration 1), as released: an upgrade test starts here.
SCHEMA_1 = """
CREATE TABLE codes (course TEXT NOT NULL, code_hash BLOB NOT NULL, agency TEXT,
    created_at TEXT NOT NULL, PRIMARY KEY (course, code_hash)) WITHOUT ROWID;
CREATE TABLE participants (id INTEGER PRIMARY KEY, course TEXT NOT NULL,
    code_hash BLOB NOT NULL, number INTEGER NOT NULL, agency TEXT NOT NULL,
    UNIQUE (course, code_hash), UNIQUE (course, number));
CREATE TABLE submissions (id INTEGER PRIMARY KEY, submission_id TEXT NOT NULL UNIQUE,
    body_hash BLOB NOT NULL, receipt TEXT NOT NULL UNIQUE, course TEXT NOT NULL,
    phase TEXT NOT NULL, participant_id INTEGER NOT NULL REFERENCES participants(id),
    agency TEXT NOT NULL, agency_mismatch INTEGER NOT NULL DEFAULT 0, lang TEXT NOT NULL,
    answers TEXT NOT NULL, scores TEXT NOT NULL, received_at TEXT NOT NULL,
    UNIQUE (participant_id, phase));
CREATE INDEX submissions_by_course ON submissions (course, phase);
CREATE TABLE tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('evaluator', 'analyst')),
    token_hash BLOB NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT);
PRAGMA user_version = 1;
"""


def schema_1_database(path) -> None:
    """A database as evalsvc 0.1 left it: one post submission, feedback among its answers."""
    answers = {"sa_detect": 4, "k1": "b", "fb_useful": 5, "fb_text": "More cases"}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(SCHEMA_1)
        conn.execute(
            "INSERT INTO participants (id, course, code_hash, number, agency)"
            " VALUES (1, 'tiny', x'01', 1, 'border')"
        )
        conn.execute(
            "INSERT INTO submissions (submission_id, body_hash, receipt, course, phase,"
            " participant_id, agency, lang, answers, scores, received_at) VALUES"
            " ('s1', x'02', 'AAAA-BBBB-CCCC', 'tiny', 'post', 1, 'border', 'en', ?, '{}',"
            " '2024-03-15T10:00:00.000Z')",
            (json.dumps(answers),),
        )
        conn.commit()


def test_a_cli_command_run_first_on_an_old_database_migrates_it_and_its_data(settings) -> None:
    """The data migrations belong to the migration step, not to the web app's start."""
    schema_1_database(settings.db_path)
    listed = run_cli(settings, "token", "list")
    assert listed.returncode == 0, listed.stderr
    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        summarised, scores = conn.execute("SELECT summarised, scores FROM submissions").fetchone()
    assert json.loads(summarised) == {"fb_useful": 5, "fb_text": "More cases"}
    assert json.loads(scores)["knowledge"]["total"] == 25.0  # k1 of four items, one point each


async def test_the_app_after_the_cli_still_reports_the_old_feedback(settings) -> None:
    from evalsvc import reports
    from evalsvc.catalog import load_paths
    from tests.conftest import TEST_SURVEYS

    schema_1_database(settings.db_path)
    assert run_cli(settings, "token", "list").returncode == 0
    course = load_paths([TEST_SURVEYS]).courses["tiny"]
    app = create_app(settings)
    async with AsyncTestClient(app=app):
        rows, counts = await reports.load_rows(app.state.database, course)
    report = reports.report_from(course, rows, counts, "en")
    useful = [
        row
        for row in report.analysis.answer_summaries
        if (row.item, row.breakdown) == ("fb_useful", "all")
    ]
    assert [row.n for row in useful] == [1]  # there, and withheld: one person
    assert [t.item for t in report.analysis.texts] == ["fb_text"]


# -- the secret key's fingerprint -------------------------------------------------------------


def stored_fingerprint(settings, key: bytes) -> bytes | None:
    """The stored fingerprint, read through the port opened with `key` (opening with
    another key would refuse, or adopt it)."""
    import msgspec

    async def read(db) -> bytes | None:
        return (await db.key_facts()).fingerprint

    return through_port(msgspec.structs.replace(settings, secret_key=key), read)


def test_a_fresh_database_makes_its_key_and_remembers_its_fingerprint(settings) -> None:
    from evalsvc.domain.codes import key_fingerprint

    assert not settings.secret_file.exists()
    issued = run_cli(
        settings, "codes", "issue", "tiny", "--count", "2",
        EVALSVC_SECRET="", EVALSVC_SECRET_FILE=str(settings.secret_file),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    key = settings.secret_file.read_bytes().strip()
    assert len(key) >= 32 and oct(settings.secret_file.stat().st_mode)[-3:] == "600"
    assert stored_fingerprint(settings, key) == key_fingerprint(key)
    assert key not in settings.db_path.read_bytes()


@pytest.mark.e2e
@pytest.mark.backends
def test_a_lost_key_stops_the_cli_and_the_server_with_a_clear_message(
    settings, server_factory
) -> None:
    key_file = {"EVALSVC_SECRET": "", "EVALSVC_SECRET_FILE": str(settings.secret_file)}
    issued = run_cli(settings, "codes", "issue", "tiny", "--count", "3", **key_file)
    assert issued.returncode == 0, issued.stderr
    (code, *_) = issued.stdout.split()
    backup = settings.secret_file.read_bytes()
    settings.secret_file.unlink()  # lost: the next start would make a new key

    refused = run_cli(settings, "token", "list", **key_file)
    assert refused.returncode == 1
    assert "the secret key does not match the database" in refused.stderr
    assert "3 participant code(s)" in refused.stderr
    assert "made just now because the file was missing" in refused.stderr
    assert f"copy your backup of it to\n  {settings.secret_file}" in refused.stderr
    assert "Traceback" not in refused.stderr
    with pytest.raises(RuntimeError, match="the secret key does not match the database"):
        server_factory(settings, env=key_file).start()
    other_key = run_cli(settings, "token", "list", EVALSVC_SECRET="x" * 40)
    assert other_key.returncode == 1 and "comes from EVALSVC_SECRET" in other_key.stderr

    settings.secret_file.write_bytes(backup)  # restored from the backup: all is well
    server = server_factory(settings, env=key_file).start()
    body = submission(code) | {"agency": "border"}
    created = httpx.post(f"{server.url}{RESPONSES}", json=body, timeout=10)
    assert created.status_code == 201, created.text


@pytest.mark.backends
def test_a_database_without_codes_or_tokens_takes_a_new_key(settings) -> None:
    from evalsvc.domain.codes import key_fingerprint

    assert run_cli(settings, "token", "list", EVALSVC_SECRET="a" * 40).returncode == 0
    assert stored_fingerprint(settings, b"a" * 40) == key_fingerprint(b"a" * 40)
    assert run_cli(settings, "token", "list", EVALSVC_SECRET="b" * 40).returncode == 0
    assert stored_fingerprint(settings, b"b" * 40) == key_fingerprint(b"b" * 40)


async def test_a_failing_unit_is_undone_alone_and_the_writer_survives(tmp_path) -> None:
    from evalsvc.errors import Conflict

    db = SQLiteStorage(tmp_path / "db.sqlite3")
    await db.open()
    try:
        await db.add_codes("x", [b"k1"], None)

        async def boom(conn) -> None:
            raise ValueError("a bug in a unit of work")

        outcomes = await asyncio.wait_for(
            asyncio.gather(
                db.add_codes("x", [b"k1"], None),  # the same code again: its own conflict
                db.add_codes("x", [b"k2"], None),
                return_exceptions=True,
            ),
            timeout=10,
        )
        assert isinstance(outcomes[0], Conflict) and outcomes[1] is None
        failed = await asyncio.wait_for(
            asyncio.gather(
                db.write(boom), db.add_codes("x", [b"k3"], None), return_exceptions=True
            ),
            timeout=10,
        )
        assert all(isinstance(o, StorageUnavailable) for o in failed), failed
        await asyncio.wait_for(db.add_codes("x", [b"k4"], None), timeout=10)  # still writing
        assert await db.healthy()
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        hashes = {r[0] for r in conn.execute("SELECT code_hash FROM codes")}
    assert hashes == {b"k1", b"k2", b"k4"}


async def test_a_schema_4_database_is_upgraded_by_the_first_cli_command(settings, issue) -> None:
    """Schema 5 keeps breakdown and summarised answers apart, and scores gain "I don't
    know": a database from schema 4, opened first by `evalsvc report`, is migrated
    and filled in, and the report shows its feedback and every measure."""
    import json
    import os
    import subprocess
    import sys

    (code,) = issue(count=1, agency="border")
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        for phase, answers in (
            ("pre", {"sa_detect": 2, "k1": "dont_know"}),
            ("post", {"sa_detect": 4, "k1": "b", "fb_useful": 5, "fb_text": "More cases"}),
        ):
            body = submission(code) | {"phase": phase, "answers": answers}
            assert (await client.post(RESPONSES, json=body)).status_code == 201
    with sqlite3.connect(settings.db_path) as conn:  # as a schema-4 file would have it
        rows = conn.execute("SELECT id, scores FROM submissions").fetchall()
        for row_id, scores in rows:
            old = {
                k: v
                for k, v in json.loads(scores).items()
                if k in ("knowledge", "confidence", "correct")
            }
            conn.execute(
                "UPDATE submissions SET scores = ? WHERE id = ?", (json.dumps(old), row_id)
            )
        conn.execute("UPDATE submissions SET summarised = '{}'")
        conn.execute("ALTER TABLE submissions DROP COLUMN breakdowns")
        conn.execute("ALTER TABLE submissions DROP COLUMN scoring")
        conn.execute("ALTER TABLE submissions RENAME COLUMN summarised TO feedback")
        conn.execute("DROP TABLE course_versions")
        conn.execute("DROP TABLE participant_numbers")
        conn.execute("PRAGMA user_version = 4")
    out = settings.db_path.parent / "report.json"
    environment = {
        **os.environ,
        "EVALSVC_DB": str(settings.db_path),
        "EVALSVC_SURVEYS": str(settings.surveys_path),
        "EVALSVC_SECRET": settings.secret_key.decode(),
    }
    command = [sys.executable, "-m", "evalsvc.cli", "report", "tiny", "--format", "json"]
    finished = subprocess.run(
        [*command, "--out", str(out)], env=environment, capture_output=True, check=False
    )
    assert finished.returncode == 0, finished.stderr.decode()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scoring"]["other_rules"] == 0
    texts = {t["item"]: t["answers"] for t in report["analysis"]["texts"]}
    assert "fb_text" in texts  # the answer is there (withheld: one person, fewer than k)
    summaries = [a for a in report["analysis"]["answer_summaries"] if a["item"] == "fb_useful"]
    assert [a["n"] for a in summaries if a["breakdown"] == "all"] == [1]
    dont_know = [r for r in report["analysis"]["summary"] if r["measure"] == "dont_know"]
    assert dont_know and dont_know[0]["n_paired"] == 1
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        (scores,) = conn.execute("SELECT scores FROM submissions WHERE phase = 'pre'").fetchone()
        assert json.loads(scores)["dont_know"]["total"] == 100.0


# -- the schema's version 6, the sync role, the database's address -----------------------------


@pytest.mark.backends
async def test_tokens_take_the_sync_role_and_refuse_unknown_roles(settings) -> None:
    db = await opened(settings)
    try:
        token_id = await db.add_token("laptop", "sync", b"s" * 32)
        assert (await db.token_by_hash(b"s" * 32)).role == "sync"
        with pytest.raises(Conflict):
            await db.add_token("root", "admin", b"a" * 32)
        assert [t.id for t in await db.list_tokens()] == [token_id]
    finally:
        await db.close()


def test_the_sqlite_upgrade_to_schema_6_keeps_tokens_and_their_sessions(settings) -> None:
    """SQLite changes the role CHECK only by rebuilding the tokens table (and the
    sessions table, whose foreign key points at it): both keep their rows."""
    from evalsvc.domain.access import Scope
    from evalsvc.storage.migrations import statements

    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        for migration in MIGRATIONS[:5]:
            for statement in statements(migration.sqlite):
                conn.execute(statement)
        conn.execute(
            "INSERT INTO tokens (id, name, role, token_hash, created_at, scope)"
            " VALUES (7, 'eva', 'evaluator', x'0101', '2024-03-12T09:00:00.000Z',"
            ' \'{"courses":["tiny"]}\')'
        )
        conn.execute(
            "INSERT INTO sessions VALUES (x'0202', 7, '2024-03-12T09:00:00.000Z',"
            " '2999-01-01T00:00:00.000Z')"
        )
        conn.execute("INSERT INTO participants VALUES (1, 'tiny', x'03', 4, 'border')")
        conn.execute("PRAGMA user_version = 5")
        conn.commit()

    async def upgraded(db) -> tuple:
        session = await db.token_by_session(b"\x02\x02", "2024-03-13T00:00:00.000Z")
        sync_id = await db.add_token("laptop", "sync", b"s" * 32)
        number = await db.store_submission(stored_submission(b"n" * 32))
        rows = await db.score_rows("tiny")
        return session, sync_id, number, rows

    session, sync_id, _, rows = through_port(settings, upgraded)
    assert session is not None and session.id == 7 and session.scope == Scope(courses=("tiny",))
    assert sync_id == 8
    assert [row.participant for row in rows] == [5]  # the counter starts after the stored 4
    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_evalsvc_db_selects_the_backend() -> None:
    from pathlib import Path

    from evalsvc.errors import ConfigError
    from evalsvc.settings import settings_from_env

    url = "postgresql://evalsvc:secret@db.example.org:5432/evalsvc"
    assert settings_from_env({"EVALSVC_DB": url}).db_url == url
    assert settings_from_env({"EVALSVC_DB": "postgres://h/db"}).db_url == "postgres://h/db"
    for given, path in (
        ("var/x.sqlite3", "var/x.sqlite3"),
        ("sqlite:///var/x.sqlite3", "var/x.sqlite3"),
        ("sqlite:////tmp/x.sqlite3", "/tmp/x.sqlite3"),
    ):
        chosen = settings_from_env({"EVALSVC_DB": given})
        assert (chosen.db_url, chosen.db_path) == ("", Path(path)), given
    for wrong in ("mysql://h/db", "sqlite://relative"):
        with pytest.raises(ConfigError):
            settings_from_env({"EVALSVC_DB": wrong})
    with pytest.raises(ConfigError, match="EVALSVC_DB_WRITERS"):
        settings_from_env({"EVALSVC_DB": url, "EVALSVC_DB_POOL": "2", "EVALSVC_DB_WRITERS": "2"})


@pytest.mark.backends("postgresql")
def test_an_unreachable_postgresql_is_a_clear_message_without_the_password(settings) -> None:
    from evalsvc.storage.postgres import redacted

    base = settings.db_url.split("?")[0]
    wrong = base.replace(base.split("//")[1].split("@")[0], "evalsvc:not-the-password")
    refused = run_cli(settings, "token", "list", EVALSVC_DB=wrong)
    assert refused.returncode == 1, refused.stderr
    assert "cannot open database postgresql://evalsvc:***@127.0.0.1:" in refused.stderr
    assert "not-the-password" not in refused.stderr and "Traceback" not in refused.stderr
    assert redacted("postgresql://u:p@h:5/d?x=1") == "postgresql://u:***@h:5/d?x=1"
