"""Bad input, attacks and faults: each gets a clear 4xx or 503 and changes nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app
from tests.conftest import through_port

RESPONSES = "/api/v1/courses/tiny/responses"


def valid_body(code: str) -> dict:
    return {
        "submission_id": str(uuid.uuid4()),
        "phase": "pre",
        "code": code,
        "lang": "en",
        "answers": {"sa_detect": 3, "k1": "b"},
    }


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


# Each case: (id, how to turn a valid body into the bad request's bytes, expected status)
BAD_INPUT = [
    ("malformed-json", lambda b: b'{"submission_id": ', 400),
    ("not-an-object", lambda b: b"[1, 2, 3]", 400),
    ("wrong-type-phase", lambda b: raw(b | {"phase": 7}), 400),
    ("wrong-type-answers", lambda b: raw(b | {"answers": ["k1", "b"]}), 400),
    ("bad-uuid", lambda b: raw(b | {"submission_id": "not-a-uuid"}), 400),
    ("unknown-top-level-field", lambda b: raw(b | {"admin": True}), 400),
    ("unknown-item", lambda b: raw(b | {"answers": {"sa_detect": 3, "k99": "a"}}), 422),
    ("unknown-option", lambda b: raw(b | {"answers": {"sa_detect": 3, "k1": "zz"}}), 422),
    ("likert-out-of-range", lambda b: raw(b | {"answers": {"sa_detect": 6}}), 422),
    ("likert-bool", lambda b: raw(b | {"answers": {"sa_detect": True}}), 422),
    ("likert-huge-int", lambda b: raw(b | {"answers": {"sa_detect": 10**40}}), 422),
    ("oversize-body", lambda b: raw(b | {"answers": {"fb_text": "x" * 70_000}}), 413),
    (
        "huge-string-under-limit",
        lambda b: raw(b | {"answers": {"sa_detect": 3, "k1": "y" * 60_000}}),
        422,
    ),
    ("deep-nesting", lambda b: raw(b)[:-2] + b', "k2": ' + b"[" * 5000 + b"]" * 5000 + b"}}", 400),
    ("lone-surrogate", lambda b: raw(b).replace(b'"lang": "en"', b'"lang": "\\ud800"'), 400),
    ("nul-in-text", lambda b: raw(b | {"answers": {"sa_detect": 3, "k1": "b\u0000"}}), 422),
    ("rtl-override-code", lambda b: raw(b | {"code": "\u202eABCD-EFGH"}), 403),
    (
        "sql-injection-code",
        lambda b: raw(b | {"code": "' OR 1=1; DROP TABLE submissions; --"}),
        403,
    ),
    ("sql-injection-phase", lambda b: raw(b | {"phase": "pre'; DROP TABLE codes; --"}), 404),
    (
        "html-in-option",
        lambda b: raw(b | {"answers": {"sa_detect": 3, "k1": "<script>alert(1)</script>"}}),
        422,
    ),
    ("utf16-body", lambda b: json.dumps(b).encode("utf-16"), 400),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("make", "status"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    settings, issue, make, status
) -> None:
    (code,) = issue(count=1, agency="border")
    body = valid_body(code)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post(
            RESPONSES, content=make(body), headers={"content-type": "application/json"}
        )
        assert response.status_code == status, response.text
        error = response.json()
        assert set(error) == {"error", "message", "fields"} and error["message"]
        # the same code still works: nothing was half-stored by the bad request
        assert (await client.post(RESPONSES, json=valid_body(code))).status_code == 201
    assert through_port(settings, lambda db: db.count_submissions()) == 1
    assert len(through_port(settings, lambda db: db.codes_to_share())) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/courses/../../etc/passwd",
        "/api/v1/courses/tiny%00/questionnaires/pre",
        "/api/v1/courses/tiny/questionnaires/..%2Fpost",
        "/c/..%2F..%2Fsurveys/pre",
        "/static/..%2F..%2Fsettings.py",
        "/static/../app.py",
    ],
)
async def test_path_traversal_finds_nothing(client, path) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


@pytest.mark.anyio
async def test_a_failing_commit_fails_its_whole_batch_and_the_retry_is_stored(tmp_path) -> None:
    from evalsvc.catalog import load_paths
    from evalsvc.domain.codes import code_hash
    from evalsvc.errors import StorageUnavailable
    from evalsvc.intake import Intake
    from evalsvc.storage.sqlite import SQLiteStorage
    from tests.conftest import TEST_SECRET, TEST_SURVEYS

    course = load_paths([TEST_SURVEYS]).courses["tiny"]
    db = SQLiteStorage(tmp_path / "db.sqlite3")
    await db.open()
    intake = Intake({"tiny": course}, db, TEST_SECRET)
    codes = ["AAAA-AAA1", "AAAA-AAA2", "AAAA-AAA3"]
    await db.add_codes(
        "tiny", [code_hash(TEST_SECRET, "tiny", c.replace("-", "")) for c in codes], "border"
    )

    async def violates_at_commit(conn) -> None:
        # a deferred foreign key fails only at COMMIT, taking the whole batch with it:
        # every submission stored while the trigger exists breaks one
        await conn.execute(
            "CREATE TABLE boom (participant INTEGER REFERENCES participants (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )
        await conn.execute(
            "CREATE TRIGGER boom AFTER INSERT ON submissions"
            " BEGIN INSERT INTO boom VALUES (424242); END"
        )

    async def defused(conn) -> None:
        await conn.execute("DROP TRIGGER boom")

    async def submit(code: str, submission_id: uuid.UUID):
        identity = await intake.identify(course, code, None)
        return await intake.store(
            course, "pre", submission_id, identity, "border", "en", {"k1": "b"}
        )

    ids = [uuid.uuid4() for _ in codes]
    identities = [await intake.identify(course, c, None) for c in codes]
    try:
        await db.write(violates_at_commit)
        # queued in one go, so the writer takes them as one batch
        outcomes = await asyncio.gather(
            *(
                intake.store(course, "pre", i, who, "border", "en", {"k1": "b"})
                for i, who in zip(ids, identities, strict=True)
            ),
            return_exceptions=True,
        )
        assert all(isinstance(o, StorageUnavailable) for o in outcomes), outcomes
        assert await db.count_submissions() == 0
        await db.write(defused)
        retried = [await submit(c, i) for c, i in zip(codes, ids, strict=True)]
        assert all(r.created for r in retried)
        assert await db.healthy()
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        stored = {r[0] for r in conn.execute("SELECT submission_id FROM submissions")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stored == {str(i) for i in ids}


@pytest.mark.e2e
def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    settings, issue, server_factory, tmp_path
):
    """Property-based requests from the served OpenAPI schema, with a fixed seed."""
    schemathesis = Path(sys.executable).parent / "schemathesis"
    assert schemathesis.exists(), "schemathesis is part of the test extra"
    issue(count=3, agency="border")
    _, token = commands.create_token(settings, "analyst", "schemathesis")
    server = server_factory(settings).start()
    config = tmp_path / "schemathesis.toml"
    config.write_text('[parameters]\n"path.course_id" = "tiny"\n"path.phase" = "pre"\n')
    result = subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(config),
            "run",
            f"{server.url}/schema/openapi.json",
            "--checks",
            "all",
            "--seed",
            "20240312",
            "--max-examples",
            "15",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in result.stdout


SECURITY_HEADERS = (
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
)


@pytest.mark.anyio
async def test_every_response_carries_the_security_headers(settings) -> None:
    """Error handlers' answers too: 404, 405, 413, 422, 500, as JSON and as pages."""
    from litestar import get

    @get("/test-only/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("a bug")

    app = create_app(settings)
    app.register(boom)
    html = {"accept": "text/html"}
    async with AsyncTestClient(app=app) as client:
        answers = {
            "200 page": await client.get("/c/tiny/pre"),
            "200 static": await client.get("/static/style.css"),
            "200 json": await client.get("/healthz"),
            "404 json": await client.get("/api/v1/courses/nope"),
            "404 page": await client.get("/c/nope/pre", headers=html),
            "404 no route": await client.get("/no/such/path", headers=html),
            "405": await client.delete("/api/v1/courses"),
            "413": await client.post(RESPONSES, content=b"x" * 70_000),
            "422": await client.post(
                "/api/v1/courses/tiny-selfgen/responses", json=valid_body("") | {"code": None}
            ),
            "400": await client.post(RESPONSES, content=b"{"),
            "500": await client.get("/test-only/boom"),
            "500 page": await client.get("/test-only/boom", headers=html),
            "403 csrf": await client.post("/c/tiny/pre", data={"k1": "a"}, headers=html),
        }
    for name, response in answers.items():
        assert name.split()[0] == str(response.status_code), (name, response.status_code)
        missing = [h for h in SECURITY_HEADERS if h not in response.headers]
        assert not missing, (name, missing)
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert len(response.headers.get_list("content-security-policy")) == 1, name
