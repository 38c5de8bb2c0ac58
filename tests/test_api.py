"""The participants' JSON API, in process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from evalsvc.catalog import load_paths
from tests.conftest import TEST_SURVEYS, through_port

pytestmark = [pytest.mark.anyio, pytest.mark.backends]

RESPONSES = "/api/v1/courses/tiny/responses"


def body(code: str, phase: str = "pre", **overrides) -> dict:
    answers = {"sa_detect": 3, "sa_coop": 2, "k1": "b", "k2": "true", "k3": ["a"], "k4": "b"}
    if phase == "post":
        answers |= {"fb_useful": 5, "fb_text": "More exercises"}
    return {
        "submission_id": str(uuid.uuid4()),
        "phase": phase,
        "code": code,
        "agency": "customs",
        "lang": "ru",
        "answers": answers,
    } | overrides


def stored(settings) -> int:
    """How many submissions the database holds (read through the storage port)."""
    return through_port(settings, lambda db: db.count_submissions())


def participants(settings, course: str = "tiny") -> dict[int, str]:
    """Participant number -> (first) agency, of those who submitted."""
    rows = through_port(settings, lambda db: db.score_rows(course))
    return {row.participant: row.agency for row in rows}


def mismatched(settings, course: str = "tiny") -> int:
    """Submissions whose agency differs from the participant's first one."""

    async def read(db) -> list:
        return [row async for row in db.iter_responses(course)]

    return sum(row.agency_mismatch for row in through_port(settings, read))


async def test_courses_and_questionnaire(client) -> None:
    listing = (await client.get("/api/v1/courses")).json()
    assert {c["id"] for c in listing} == {"tiny", "tiny-selfgen", "waves"}
    course = (await client.get("/api/v1/courses/tiny")).json()
    assert [a["id"] for a in course["agencies"]] == ["border", "customs", "courts"]
    assert [s["id"] for s in course["skills"]] == ["detection", "cooperation"]
    view = (await client.get("/api/v1/courses/tiny/questionnaires/pre?lang=ru")).json()
    items = {i["id"]: i for s in view["sections"] for i in s["items"]}
    assert list(items) == ["sa_detect", "sa_coop", "k1", "k2", "k3", "k4"]
    assert [o["id"] for o in items["k1"]["options"]] == ["a", "b", "c", "dont_know"]
    assert items["k1"]["text"].startswith("Какую маркировку")
    assert items["sa_detect"]["scale"]["min"] == 1 and items["sa_detect"]["scale"]["max"] == 5


async def test_unknown_course_and_phase_are_404_json(client) -> None:
    for path in ("/api/v1/courses/nope", "/api/v1/courses/tiny/questionnaires/mid"):
        response = await client.get(path)
        assert response.status_code == 404
        assert set(response.json()) == {"error", "message", "fields"}


async def test_answer_key_never_reaches_a_participant(client) -> None:
    course = load_paths([TEST_SURVEYS]).courses["tiny"]
    secrets_ = [i.source for i in course.items if i.source] + ['"correct"', '"points"', "source"]
    for phase in ("pre", "post"):
        for lang in ("en", "ru", "kk"):
            text = (
                await client.get(f"/api/v1/courses/tiny/questionnaires/{phase}?lang={lang}")
            ).text
            for secret in secrets_:
                assert secret not in text
    for path in ("/api/v1/courses", "/api/v1/courses/tiny", "/schema"):
        text = (await client.get(path)).text
        assert "UN Firearms Protocol, art. 8" not in text


async def test_submit_then_retry_then_conflicts(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (code,) = issue(count=1, agency="border")
    async with AsyncTestClient(app=create_app(settings)) as client:
        first = body(code)
        created = await client.post(RESPONSES, json=first)
        assert created.status_code == 201, created.text
        receipt = created.json()
        assert set(receipt) == {"submission_id", "receipt", "received_at"}

        again = await client.post(RESPONSES, json=first)
        assert again.status_code == 200
        assert again.json() == receipt

        changed = await client.post(RESPONSES, json=first | {"answers": {"sa_detect": 5}})
        assert changed.status_code == 422
        assert changed.json()["error"] == "submission_id_reused"

        second = await client.post(RESPONSES, json=body(code))
        assert second.status_code == 409
        assert second.json()["error"] == "already_submitted"

        post = await client.post(RESPONSES, json=body(code.lower().replace("-", " "), "post"))
        assert post.status_code == 201, "codes are read case- and separator-insensitively"
    assert stored(settings) == 2
    # the code is bound to border: its agency wins over the body's "customs"
    assert list(participants(settings).values()) == ["border"]


async def test_post_with_other_agency_is_kept_and_flagged(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (code,) = issue(count=1)
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.post(RESPONSES, json=body(code, agency="courts"))).status_code == 201
        post = await client.post(RESPONSES, json=body(code, "post", agency="customs"))
        assert post.status_code == 201
    assert mismatched(settings) == 1
    assert list(participants(settings).values()) == ["courts"]


async def test_unknown_and_foreign_codes_answer_alike(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (foreign,) = issue(count=1)
    async with AsyncTestClient(app=create_app(settings)) as client:
        unknown = await client.post(RESPONSES, json=body("ZZZZ-ZZZZ"))
        malformed = await client.post(RESPONSES, json=body("not a code"))
        assert unknown.status_code == malformed.status_code == 403
        assert unknown.json() == malformed.json()
        assert unknown.json()["error"] == "unknown_code"
        assert foreign  # issued for tiny, it works there
        assert (await client.post(RESPONSES, json=body(foreign))).status_code == 201


async def test_code_of_another_course_is_unknown(tmp_path, settings, issue) -> None:
    import shutil

    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    surveys = tmp_path / "surveys"
    shutil.copytree(TEST_SURVEYS / "tiny", surveys / "tiny")
    shutil.copytree(TEST_SURVEYS / "tiny", surveys / "other")
    other_toml = surveys / "other" / "course.toml"
    other_toml.write_text(other_toml.read_text().replace('id = "tiny"', 'id = "other"'))
    two = type(settings)(
        **{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "surveys_path": surveys}
    )
    (code_of_other,) = issue(course="other", count=1, agency="courts", s=two)
    async with AsyncTestClient(app=create_app(two)) as client:
        wrong = await client.post(RESPONSES, json=body(code_of_other))
        unknown = await client.post(RESPONSES, json=body("ZZZZ-ZZZZ"))
        assert wrong.status_code == unknown.status_code == 403
        assert wrong.json() == unknown.json()


async def test_bad_answers_get_a_message_per_item(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (code,) = issue(count=1, agency="border")
    async with AsyncTestClient(app=create_app(settings)) as client:
        bad = body(code, answers={"sa_detect": 9, "k1": "z", "k3": "a", "nope": 1})
        response = await client.post(RESPONSES, json=bad)
        assert response.status_code == 422
        fields = response.json()["fields"]
        assert set(fields) == {"sa_detect", "k1", "nope"}
        missing = await client.post(RESPONSES, json=body(code, answers={"k1": "b"}))
        assert missing.json()["fields"] == {"sa_detect": missing.json()["fields"]["sa_detect"]}
    assert stored(settings) == 0


async def test_agency_required_when_code_is_unbound(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (code,) = issue(count=1)
    async with AsyncTestClient(app=create_app(settings)) as client:
        no_agency = await client.post(RESPONSES, json=body(code, agency=None))
        assert no_agency.status_code == 422 and no_agency.json()["fields"] == {"agency": "required"}
        unknown = await client.post(RESPONSES, json=body(code, agency="navy"))
        assert unknown.json()["fields"] == {"agency": "unknown_agency"}


async def test_twenty_identical_concurrent_posts_leave_one_row(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    (code,) = issue(count=1, agency="courts")
    same = body(code)
    async with AsyncTestClient(app=create_app(settings)) as client:
        answers = await asyncio.gather(*(client.post(RESPONSES, json=same) for _ in range(20)))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200] * 19 + [201]
        assert len({r.json()["receipt"] for r in answers}) == 1

        conflicting = [body(code, "post") for _ in range(10)]
        answers = await asyncio.gather(*(client.post(RESPONSES, json=b) for b in conflicting))
        assert sorted(r.status_code for r in answers) == [201] + [409] * 9
    assert stored(settings) == 2


async def test_self_generated_codes_pair_pre_and_post(settings) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    url = "/api/v1/courses/tiny-selfgen/responses"
    async with AsyncTestClient(app=create_app(settings)) as client:
        pre = body(None, pairing={"mother": "М", "birthday": "07"})
        assert (await client.post(url, json=pre)).status_code == 201
        post = body(None, "post", pairing={"mother": " м ", "birthday": "7"})
        assert (await client.post(url, json=post)).status_code == 201
        again = body(None, "post", pairing={"mother": "м", "birthday": "7"})
        assert (await client.post(url, json=again)).status_code == 409
        incomplete = await client.post(url, json=body(None, pairing={"mother": "a"}))
        assert incomplete.status_code == 422
    assert list(participants(settings, "tiny-selfgen")) == [1]


async def test_failed_codes_are_throttled_before_any_lookup(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    limited = type(settings)(
        **{
            **{f: getattr(settings, f) for f in settings.__struct_fields__},
            "code_failures_per_minute": 3,
        }
    )
    (valid,) = issue(count=1, agency="border", s=limited)
    async with AsyncTestClient(app=create_app(limited)) as client:
        statuses = [
            (await client.post(RESPONSES, json=body(f"ZZZZ-ZZZ{i}"))).status_code for i in range(5)
        ]
        assert statuses == [403, 403, 403, 429, 429]
        throttled = await client.post(RESPONSES, json=body(valid))
        # a guesser over the limit must not learn that this code exists
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "too_many_code_attempts"
        assert 1 <= int(throttled.headers["retry-after"]) <= 61
    assert stored(limited) == 0


async def test_a_whole_course_behind_one_address_is_never_throttled(settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    codes = issue(count=60, agency="customs")
    async with AsyncTestClient(app=create_app(settings)) as client:
        answers = await asyncio.gather(*(client.post(RESPONSES, json=body(c)) for c in codes))
        assert [r.status_code for r in answers] == [201] * 60
        # a few typos among them do not stop the rest
        for i in range(5):
            assert (await client.post(RESPONSES, json=body(f"ZZZZ-ZZZ{i}"))).status_code == 403
        post = [body(c, "post") for c in codes]
        answers = await asyncio.gather(*(client.post(RESPONSES, json=b) for b in post))
        assert [r.status_code for r in answers] == [201] * 60


async def test_body_limit_and_malformed_json(client) -> None:
    huge = await client.post(RESPONSES, content=b'{"a": "' + b"x" * 70_000 + b'"}')
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    malformed = await client.post(RESPONSES, content=b"{bad json")
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"
    wrong_type = await client.post(RESPONSES, json={"submission_id": "x", "phase": 3})
    assert wrong_type.status_code == 400


async def test_healthz_schema_and_security_headers(client) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    schema = await client.get("/schema/openapi.json")
    assert (
        schema.status_code == 200
        and "/api/v1/courses/{course_id}/responses" in schema.json()["paths"]
    )
    assert "cdn" not in (await client.get("/schema")).text.lower()
    for header in (
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ):
        assert header in health.headers


async def test_bundled_course_serves_follow_up_and_does_not_apply(bundled_settings, issue) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app

    base = "/api/v1/courses/salw-nexus-kz-2024"
    (code,) = issue(course="salw-nexus-kz-2024", count=1, agency="courts", s=bundled_settings)
    async with AsyncTestClient(app=create_app(bundled_settings)) as client:
        views = {
            phase: (await client.get(f"{base}/questionnaires/{phase}?lang=ru")).json()
            for phase in ("pre", "post", "follow_up")
        }
        items = {
            phase: {i["id"]: i for s in view["sections"] for i in s["items"]}
            for phase, view in views.items()
        }
        # "does not apply" is offered, with its label, where the course asks for it only
        assert items["post"]["fb_exercises"]["not_applicable"] == {
            "id": "not_applicable",
            "text": "Ко мне не относится",
            "lang": "ru",
        }
        assert "not_applicable" not in items["post"]["fb_relevance"]
        # the follow-up asks the same test and self-assessment, then about application
        paired = {"knowledge", "self_assessment"}
        for phase in ("post", "follow_up"):
            assert [i for i, v in items[phase].items() if v["role"] in paired] == [
                i for i, v in items["pre"].items() if v["role"] in paired
            ]
        assert [s["id"] for s in views["follow_up"]["sections"]][-1] == "application"
        answers = {"fb_exercises": "not_applicable", "fb_relevance": 4}
        response = await client.post(
            f"{base}/responses", json=body(code, phase="post", answers=answers, agency=None)
        )
        assert response.status_code == 201, response.text
        refused = await client.post(
            f"{base}/responses/check",
            json=body(code, phase="post", answers={"fb_relevance": "not_applicable"}),
        )
        assert refused.status_code == 422
        assert refused.json()["fields"] == {
            "fb_relevance": refused.json()["fields"]["fb_relevance"]
        }


async def test_codes_pasted_with_invisible_or_full_width_characters_are_accepted(
    settings, issue
) -> None:
    from litestar.testing import AsyncTestClient

    from evalsvc.app import create_app
    from tests.test_codes import full_width

    first, second, third = issue(count=3, agency="border")
    async with AsyncTestClient(app=create_app(settings)) as client:
        for typed in (
            f"\u200b{first.replace('-', chr(0xA0))}\n",
            full_width(second),
            f"{third[:4]}\u2011{third[5:]}\u00a0",
        ):
            response = await client.post(RESPONSES, json=body(typed))
            assert response.status_code == 201, (typed, response.text)
