"""Scores follow the answer key: a corrected key is noticed, reported and rescored.

Scores are frozen at intake with a fingerprint of the scoring rules. When the course
file's key changes mid-course, reports warn with the number of submissions scored
under other rules, and `evalsvc rescore` rescores them (or, with --dry-run, says what
it would change). Real SQLite files and PostgreSQL, the real CLI in a subprocess, the
real app.
"""

from __future__ import annotations

import json
import shutil

import pytest
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app
from evalsvc.settings import Settings
from tests.conftest import TEST_SURVEYS, run_cli

pytestmark = [pytest.mark.anyio, pytest.mark.backends]


@pytest.fixture
def own_surveys(tmp_path, settings: Settings) -> Settings:
    """The tiny course in a folder of its own, so that the test can change its key."""
    surveys = tmp_path / "surveys"
    shutil.copytree(TEST_SURVEYS / "tiny", surveys / "tiny")
    import msgspec

    return msgspec.structs.replace(settings, surveys_path=surveys)


def change_key_of_k1(settings: Settings, new_key: str) -> None:
    items = settings.surveys_path / "tiny" / "items.toml"
    text = items.read_text(encoding="utf-8")
    assert 'correct = ["b"]' in text
    items.write_text(text.replace('correct = ["b"]', f'correct = ["{new_key}"]', 1), "utf-8")


async def submit(settings: Settings, codes: list[str], k1: str) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        for number, code in enumerate(codes):
            body = {
                "submission_id": f"00000000-0000-4000-8000-{number:012d}",
                "phase": "pre",
                "code": code,
                "lang": "en",
                "answers": {"sa_detect": 3, "k1": k1},
            }
            response = await client.post("/api/v1/courses/tiny/responses", json=body)
            assert response.status_code == 201, response.text


def report(settings: Settings, tmp_path) -> dict:
    out = tmp_path / "report.json"
    made = run_cli(settings, "report", "tiny", "--format", "json", "--out", str(out))
    assert made.returncode == 0, made.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def pre_knowledge(report: dict) -> float | None:
    rows = [
        r
        for r in report["analysis"]["attrition"]
        if (r["measure"], r["breakdown"], r["skill"]) == ("knowledge", "all", "total")
    ]
    return rows[0]["dropped_mean"]


async def test_a_corrected_key_is_reported_and_rescored(own_surveys, issue, tmp_path) -> None:
    settings = own_surveys
    codes = issue(count=4, agency="border", s=settings)
    await submit(settings, codes, k1="a")  # wrong under the key "b"
    before = report(settings, tmp_path)
    assert before["scoring"]["other_rules"] == 0
    assert pre_knowledge(before) == 0.0  # nobody has a post: all four "dropped out"

    change_key_of_k1(settings, "a")  # the organiser corrects the key: "a" is right
    warned = report(settings, tmp_path)
    assert warned["scoring"]["other_rules"] == 4
    assert pre_knowledge(warned) == 0.0  # still the frozen scores

    dry = run_cli(settings, "rescore", "tiny", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "4 submission(s) would be rescored; 4 with a different" in dry.stdout
    assert "knowledge total 0.0% -> 25.0%" in dry.stdout
    assert report(settings, tmp_path)["scoring"]["other_rules"] == 4  # nothing changed

    done = run_cli(settings, "rescore", "tiny")
    assert done.returncode == 0, done.stderr
    assert "4 submission(s) rescored" in done.stdout
    after = report(settings, tmp_path)
    assert after["scoring"]["other_rules"] == 0
    assert pre_knowledge(after) == 25.0  # k1 of four one-point items
    again = run_cli(settings, "rescore", "tiny")
    assert "0 submission(s) rescored" in again.stdout


async def test_rescoring_moves_the_report_cache(own_surveys, issue) -> None:
    settings = own_surveys
    codes = issue(count=3, agency="border", s=settings)
    await submit(settings, codes, k1="a")
    change_key_of_k1(settings, "a")
    app = create_app(settings)
    token = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "e")
    bearer = {"Authorization": f"Bearer {token.stdout.splitlines()[-1]}"}
    async with AsyncTestClient(app=app) as client:
        first = (await client.get("/api/v1/courses/tiny/summary", headers=bearer)).json()
        assert first["scored_under_other_rules"] == 3
        assert run_cli(settings, "rescore", "tiny").returncode == 0
        second = (await client.get("/api/v1/courses/tiny/summary", headers=bearer)).json()
        assert second["scored_under_other_rules"] == 0
        assert app.state.report_cache.computed == 2  # the data version moved
