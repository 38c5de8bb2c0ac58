#!/usr/bin/env python3
"""The peer of scripts/bench_submit.py: the service a team would write with FastAPI,
pydantic v2 and aiosqlite, honouring evalsvc's participant contract.

Same bodies as POST /api/v1/courses/{course}/responses, and the same rules:

- the code is normalised and hashed with evalsvc's keyed HMAC and looked up in the
  `codes` table of the database given (a copy of evalsvc's, made by the benchmark);
  an unknown code is 403;
- answers are checked against the course's items of the phase (known item, type,
  option, scale, range, text length, required items): 422 with one error per item;
- one submission per code and phase (409), and a retry with the same submission_id
  and body gets the first receipt again (200; another body under it is 422);
- a 201 is sent only after COMMIT (WAL, synchronous=FULL, as evalsvc).

Two ways to write, chosen by --mode:
  per-request   every submission its own transaction (one writer connection, a lock)
  group-commit  a single writer task takes whatever is queued and commits it as one
                transaction, answering each request after that COMMIT

Also POST .../responses/check (everything but storage) and GET /livez.
Installed by the `bench` extra: pip install -e '.[bench]'.

    .venv/bin/python scripts/peer_fastapi.py --db peer.sqlite3 --port 18100 \
        --mode group-commit --secret ... [--surveys surveys]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import math
import secrets
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from evalsvc.catalog import load_paths  # noqa: E402
from evalsvc.domain.codes import code_hash, normalize_code  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS peer_submissions (
    submission_id TEXT PRIMARY KEY,
    body_hash BLOB NOT NULL,
    receipt TEXT NOT NULL,
    course TEXT NOT NULL,
    phase TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    agency TEXT,
    lang TEXT,
    answers TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (course, code_hash, phase)
)
"""

Answer = StrictBool | StrictInt | StrictFloat | StrictStr | list[StrictStr]


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    submission_id: uuid.UUID
    phase: str
    code: str | None = None
    agency: str | None = None
    lang: str | None = None
    answers: dict[str, Answer | None] = {}


class Receipt(BaseModel):
    submission_id: str
    receipt: str


@dataclass(frozen=True)
class ItemRule:
    kind: str
    required: bool
    options: frozenset[str]
    low: float | None
    high: float | None
    text_limit: int


def phase_rules(surveys: Path, course_id: str) -> dict[str, dict[str, ItemRule]]:
    """Per phase, per item: what an answer may be (built once at start-up)."""
    course = load_paths([surveys]).courses[course_id]
    rules: dict[str, dict[str, ItemRule]] = {}
    for phase in course.phases:
        table: dict[str, ItemRule] = {}
        for item in course.items_in_phase(phase.id):
            scale = course.scale(item.scale)
            low, high = (scale.min, scale.max) if scale is not None else (item.min, item.max)
            table[item.id] = ItemRule(
                kind=item.kind,
                required=item.required,
                options=frozenset(item.option_ids),
                low=low,
                high=high,
                text_limit=item.text_limit,
            )
        rules[phase.id] = table
    return rules


def check_answer(rule: ItemRule, value: Any) -> str | None:
    """The problem with one answer, or None."""
    kind = rule.kind
    if kind == "multiple_choice":
        if isinstance(value, str):  # one ticked box, as evalsvc accepts it
            value = [value]
        if not isinstance(value, list) or not value:
            return "must be a non-empty list of options"
        return None if all(v in rule.options for v in value) else "unknown option"
    if kind in ("single_choice", "true_false"):
        if kind == "true_false" and isinstance(value, bool):
            return None
        return None if isinstance(value, str) and value in rule.options else "unknown option"
    if kind in ("likert", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if not math.isfinite(value):
            return "must be finite"
        if kind == "likert" and value != int(value):
            return "must be a whole point on the scale"
        if (rule.low is not None and value < rule.low) or (
            rule.high is not None and value > rule.high
        ):
            return "out of range"
        return None
    if not isinstance(value, str):
        return "must be text"
    return None if len(value.strip()) <= rule.text_limit else "too long"


def check_answers(rules: dict[str, ItemRule], answers: dict[str, Any]) -> dict[str, str]:
    errors = {key: "unknown item" for key in answers if key not in rules}
    for item_id, rule in rules.items():
        value = answers.get(item_id)
        if value is None or value == "" or value == []:
            if rule.required:
                errors[item_id] = "required"
            continue
        problem = check_answer(rule, value)
        if problem is not None:
            errors[item_id] = problem
    return errors


class Outcome(BaseModel):
    status: int
    receipt: Receipt | None = None
    detail: str = ""


async def store_one(
    conn: aiosqlite.Connection, course: str, data: SubmissionIn, hashed: bytes, agency: str | None
) -> Outcome:
    """Inside the caller's transaction: a receipt (new or the first one), or a refusal."""
    body = data.model_dump_json(exclude={"submission_id"}).encode()
    body_hash = hashlib.sha256(body).digest()
    sid = str(data.submission_id)
    cursor = await conn.execute(
        "SELECT body_hash, receipt FROM peer_submissions WHERE submission_id = ?", (sid,)
    )
    row = await cursor.fetchone()
    if row is not None:
        if bytes(row[0]) != body_hash:
            return Outcome(status=422, detail="submission_id reused for another body")
        return Outcome(status=200, receipt=Receipt(submission_id=sid, receipt=row[1]))
    receipt = secrets.token_hex(6).upper()
    try:
        await conn.execute(
            "INSERT INTO peer_submissions (submission_id, body_hash, receipt, course, phase,"
            " code_hash, agency, lang, answers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, body_hash, receipt, course, data.phase, hashed, agency, data.lang, body),
        )
    except sqlite3.IntegrityError:
        return Outcome(status=409, detail="this code has already been used for this phase")
    return Outcome(status=201, receipt=Receipt(submission_id=sid, receipt=receipt))


class Writer:
    """The one write connection, used per request or by the group-commit task."""

    def __init__(self, conn: aiosqlite.Connection, group_commit: bool) -> None:
        self.conn = conn
        self.group_commit = group_commit
        self.lock = asyncio.Lock()
        self.queue: asyncio.Queue[tuple[asyncio.Future[Outcome], tuple[Any, ...]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def store(self, *work: Any) -> Outcome:
        if self.group_commit:
            future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            self.queue.put_nowait((future, work))
            return await future
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                outcome = await store_one(self.conn, *work)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            return outcome

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty() and len(batch) < 256:
                batch.append(self.queue.get_nowait())
            outcomes: list[Outcome] = []
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                for _, work in batch:
                    outcomes.append(await store_one(self.conn, *work))
                await self.conn.execute("COMMIT")
            except Exception as exc:
                with contextlib.suppress(sqlite3.Error):
                    await self.conn.execute("ROLLBACK")
                for future, _ in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (future, _), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)


async def connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=5.0)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=FULL")
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn


def create_peer(db: Path, surveys: Path, course_id: str, secret: bytes, mode: str) -> FastAPI:
    rules = phase_rules(surveys, course_id)
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer_conn = await connect(db)
        await writer_conn.execute(SCHEMA)
        state["reader"] = await connect(db)
        writer = state["writer"] = Writer(writer_conn, group_commit=mode == "group-commit")
        if writer.group_commit:
            writer.task = asyncio.create_task(writer.run())
        try:
            yield
        finally:
            if writer.task is not None:
                writer.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer.task
            await state["reader"].close()
            await writer_conn.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    async def accept(course: str, data: SubmissionIn) -> tuple[bytes, str | None]:
        if course != course_id:
            raise HTTPException(404, "unknown course")
        table = rules.get(data.phase)
        if table is None:
            raise HTTPException(404, "unknown phase")
        normalized = normalize_code(data.code or "")
        hashed = code_hash(secret, course, normalized or (data.code or "")[:64])
        cursor = await state["reader"].execute(
            "SELECT agency FROM codes WHERE course = ? AND code_hash = ?", (course, hashed)
        )
        row = await cursor.fetchone()
        if row is None or normalized is None:
            raise HTTPException(403, "this code is not valid for this course")
        errors = check_answers(table, data.answers)
        if errors:
            raise HTTPException(422, {"fields": errors})
        return hashed, row[0] or data.agency

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.post("/api/v1/courses/{course}/responses/check")
    async def check(course: str, data: SubmissionIn) -> dict[str, bool]:
        await accept(course, data)
        return {"valid": True}

    @app.post("/api/v1/courses/{course}/responses", status_code=201)
    async def submit(course: str, data: SubmissionIn) -> JSONResponse:
        hashed, agency = await accept(course, data)
        outcome = await state["writer"].store(course, data, hashed, agency)
        if outcome.receipt is None:
            raise HTTPException(outcome.status, outcome.detail)
        return JSONResponse(outcome.receipt.model_dump(), status_code=outcome.status)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite file with a codes table")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("per-request", "group-commit"), required=True)
    parser.add_argument("--secret", required=True, help="evalsvc's secret key (EVALSVC_SECRET)")
    parser.add_argument("--surveys", type=Path, default=REPO / "surveys")
    parser.add_argument("--course", default="salw-nexus-kz-2024")
    args = parser.parse_args()
    app = create_peer(args.db, args.surveys, args.course, args.secret.encode(), args.mode)
    # the same server configuration as `evalsvc serve`: one worker, uvloop and
    # httptools when installed (uvicorn[standard])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="auto",
        http="auto",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
