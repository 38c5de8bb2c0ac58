"""Storage: migrations, group commit, and faults that must become a clean 503."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

import pytest
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app
from evalsvc.errors import StorageUnavailable
from evalsvc.storage import Database
from evalsvc.storage.sqlite import MIGRATIONS

pytestmark = pytest.mark.anyio
RESPONSES = "/api/v1/courses/tiny/responses"


def submission(code: str) -> dict:
    return {
        "submission_id": str(uuid.uuid4()),
        "phase": "pre",
        "code": code,
        "answers": {"sa_detect": 2, "k1": "a", "k4": "a", "k3": ["b"]},
    }


async def test_migrations_run_once_and_set_wal(tmp_path) -> None:
    path = tmp_path / "db.sqlite3"
    for _ in range(2):
        db = Database(path)
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
        await Database(path).open()


async def test_concurrent_writes_share_commits(tmp_path) -> None:
    db = Database(tmp_path / "db.sqlite3", batch_max=64)
    await db.open()
    batches: list[int] = []
    original = db._commit_batch

    async def counting(batch):
        batches.append(len(batch))
        await original(batch)

    db._commit_batch = counting  # observe batch sizes; the real commit still runs
    try:
        await asyncio.gather(
            *(db.add_codes("tiny", [uuid.uuid4().bytes], None) for _ in range(200))
        )
    finally:
        await db.close()
    assert sum(batches) == 200
    assert len(batches) < 200 / 4, f"expected group commit, got batches {batches}"
    assert max(batches) <= 64


async def test_full_disk_is_503_nothing_acknowledged_is_lost_and_it_recovers(
    settings, issue
) -> None:
    codes = issue(count=60, agency="border")
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        db: Database = app.state.database

        async def cap_pages(conn) -> None:
            (pages,) = await (await conn.execute("PRAGMA page_count")).fetchone()
            await conn.execute(f"PRAGMA max_page_count = {pages}")

        def in_app_loop(unit) -> None:
            # the test client runs the app in its own thread and event loop
            client.blocking_portal.call(db.write, unit)

        await asyncio.to_thread(in_app_loop, cap_pages)
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


async def test_a_schema_2_database_is_upgraded_by_the_first_cli_command(settings, issue) -> None:
    """Schema 3 keeps breakdown and summarised answers apart, and scores gain "I don't
    know": a database from schema 2, opened first by `evalsvc report`, is migrated
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
    with sqlite3.connect(settings.db_path) as conn:  # as a schema-2 file would have it
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
        conn.execute("PRAGMA user_version = 2")
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
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        (scores,) = conn.execute("SELECT scores FROM submissions WHERE phase = 'pre'").fetchone()
        assert json.loads(scores)["dont_know"]["total"] == 100.0


async def test_a_failing_unit_is_undone_alone_and_the_writer_survives(tmp_path) -> None:
    from evalsvc.errors import Conflict

    db = Database(tmp_path / "db.sqlite3")
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
