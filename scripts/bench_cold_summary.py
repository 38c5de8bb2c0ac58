#!/usr/bin/env python3
"""The cold summary from the database: SQLite, or PostgreSQL with --db.

Fills a fresh database (for PostgreSQL: a fresh schema of the given database,
dropped at the end) with a synthetic cohort of the bundled course through the
storage port (`Intake.store`, as the web forms store), then starts `evalsvc serve`
on it several times and times the first GET .../summary after each start: the
request that reads every submission from the database and computes the whole
report (every comparison, breakdown and the disclosure verifier). Warm requests
(the report reused while the data version stays) are timed too.

    .venv/bin/python scripts/bench_cold_summary.py [--participants 10000] [--starts 3]
    .venv/bin/python scripts/bench_cold_summary.py --db postgresql://user:pass@host/db

(scripts/bench_stats.py measures the statistics against pandas + scipy, and the
cold summary from SQLite; this script is the storage side, on either engine.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

from bench_submit import drop_schema, fresh_schema  # noqa: E402

from evalsvc.app import load_courses  # noqa: E402
from evalsvc.demo import synthetic_answers  # noqa: E402
from evalsvc.domain.answers import validate_answers  # noqa: E402
from evalsvc.domain.codes import (  # noqa: E402
    code_hash,
    new_code,
    new_token,
    normalize_code,
    token_hash,
)
from evalsvc.intake import Intake  # noqa: E402
from evalsvc.settings import Settings  # noqa: E402
from evalsvc.storage import Storage, open_storage  # noqa: E402

COURSE = "salw-nexus-kz-2024"
SECRET = "bench-cold-secret-0123456789abcdef0123456789"
CHUNK = 500
"""Submissions stored at once (the group commit takes them in batches)."""
STAYED = {"post": 0.92, "follow_up": 0.6}


async def fill(db: Storage, settings: Settings, participants: int, seed: int) -> int:
    course = load_courses(settings)[COURSE]
    intake = Intake({COURSE: course}, db, settings.secret_key)
    rng = random.Random(seed)
    codes: dict[str, None] = {}
    while len(codes) < participants:
        codes[new_code()] = None
    normalized = [normalize_code(code) or code for code in codes]
    hashes = [code_hash(settings.secret_key, COURSE, code) for code in normalized]
    for start in range(0, len(hashes), 5000):
        await db.add_codes(COURSE, hashes[start : start + 5000], None)
    agencies = course.agency_ids()
    work = []
    for index, code in enumerate(normalized):
        agency = agencies[index % len(agencies)]
        ability = rng.uniform(0.2, 0.7)
        for position, phase in enumerate(course.phase_ids()):
            if position and rng.random() > STAYED.get(phase, 0.9):
                continue
            level = {skill: ability + 0.15 * position for skill in course.skill_ids()}
            answers = validate_answers(
                course, phase, synthetic_answers(course, phase, rng, level)
            ).answers
            work.append((code, phase, agency, answers))
    stored = 0
    for start in range(0, len(work), CHUNK):

        async def one(code: str, phase: str, agency: str, answers: dict) -> bool:
            identity = await intake.identify(course, code, None)
            receipt = await intake.store(
                course, phase, uuid.uuid4(), identity, agency, "ru", answers
            )
            return receipt.created

        done = await asyncio.gather(*(one(*item) for item in work[start : start + CHUNK]))
        stored += sum(done)
    return stored


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cold_and_warm(env: dict[str, str], token: str, starts: int) -> tuple[list[float], float]:
    cold, warm = [], []
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(starts):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "evalsvc.cli", "serve", "--port", str(port),
             "--log-level", "warning"],
            env=env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            path = f"{url}/api/v1/courses/{COURSE}/summary"
            with httpx.Client(headers=headers, timeout=300) as client:
                started = time.perf_counter()
                response = client.get(path)
                cold.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"GET summary: {response.status_code} {response.text[:300]}")
                for _ in range(3):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    warm.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return cold, statistics.median(warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="postgresql://... (default: a temporary SQLite file)")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="evalsvc-cold-"))
    schema = ""
    if args.db:
        schema, database = fresh_schema(args.db)
    else:
        database = str(tmp / "cold.sqlite3")
    try:
        settings = Settings(
            surveys_path=REPO / "surveys", secret_key=SECRET.encode()
        ).with_database(database)
        token = new_token()

        async def prepare() -> tuple[int, float]:
            db = await open_storage(settings, load_courses(settings))
            try:
                started = time.perf_counter()
                stored = await fill(db, settings, args.participants, args.seed)
                seconds = time.perf_counter() - started
                await db.add_token("bench", "evaluator", token_hash(settings.secret_key, token))
                return stored, seconds
            finally:
                await db.close()

        stored, seconds = asyncio.run(prepare())
        engine = "PostgreSQL" if args.db else "SQLite"
        print(
            f"{engine}: stored {stored:,} submissions of {args.participants:,} participants"
            f" through Intake.store in {seconds:.1f} s ({stored / seconds:,.0f}/s)"
        )
        env = {
            **os.environ,
            "EVALSVC_DB": database,
            "EVALSVC_SURVEYS": str(REPO / "surveys"),
            "EVALSVC_SECRET": SECRET,
        }
        cold, warm = cold_and_warm(env, token, args.starts)
        print(
            f"cold GET .../summary from {engine}, {args.participants:,} participants:"
            f" {statistics.median(cold):.2f} s (median of {len(cold)} fresh starts: "
            + ", ".join(f"{t:.2f}" for t in cold)
            + f"); warm: {warm * 1000:.0f} ms"
        )
    finally:
        if schema:
            drop_schema(args.db, schema)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
