"""The code-guessing throttle: at most `limit` definitive 403 answers per window."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalsvc.domain.codes import new_code
from evalsvc.web.throttle import FailureThrottle
from tests.test_api import RESPONSES, body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(
    limit=st.integers(1, 8),
    steps=st.lists(st.tuples(st.floats(0, 30), st.booleans()), max_size=120),
)
def test_no_window_ever_admits_more_failures_than_the_limit(limit, steps) -> None:
    clock = Clock()
    throttle = FailureThrottle(limit, window_seconds=60, clock=clock)
    admitted: list[float] = []
    for advance, wrong in steps:
        clock.now += advance
        if wrong and throttle.admit_failure("venue"):
            admitted.append(clock.now)
    for start in admitted:
        assert sum(start <= t < start + 60 for t in admitted) <= limit


def test_the_limit_holds_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(3, window_seconds=60, clock=clock)
    assert [throttle.admit_failure("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.over_limit("a") and not throttle.over_limit("b")
    assert throttle.retry_after("a") == 61
    clock.now += 60
    assert not throttle.over_limit("a")
    assert throttle.admit_failure("a")


async def _burst(url: str, bodies: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post(RESPONSES, json=b) for b in bodies))


@pytest.mark.e2e
def test_a_concurrent_burst_of_wrong_codes_gets_at_most_the_limit_of_403s(
    settings, issue, server_factory
) -> None:
    limit = 5
    codes = issue(count=61, agency="customs")
    env = {"EVALSVC_CODE_FAILURES_PER_MINUTE": str(limit)}
    server = server_factory(settings, env=env).start()

    # a venue behind one NAT: 60 valid codes at once, none throttled
    answers = asyncio.run(_burst(server.url, [body(code) for code in codes[:60]]))
    assert [a.status_code for a in answers] == [201] * 60

    # a guesser: 300 wrong codes at once from the same address
    answers = asyncio.run(_burst(server.url, [body(new_code()) for _ in range(300)]))
    statuses = [a.status_code for a in answers]
    assert statuses.count(403) == limit, sorted(set(statuses))
    assert statuses.count(429) == 300 - limit
    assert {a.json()["error"] for a in answers if a.status_code == 429} == {
        "too_many_code_attempts"
    }

    # past the limit, a valid code waits too: a 429 tells the guesser nothing
    valid_but_waiting = httpx.post(f"{server.url}{RESPONSES}", json=body(codes[60]), timeout=10)
    assert valid_but_waiting.status_code == 429
    assert 1 <= int(valid_but_waiting.headers["retry-after"]) <= 61
