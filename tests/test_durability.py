"""Acknowledged means stored: kill -9 a real server under load, restart, count.

The same test runs against a variant that acknowledges before it commits
(tests/ack_early_server.py, a write-behind buffer) and must catch it. Both run on
SQLite and on PostgreSQL; what was stored is read through the storage port.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import through_port

pytestmark = [pytest.mark.e2e, pytest.mark.backends]

CONCURRENCY = 32
KILLS = 3
ACKS_PER_CYCLE = 40
"""Each cycle kills the server once this many more submissions were acknowledged."""
PATIENCE_SECONDS = 60.0
"""A cycle that has not reached its acknowledgements by then is too slow to judge."""
ACK_EARLY_SERVER = Path(__file__).with_name("ack_early_server.py")


def submission(code: str) -> dict:
    return {
        "submission_id": str(uuid.uuid4()),
        "phase": "pre",
        "code": code,
        "lang": "en",
        "answers": {"sa_detect": 4, "sa_coop": 3, "k1": "b", "k2": "false", "k3": ["a", "c"]},
    }


async def load_until_killed(
    server, pending: list[dict], acked: dict, unknown: dict, stop=None, acks=ACKS_PER_CYCLE
) -> None:
    """Send submissions with CONCURRENCY workers; stop the server (kill -9) mid-stream,
    as soon as `acks` more have been acknowledged (not after a time: a busy machine
    only makes the cycle longer)."""
    target = len(acked) + acks

    async def worker(client: httpx.AsyncClient) -> None:
        while pending:
            body = pending.pop()
            try:
                response = await client.post(
                    f"{server.url}/api/v1/courses/tiny/responses", json=body
                )
            except httpx.HTTPError:
                unknown[body["submission_id"]] = body  # outcome unknown: retried later
                return
            if response.status_code in (200, 201):
                acked[body["submission_id"]] = response.json()["receipt"]
            else:
                unknown[body["submission_id"]] = body

    async def killer() -> None:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while len(acked) < target and time.monotonic() < deadline and pending:
            await asyncio.sleep(0.005)
        await asyncio.to_thread(stop or server.kill)
        if len(acked) < target:
            pytest.skip(
                f"too slow to judge: {len(acked)} of {target} acknowledgements in "
                f"{PATIENCE_SECONDS:.0f} s (this is not a durability failure)"
            )

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await asyncio.gather(killer(), *(worker(client) for _ in range(CONCURRENCY)))


def run_kill_cycles(
    settings,
    issue,
    server_factory,
    env: dict[str, str],
    *,
    cycles=KILLS,
    graceful=False,
    acks=ACKS_PER_CYCLE,
    codes=6000,
    script=None,
) -> dict:
    pending = [submission(code) for code in issue(count=codes, agency="border")]
    acked: dict[str, str] = {}
    unknown: dict[str, dict] = {}
    for _ in range(cycles):
        server = server_factory(settings, env, script).start()
        stop = server.stop if graceful else server.kill
        asyncio.run(load_until_killed(server, pending, acked, unknown, stop, acks))
        assert server.process.poll() is not None, "the server was stopped"
    # a last start: retrying every unknown outcome with its submission_id is safe
    server = server_factory(settings, env).start()
    retried = {}
    with httpx.Client(timeout=10) as client:
        for submission_id, body in list(unknown.items())[:200]:
            response = client.post(f"{server.url}/api/v1/courses/tiny/responses", json=body)
            retried[submission_id] = response.status_code
    server.stop()
    return {
        "acked": acked,
        "stored": stored_ids(settings),
        "integrity": integrity(settings),
        "retried": retried,
    }


def stored_ids(settings) -> set[str]:
    """Every stored submission_id, read through the port; each must be there once."""

    async def read(db) -> set[str]:
        ids: list[str] = []
        position = 0
        while page := await db.submissions_to_share(None, position, 1000):
            position = page[-1].position
            ids += [row.submission_id for row in page]
        assert len(ids) == len(set(ids)) == await db.count_submissions()
        return set(ids)

    return through_port(settings, read)


def integrity(settings) -> str:
    """SQLite's own check of its file; PostgreSQL's constraints hold by construction."""
    if settings.db_url:
        return "ok"
    with sqlite3.connect(settings.db_path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_every_acknowledged_submission_survives_kill_9(settings, issue, server_factory) -> None:
    result = run_kill_cycles(settings, issue, server_factory, {})
    lost = set(result["acked"]) - result["stored"]
    assert len(result["acked"]) >= KILLS * ACKS_PER_CYCLE
    assert lost == set()
    assert result["integrity"] == "ok"
    # an unknown outcome retried: stored before (200) or now (201), never twice, never 409/422
    assert set(result["retried"].values()) <= {200, 201}


def test_the_check_catches_acknowledging_before_commit(settings, issue, server_factory) -> None:
    result = run_kill_cycles(settings, issue, server_factory, {}, script=ACK_EARLY_SERVER)
    lost = set(result["acked"]) - result["stored"]
    assert lost, "a write-behind variant must lose acknowledged submissions under kill -9"


def test_graceful_restart_mid_batch_loses_nothing(settings, issue, server_factory) -> None:
    """SIGTERM under load: uvicorn finishes the requests it has, the writer drains."""
    result = run_kill_cycles(settings, issue, server_factory, {}, cycles=2, graceful=True)
    assert len(result["acked"]) >= 2 * ACKS_PER_CYCLE
    assert set(result["acked"]) - result["stored"] == set()
    assert result["integrity"] == "ok"
    assert set(result["retried"].values()) <= {200, 201}


@pytest.mark.slow
def test_soak_twenty_kills_under_load(settings, issue, server_factory) -> None:
    """The long version (EVALSVC_SLOW=1): twenty kill -9 cycles of 200 acknowledgements each."""
    result = run_kill_cycles(
        settings, issue, server_factory, {}, cycles=20, acks=200, codes=60_000
    )
    assert len(result["acked"]) >= 20 * 200
    assert set(result["acked"]) - result["stored"] == set()
    assert result["integrity"] == "ok"
    assert set(result["retried"].values()) <= {200, 201}
