"""Live turnout: codes issued, questionnaires received and paired, per phase and agency."""

from __future__ import annotations

import uuid

import anyio
import pytest
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app
from evalsvc.catalog import load_paths
from evalsvc.domain.turnout import turnout_rows
from tests.conftest import TEST_SURVEYS

pytestmark = pytest.mark.anyio
TINY = load_paths([TEST_SURVEYS]).courses["tiny"]
BASE = "/api/v1/courses/tiny"


def test_counts_per_phase_and_agency() -> None:
    codes = {"border": 4, "customs": 2, None: 3}
    submissions = [
        (1, "border", "pre"),
        (1, "border", "post"),
        (2, "border", "pre"),
        (3, "customs", "post"),  # came only after the course: received, not paired
        (4, "courts", "pre"),
        (4, "courts", "post"),
    ]
    rows = {(r.phase, r.agency): r for r in turnout_rows(TINY, codes, submissions)}
    assert rows[("pre", "all")].codes_issued == 9 and rows[("pre", "all")].received == 3
    assert rows[("pre", "all")].paired is None
    assert (rows[("post", "all")].received, rows[("post", "all")].paired) == (3, 2)
    assert (rows[("post", "border")].received, rows[("post", "border")].paired) == (1, 1)
    assert (rows[("post", "customs")].received, rows[("post", "customs")].paired) == (1, 0)
    assert rows[("pre", "unassigned")].codes_issued == 3
    assert rows[("pre", "courts")].codes_issued == 0 and rows[("pre", "courts")].received == 1
    limited = turnout_rows(TINY, codes, submissions, agencies=["customs"])
    assert {r.agency for r in limited} == {"all", "customs"}


def answers(phase: str) -> dict:
    given = {"sa_detect": 3, "sa_coop": 2, "k1": "b", "k2": "true", "k3": ["a"], "k4": "b"}
    return given | ({"fb_useful": 5} if phase == "post" else {})


async def test_turnout_follows_every_submission(settings, issue) -> None:
    border = issue(count=3, agency="border")
    customs = issue(count=2, agency="customs")
    loose = issue(count=1)
    _, token = await anyio.to_thread.run_sync(commands.create_token, settings, "evaluator", "pm")
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        empty = (await client.get(f"{BASE}/turnout", headers=auth)).json()
        first = {(r["phase"], r["agency"]): r for r in empty["rows"]}
        assert first[("pre", "all")] == {
            "phase": "pre",
            "agency": "all",
            "codes_issued": 6,
            "received": 0,
            "paired": None,
        }
        assert first[("pre", "border")]["codes_issued"] == 3
        assert first[("pre", "unassigned")]["codes_issued"] == 1
        for code, phases in ((border[0], ("pre", "post")), (border[1], ("pre",)),
                             (customs[0], ("post",)), (loose[0], ("pre", "post"))):  # fmt: skip
            for phase in phases:
                body = {
                    "submission_id": str(uuid.uuid4()),
                    "phase": phase,
                    "code": code,
                    "agency": "courts",
                    "answers": answers(phase),
                }
                posted = await client.post(f"{BASE}/responses", json=body)
                assert posted.status_code == 201, posted.text
        counted = (await client.get(f"{BASE}/turnout", headers=auth)).json()
        rows = {(r["phase"], r["agency"]): r for r in counted["rows"]}
        assert (rows[("pre", "all")]["received"], rows[("post", "all")]["received"]) == (3, 3)
        assert rows[("post", "all")]["paired"] == 2
        assert (rows[("pre", "border")]["received"], rows[("post", "border")]["paired"]) == (2, 1)
        assert (rows[("post", "customs")]["received"], rows[("post", "customs")]["paired"]) == (
            1,
            0,
        )
        # the unbound code's participant chose courts
        assert rows[("post", "courts")]["paired"] == 1
        assert "mean" not in str(counted) and "score" not in str(counted)
        page = await client.get("/courses/tiny/turnout", headers=auth)
        assert page.status_code == 200
        assert page.headers["refresh"] == "30" and "no-store" in page.headers["cache-control"]
        assert "Border guards" in page.text and "Codes issued" in page.text
        russian = await client.get("/courses/tiny/turnout?lang=ru", headers=auth)
        assert "Выдано кодов" in russian.text and "Пограничники" in russian.text
        assert (await client.get(f"{BASE}/turnout")).status_code == 401


@pytest.fixture
def demo(settings):
    commands.demo(settings, "tiny", 12, 5, if_empty=False)
    return settings


async def test_the_demo_issues_each_code_to_its_participant_s_agency(demo) -> None:
    """`evalsvc demo` binds every code to the agency of its synthetic participant, so
    the demo's turnout shows codes per agency (none unassigned); every participant
    answers the first phase, so codes issued = questionnaires received there."""
    _, token = await anyio.to_thread.run_sync(commands.create_token, demo, "evaluator", "pm")
    async with AsyncTestClient(app=create_app(demo)) as client:
        answer = await client.get(f"{BASE}/turnout", headers={"Authorization": f"Bearer {token}"})
    rows = {(r["phase"], r["agency"]): r for r in answer.json()["rows"]}
    first = TINY.phase_ids()[0]
    assert rows[(first, "all")]["codes_issued"] == rows[(first, "all")]["received"] == 12
    assert rows.get((first, "unassigned"), {"codes_issued": 0})["codes_issued"] == 0
    for agency in TINY.agency_ids():
        row = rows[(first, agency)]
        assert row["codes_issued"] == row["received"] > 0, agency
