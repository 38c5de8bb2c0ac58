"""Evaluators' access and downloads, over a demo cohort of the bundled course.

The tests that exercise storage (tokens, sessions, the report cache's data version,
participant-level downloads) run on SQLite and on PostgreSQL (`backends`); those
about rendering, and about what the SQLite file holds, on SQLite alone.
"""

from __future__ import annotations

import csv
import io
import math
import re

import anyio
import pytest
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app

pytestmark = pytest.mark.anyio
COURSE = "salw-nexus-kz-2024"
BASE = f"/api/v1/courses/{COURSE}"


@pytest.fixture
def cohort(bundled_settings):
    """60 synthetic participants through the normal write path, and two tokens."""
    commands.demo(bundled_settings, COURSE, 60, 7, if_empty=False)
    evaluator_id, evaluator = commands.create_token(bundled_settings, "evaluator", "eva")
    _, analyst = commands.create_token(bundled_settings, "analyst", "ana")
    return bundled_settings, {"evaluator": evaluator, "analyst": analyst, "eva_id": evaluator_id}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.backends
async def test_no_token_is_401_and_wrong_role_is_403(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in (
            "summary",
            "attrition",
            "items",
            "reliability",
            "answer_summaries",
            "feedback",
            "disclosure",
            "summary.csv",
            "report.xlsx",
        ):
            response = await client.get(f"{BASE}/{path}")
            assert response.status_code == 401, path
            assert response.json()["error"] == "unauthorized"
        bad = await client.get(f"{BASE}/summary", headers=bearer("evs_not-a-token"))
        assert bad.status_code == 401
        for path in ("scores.csv", "responses.csv"):
            forbidden = await client.get(f"{BASE}/{path}", headers=bearer(tokens["evaluator"]))
            assert forbidden.status_code == 403, path
            assert forbidden.json()["error"] == "analyst_only"
            allowed = await client.get(f"{BASE}/{path}", headers=bearer(tokens["analyst"]))
            assert allowed.status_code == 200, path
            assert "no-store" in allowed.headers["cache-control"]


@pytest.fixture
def revoked(cohort):
    settings, tokens = cohort
    assert commands.revoke_token(settings, tokens["eva_id"])
    assert [t.revoked_at is not None for t in commands.list_tokens(settings)] == [True, False]
    return cohort


@pytest.mark.backends
async def test_revoked_token_stops_working(revoked) -> None:
    settings, tokens = revoked
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(f"{BASE}/summary", headers=bearer(tokens["evaluator"]))
        assert response.status_code == 401


async def test_summary_has_every_cell_and_field(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(f"{BASE}/summary", headers=bearer(tokens["evaluator"]))
    assert response.status_code == 200
    summary = response.json()
    assert {"course", "generated_at", "min_cell_size", "rows", "group_comparisons"} <= set(summary)
    assert [m["id"] for m in summary["measures"]] == ["knowledge", "confidence", "dont_know"]
    comparisons = [c["id"] for c in summary["comparisons"]]
    assert comparisons == ["pre_post", "pre_follow_up", "post_follow_up"]
    rows = summary["rows"]
    groups = {
        ("all", "all"),
        *(("agency", a) for a in ("mfa", "mia", "prosecutor", "courts", "border", "customs")),
    }
    skills = {"awareness", "detection", "investigation", "prosecution", "cooperation", "total"}
    keys = {(r["measure"], r["comparison"], r["breakdown"], r["group"], r["skill"]) for r in rows}
    assert {
        (m, c, b, g, s)
        for m in ("knowledge", "confidence", "dont_know")
        for c in comparisons
        for b, g in groups
        for s in skills
    } <= keys
    assert {r["breakdown"] for r in rows} == {"all", "agency", "pr_sex", "pr_role"}
    everyone = next(
        r
        for r in rows
        if (r["measure"], r["comparison"], r["breakdown"], r["skill"])
        == ("knowledge", "pre_post", "all", "total")
    )
    for field in (
        "from_mean",
        "to_mean",
        "mean_gain",
        "gain_ci_low",
        "gain_ci_high",
        "t_statistic",
        "t_df",
        "t_pvalue",
        "p_holm",
        "wilcoxon_pvalue",
        "wilcoxon_method",
        "rank_biserial",
        "cohens_dz",
        "dz_ci_low",
        "dz_ci_high",
        "d_av",
        "hedges_gz",
        "normalized_gain",
        "mean_normalized_gain",
        "n_improved",
        "pass_to_share",
    ):
        assert everyone[field] is not None, field
    assert everyone["withheld"] == {} and everyone["holm_family"] == "confirmatory"
    assert everyone["gain_ci_low"] < everyone["mean_gain"] < everyone["gain_ci_high"]
    assert (
        everyone["n_paired"]
        == everyone["n_improved"] + everyone["n_unchanged"] + everyone["n_declined"]
    )
    assert not any(isinstance(v, float) and not math.isfinite(v) for r in rows for v in r.values())
    for row in rows:
        if row["withheld"]:
            assert row["from_mean"] is None and row["t_pvalue"] is None
            assert set(row["withheld"].values()) <= {"small_group", "complementary"}


async def test_disclosure_audit_and_attrition(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        audit = (await client.get(f"{BASE}/disclosure", headers=bearer(tokens["evaluator"]))).json()
        attrition = await client.get(f"{BASE}/attrition", headers=bearer(tokens["evaluator"]))
    assert audit["verified"] is True
    assert audit["published"] > 0 and audit["withheld"] >= 0
    assert "rank test" in audit["method"]
    body = attrition.json()
    later = {r["later_phase"] for r in body["rows"]}
    assert later == {"post", "follow_up"}
    exactly = {
        c["phases"]: c["n"]
        for c in body["phase_counts"]
        if (c["breakdown"], c["kind"]) == ("all", "exactly")
    }
    assert sum(exactly.values()) == 60


async def test_summary_csv_matches_the_json(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        as_json = (await client.get(f"{BASE}/summary", headers=bearer(tokens["evaluator"]))).json()
        as_csv = await client.get(f"{BASE}/summary.csv", headers=bearer(tokens["evaluator"]))
    assert as_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(parsed) == len(as_json["rows"])
    assert list(parsed[0])[:7] == [
        "measure",
        "comparison",
        "from_phase",
        "to_phase",
        "breakdown",
        "group",
        "skill",
    ]
    for from_csv, from_json in zip(parsed, as_json["rows"], strict=True):
        for field in ("measure", "comparison", "breakdown", "group", "skill"):
            assert from_csv[field] == from_json[field]
        for field in ("mean_gain", "t_pvalue", "cohens_dz", "d_av", "n_paired"):
            if from_json[field] is None:
                assert from_csv[field] == ""
            else:
                assert float(from_csv[field]) == pytest.approx(from_json[field], abs=1e-12)
        reasons = set(from_json["withheld"].values())
        assert from_csv["withheld"] == (reasons.pop() if reasons else "")


@pytest.mark.backends
async def test_scores_csv_is_pseudonymous(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(f"{BASE}/scores.csv", headers=bearer(tokens["analyst"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert set(rows[0]) == {
        "participant",
        "agency",
        "phase",
        "measure",
        "skill",
        "score",
        "scoring",
    }
    assert {r["participant"] for r in rows} <= {str(n) for n in range(1, 61)}
    assert "total" in {r["skill"] for r in rows}
    assert {r["phase"] for r in rows} == {"pre", "post", "follow_up"}
    assert {r["measure"] for r in rows} == {"knowledge", "confidence", "dont_know"}


async def test_report_page_needs_login_and_login_sets_a_strict_cookie(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        anonymous = await client.get(f"/courses/{COURSE}/report", follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
        page = await client.get("/login")
        csrf = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
        wrong = await client.post("/login", data={"token": "nope", "_csrf_token": csrf})
        assert wrong.status_code == 401
        login = await client.post(
            "/login",
            data={"token": tokens["evaluator"], "_csrf_token": csrf},
            follow_redirects=False,
        )
        assert login.status_code == 303
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        report = await client.get(f"/courses/{COURSE}/report")
        assert report.status_code == 200
        assert "<script" not in report.text.lower()
        xlsx = await client.get(f"{BASE}/report.xlsx")  # the cookie serves the downloads too
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_the_report_has_a_heat_map_for_every_breakdown(cohort) -> None:
    """Agency by skill, and each breakdown item (sex, role) by skill, for every measure."""
    settings, tokens = cohort
    auth = bearer(tokens["evaluator"])
    async with AsyncTestClient(app=create_app(settings)) as client:
        summary = (await client.get(f"{BASE}/summary", headers=auth)).json()
        html = (await client.get(f"/courses/{COURSE}/report", headers=auth)).text
    breakdowns = {row["breakdown"] for row in summary["rows"]} - {"all"}
    assert {"agency", "pr_sex", "pr_role"} <= breakdowns
    shown = set(re.findall(r'<table id="heat-([\w-]+)" class="data heatmap">', html))
    assert shown == {
        f"{breakdown}-{measure['id']}"
        for breakdown in breakdowns
        for measure in summary["measures"]
    }


def test_database_holds_no_code_or_token_in_clear(cohort) -> None:
    settings, tokens = cohort
    codes = commands.issue_codes(settings, COURSE, 20, None, None, None)
    raw = b"".join(path.read_bytes() for path in settings.db_path.parent.glob("evalsvc.sqlite3*"))
    for code in codes:
        assert code.encode() not in raw and code.replace("-", "").encode() not in raw
    for role in ("evaluator", "analyst"):
        assert tokens[role].encode() not in raw


@pytest.fixture
def cohort_and_code(cohort):
    settings, tokens = cohort
    (code,) = commands.issue_codes(settings, COURSE, 1, "mfa", None, None)
    return settings, tokens, code


@pytest.mark.backends
async def test_cached_report_follows_new_submissions(cohort_and_code) -> None:
    import uuid

    from evalsvc.catalog import load_paths
    from evalsvc.demo import synthetic_answers
    from tests.conftest import BUNDLED_SURVEYS

    settings, tokens, code = cohort_and_code
    course = load_paths([BUNDLED_SURVEYS]).courses[COURSE]
    answers = synthetic_answers(course, "pre", __import__("random").Random(3), {})

    def n_from(summary: dict) -> int:
        return next(
            r["n_from"]
            for r in summary["rows"]
            if (r["measure"], r["comparison"], r["breakdown"], r["skill"])
            == ("knowledge", "pre_post", "all", "total")
        )

    app = create_app(settings)
    cache = app.state.report_cache
    async with AsyncTestClient(app=app) as client:
        auth = bearer(tokens["evaluator"])
        before = (await client.get(f"{BASE}/summary", headers=auth)).json()
        await client.get(f"{BASE}/items", headers=auth)
        await client.get(f"{BASE}/summary.csv", headers=auth)
        assert cache.computed == 1, "unchanged data: one computation serves every request"
        body = {
            "submission_id": str(uuid.uuid4()),
            "phase": "pre",
            "code": code,
            "answers": answers,
        }
        assert (await client.post(f"{BASE}/responses", json=body)).status_code == 201
        after = (await client.get(f"{BASE}/summary", headers=auth)).json()
        assert cache.computed == 2
    assert n_from(after) == n_from(before) + 1


def test_gc_pauses_overlap_and_the_last_one_restores_it() -> None:
    import gc

    from evalsvc.reports import _gc_paused

    assert gc.isenabled()
    first, second = _gc_paused(), _gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first one out leaves the other report paused
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


# -- token scopes ---------------------------------------------------------------------------

EVALUATOR_PATHS = (
    "summary",
    "items",
    "reliability",
    "feedback",
    "summary.csv",
    "items.csv",
    "report.xlsx",
    "scores.csv",
    "responses.csv",
)


def csrf_of(html: str) -> str:
    return html.split('name="_csrf_token" value="')[1].split('"')[0]


async def log_in(client: AsyncTestClient, token: str):
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"token": token, "_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


@pytest.fixture
def scoped(settings):
    """Analyst tokens for the test courses: one per course, both, and one for everything."""
    from tests.conftest import run_cli

    def token(*courses: str) -> str:
        flags = [arg for course in courses for arg in ("--course", course)]
        made = run_cli(settings, "token", "create", "--role", "analyst", "--name", "n", *flags)
        assert made.returncode == 0, made.stderr
        return made.stdout.splitlines()[-1]

    return settings, {
        "tiny": token("tiny"),
        "selfgen": token("tiny-selfgen"),
        "both": token("tiny", "tiny-selfgen"),
        "all": token(),
    }


async def test_a_token_outside_its_courses_gets_404_like_an_unknown_course(scoped) -> None:
    settings, tokens = scoped
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in EVALUATOR_PATHS:
            inside = await client.get(
                f"/api/v1/courses/tiny/{path}", headers=bearer(tokens["tiny"])
            )
            assert inside.status_code == 200, (path, inside.text)
            outside = await client.get(
                f"/api/v1/courses/tiny-selfgen/{path}", headers=bearer(tokens["tiny"])
            )
            unknown = await client.get(
                f"/api/v1/courses/nowhere/{path}", headers=bearer(tokens["tiny"])
            )
            assert outside.status_code == unknown.status_code == 404, path
            assert outside.json() == {
                **unknown.json(),
                "message": unknown.json()["message"].replace("nowhere", "tiny-selfgen"),
            }
            everything = await client.get(
                f"/api/v1/courses/tiny-selfgen/{path}", headers=bearer(tokens["all"])
            )
            assert everything.status_code == 200, path
        # the report page, logged in with the one-course token
        await log_in(client, tokens["tiny"])
        assert (await client.get("/courses/tiny/report")).status_code == 200
        page_outside = await client.get("/courses/tiny-selfgen/report", headers=HTML)
        page_unknown = await client.get("/courses/nowhere/report", headers=HTML)
        assert page_outside.status_code == page_unknown.status_code == 404
        assert page_outside.text == page_unknown.text.replace("nowhere", "tiny-selfgen")
        # participants still see every course
        listing = (await client.get("/api/v1/courses")).json()
        assert {course["id"] for course in listing} == {"tiny", "tiny-selfgen", "waves"}


HTML = {"accept": "text/html"}


@pytest.mark.parametrize(
    ("who", "lands_on", "listed"),
    [
        ("tiny", "/courses/tiny/report", None),
        ("selfgen", "/courses/tiny-selfgen/report", None),
        ("both", "/courses", ["tiny", "tiny-selfgen"]),
        ("all", "/courses", ["tiny", "tiny-selfgen", "waves"]),
    ],
)
async def test_after_login_the_courses_of_the_token_or_its_only_course(
    scoped, who: str, lands_on: str, listed: list[str] | None
) -> None:
    settings, tokens = scoped
    async with AsyncTestClient(app=create_app(settings)) as client:
        login = await log_in(client, tokens[who])
        assert login.status_code == 303 and login.headers["location"] == lands_on
        if listed is not None:
            page = await client.get(lands_on)
            assert page.status_code == 200
            links = [part.split('"')[0] for part in page.text.split('href="/courses/')[1:]]
            assert links == [f"{course}/report?lang=en" for course in listed]


async def test_a_scoped_token_lists_only_its_courses(settings) -> None:
    from evalsvc.catalog import load_paths

    courses = load_paths([settings.surveys_path]).courses
    assert {"tiny", "tiny-selfgen"} <= set(courses)
    _, token = await anyio.to_thread.run_sync(
        commands.create_token, settings, "evaluator", "one", ["tiny-selfgen"]
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await log_in(client, token)
        page = await client.get("/courses")
    assert "/courses/tiny-selfgen/report" in page.text
    assert "/courses/tiny/report" not in page.text


def test_token_create_refuses_an_unknown_course_and_lists_scopes(settings) -> None:
    from tests.conftest import run_cli

    refused = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "x",
                      "--course", "nowhere")  # fmt: skip
    assert refused.returncode == 1 and "no course 'nowhere'" in refused.stderr
    made = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "x",
                   "--course", "tiny")  # fmt: skip
    assert "(courses tiny)" in made.stdout
    listed = run_cli(settings, "token", "list")
    assert "\tcourses tiny\t" in listed.stdout


# -- sessions ---------------------------------------------------------------------------------


def live_session(settings, session_id: str):
    """The token of a live session, read through the storage port (None: it has ended)."""
    import datetime as dt

    from evalsvc.domain.codes import session_hash
    from evalsvc.storage.records import timestamp
    from tests.conftest import through_port

    now = timestamp(dt.datetime.now(dt.UTC))
    id_hash = session_hash(settings.secret_key, session_id)
    return through_port(settings, lambda db: db.token_by_session(id_hash, now))


def session_rows(settings) -> list[tuple]:
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        return conn.execute(
            "SELECT id_hash, token_id, created_at, expires_at FROM sessions"
        ).fetchall()


async def test_the_session_cookie_is_a_random_id_kept_only_as_a_keyed_hash(cohort) -> None:
    import datetime as dt

    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        login = await log_in(client, tokens["evaluator"])
        session_id = client.cookies.get("evalsvc_session")
        assert session_id and session_id != tokens["evaluator"]
        assert "max-age=43200" in login.headers["set-cookie"].lower()  # 12 hours
        assert (await client.get(f"/courses/{COURSE}/report")).status_code == 200
    ((id_hash, token_id, created, expires),) = session_rows(settings)
    assert token_id == tokens["eva_id"] and id_hash != session_id.encode()
    raw = b"".join(path.read_bytes() for path in settings.db_path.parent.glob("evalsvc.sqlite3*"))
    assert session_id.encode() not in raw
    lasting = dt.datetime.fromisoformat(expires) - dt.datetime.fromisoformat(created)
    assert lasting == dt.timedelta(hours=12)


@pytest.mark.backends
async def test_logout_ends_the_session_on_the_server(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        await log_in(client, tokens["evaluator"])
        session_id = client.cookies.get("evalsvc_session")
        assert (await client.get(f"{BASE}/summary")).status_code == 200
        await client.get("/logout", follow_redirects=False)
        assert live_session(settings, session_id) is None
        client.cookies.set("evalsvc_session", session_id)  # a copy of the cookie, replayed
        replayed = await client.get(f"/courses/{COURSE}/report", follow_redirects=False)
        assert replayed.status_code == 303 and replayed.headers["location"] == "/login"
        assert (await client.get(f"{BASE}/summary")).status_code == 401


@pytest.mark.backends
async def test_revoking_the_token_ends_its_sessions(cohort) -> None:
    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        await log_in(client, tokens["evaluator"])
        session_id = client.cookies.get("evalsvc_session")
        assert live_session(settings, session_id) is not None
        await anyio.to_thread.run_sync(commands.revoke_token, settings, tokens["eva_id"])
        assert (await client.get(f"{BASE}/summary")).status_code == 401
    assert live_session(settings, session_id) is None


async def test_an_expired_session_no_longer_opens_anything(cohort) -> None:
    import contextlib
    import sqlite3

    settings, tokens = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        await log_in(client, tokens["evaluator"])
        assert (await client.get(f"{BASE}/summary")).status_code == 200
        with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
            conn.execute("UPDATE sessions SET expires_at = '2024-03-12T00:00:00.000Z'")
            conn.commit()
        assert (await client.get(f"{BASE}/summary")).status_code == 401
        expired = await client.get(f"/courses/{COURSE}/report", follow_redirects=False)
        assert expired.headers["location"] == "/login"


async def test_session_hours_are_configurable(cohort) -> None:
    import msgspec

    from evalsvc.settings import settings_from_env

    assert settings_from_env({"EVALSVC_SESSION_HOURS": "2.5"}).session_hours == 2.5
    settings, tokens = cohort
    two_hours = msgspec.structs.replace(settings, session_hours=2)
    async with AsyncTestClient(app=create_app(two_hours)) as client:
        login = await log_in(client, tokens["evaluator"])
    assert "max-age=7200" in login.headers["set-cookie"].lower()
