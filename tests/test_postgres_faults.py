"""Faults of the server engine: instances killed under load, PostgreSQL restarted.

- Two `evalsvc serve` instances on one PostgreSQL database share the load; one is
  killed (kill -9) again and again while the other keeps serving. Every
  acknowledged submission is stored, exactly once.
- PostgreSQL itself stops (immediate: like a crash) and starts again under load:
  meanwhile the service answers 503 with Retry-After, it recovers by itself (the
  same evalsvc process), and nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import httpx
import msgspec
import pytest

from evalsvc.commands import issue_codes
from tests.conftest import IN_CI
from tests.pg_cluster import Cluster, binaries
from tests.test_durability import stored_ids, submission

pytestmark = pytest.mark.e2e
URL = "/api/v1/courses/tiny/responses"
WORKERS = 32


class Load:
    """WORKERS clients sending fresh submissions until told to stop; each remembers
    what was acknowledged and what has an unknown outcome (to retry later)."""

    def __init__(self, pending: list[dict]) -> None:
        self.pending = pending
        self.acked: dict[str, str] = {}
        self.unknown: dict[str, dict] = {}
        self.statuses: Counter[int] = Counter()
        self.retry_after: set[str] = set()
        self.stop = threading.Event()
        self.acked_by: Counter[str] = Counter()

    async def run(self, urls: list[str], seconds: float) -> None:
        deadline = time.monotonic() + seconds

        async def worker(number: int, client: httpx.AsyncClient) -> None:
            url = urls[number % len(urls)]
            while self.pending and not self.stop.is_set() and time.monotonic() < deadline:
                body = self.pending.pop()
                try:
                    response = await client.post(f"{url}{URL}", json=body)
                except httpx.HTTPError:
                    self.unknown[body["submission_id"]] = body
                    url = urls[0]  # that instance is gone: go on with the first one
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    self.acked[body["submission_id"]] = response.json()["receipt"]
                    self.acked_by[url] += 1
                else:
                    assert response.status_code == 503, response.text
                    self.retry_after.add(response.headers.get("retry-after", ""))
                    self.unknown[body["submission_id"]] = body
                    await asyncio.sleep(0.05)

        limits = httpx.Limits(max_connections=WORKERS)
        async with httpx.AsyncClient(limits=limits, timeout=15) as client:
            await asyncio.gather(*(worker(n, client) for n in range(WORKERS)))

    async def wait_for(self, condition, what: str, limit: float = 90.0) -> None:
        """Until `condition()` holds; after `limit` seconds the run is too slow to judge
        (or `what` never happens): a failure that says so, not a wrong count."""
        deadline = time.monotonic() + limit
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen in {limit:.0f} s: too slow to judge, or broken")
            await asyncio.sleep(0.05)

    def retry_unknown(self, url: str) -> Counter[int]:
        """Retrying an unknown outcome with its submission_id is safe: 200 or 201."""
        answers: Counter[int] = Counter()
        with httpx.Client(timeout=15) as client:
            for submission_id, body in self.unknown.items():
                response = client.post(f"{url}{URL}", json=body)
                answers[response.status_code] += 1
                if response.status_code in (200, 201):
                    self.acked[submission_id] = response.json()["receipt"]
        return answers


@pytest.mark.backends("postgresql")
def test_two_instances_one_killed_again_and_again_lose_nothing(
    settings, issue, server_factory
) -> None:
    load = Load([submission(code) for code in issue(count=6000, agency="border")])
    survivor = server_factory(settings).start()

    async def cycle(victim) -> int:
        """Load on both; kill -9 the victim once it has acknowledged some, and go on
        until the survivor has acknowledged more; how many it acknowledged meanwhile."""
        before = load.acked_by[survivor.url]
        victim_before = load.acked_by[victim.url]

        async def kill() -> None:
            await load.wait_for(
                lambda: load.acked_by[victim.url] - victim_before >= 20, "the victim's 20 acks"
            )
            await asyncio.to_thread(victim.kill)
            killed_at = load.acked_by[survivor.url]
            await load.wait_for(
                lambda: load.acked_by[survivor.url] - killed_at >= 40,
                "40 acks of the survivor after the kill",
            )
            load.stop.set()

        load.stop.clear()
        await asyncio.gather(load.run([survivor.url, victim.url], 300), kill())
        return load.acked_by[survivor.url] - before

    served_meanwhile = 0
    for _ in range(3):
        victim = server_factory(settings).start()
        served_meanwhile += asyncio.run(cycle(victim))
        assert victim.process.poll() is not None, "the victim was killed"
    assert survivor.process.poll() is None, "the other instance kept serving throughout"
    assert served_meanwhile >= 3 * 40
    assert set(load.retry_unknown(survivor.url)) <= {200, 201}
    survivor.stop()
    stored = stored_ids(settings)  # each stored once (checked there against the count)
    assert len(load.acked) >= 3 * (20 + 40)
    assert set(load.acked) - stored == set()


@pytest.fixture
def cluster():
    if binaries() is None:
        if IN_CI:
            pytest.fail("CI must run the PostgreSQL fault tests: PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed (scripts/test installs it where it can)")
    with Cluster() as own:
        yield own


def test_a_postgresql_restart_under_load_is_503_then_recovers_by_itself(
    settings, cluster, server_factory
) -> None:
    settings = msgspec.structs.replace(settings, db_url=cluster.dsn())
    codes = issue_codes(settings, "tiny", 4000, "border", None, None)
    load = Load([submission(code) for code in codes])
    server = server_factory(settings).start()

    async def run() -> None:
        async def restart() -> None:
            await load.wait_for(lambda: len(load.acked) >= 50, "50 acks before the crash")
            await asyncio.to_thread(cluster.stop, "immediate")  # like a crash
            await asyncio.sleep(1.5)
            with httpx.Client(timeout=10) as client:
                health = await asyncio.to_thread(client.get, f"{server.url}/healthz")
            assert health.status_code == 503
            acked_while_down = len(load.acked)
            await asyncio.to_thread(cluster.start)
            # served again, by the same process, without being restarted
            await load.wait_for(
                lambda: len(load.acked) >= acked_while_down + 50, "50 acks after the restart"
            )
            load.stop.set()

        await asyncio.gather(load.run([server.url], 300), restart())

    asyncio.run(run())
    assert server.process.poll() is None, "evalsvc was never restarted"
    assert load.statuses[503] > 0 and load.retry_after == {"5"}
    assert load.stop.is_set() and load.statuses[201] >= 100
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert set(load.retry_unknown(server.url)) <= {200, 201}
    server.stop()
    assert set(load.acked) - stored_ids(settings) == set()
