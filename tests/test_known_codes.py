"""Issued codes are found from memory, and codes issued after the service started
(by the CLI or another instance on the same database) are found all the same."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app
from evalsvc.domain.codes import code_hash, new_code, normalize_code
from tests.conftest import TEST_SECRET, through_port
from tests.test_api import RESPONSES, body, participants

pytestmark = [pytest.mark.anyio, pytest.mark.backends]


async def test_a_code_issued_after_start_is_found(settings, issue) -> None:
    (before,) = issue(count=1, agency="border")
    async with AsyncTestClient(app=create_app(settings)) as client:
        (later,) = issue(count=1, agency="courts")  # as `evalsvc codes issue` would
        assert (await client.post(RESPONSES, json=body(before))).status_code == 201
        created = await client.post(RESPONSES, json=body(later))
        assert created.status_code == 201, created.text
        # found again (now from memory), with its bound agency
        post = await client.post(RESPONSES, json=body(later, "post", agency="customs"))
        assert post.status_code == 201, post.text
    assert sorted(participants(settings).values()) == ["border", "courts"]


async def test_an_unknown_code_is_asked_again_each_time(settings) -> None:
    code = new_code()
    hashed = code_hash(TEST_SECRET, "tiny", normalize_code(code) or "")
    async with AsyncTestClient(app=create_app(settings)) as client:
        refused = await client.post(RESPONSES, json=body(code))
        assert refused.status_code == 403
        # issued after it was refused: a refusal is never remembered
        through_port(settings, lambda db: db.add_codes("tiny", [hashed], "border"))
        accepted = await client.post(RESPONSES, json=body(code))
        assert accepted.status_code == 201, accepted.text
