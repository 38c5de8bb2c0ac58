#!/usr/bin/env python3
"""Durable submissions against two ceilings on the same server, in one run.

Starts `evalsvc serve` (one worker) on a temporary database with the bundled
course, issues fresh codes, and drives it with wrk (Debian's package) on
127.0.0.1 at 64 connections:

  trivial        GET /livez                               (framework ceiling)
  validate-only  POST .../responses/check, the same bodies (everything but storage)
  submit         POST .../responses, JSON, one fresh code each (durable, 201)
  form submit    POST /c/{course}/post, urlencoded with CSRF   (durable, 303)

Prints requests/s and p50/p99 latency for each, the ratios, and then checks
that the database holds exactly the acknowledged submissions.

With --db postgresql://..., the same on PostgreSQL (in a fresh schema of that
database, dropped at the end), plus the durable submit shared by two instances on
the same database (one wrk each, half the connections each, rates summed), and
the ratios of one and two instances to the validate-only ceiling.

    .venv/bin/python scripts/bench_submit.py [--seconds 8] [--connections 64]
    .venv/bin/python scripts/bench_submit.py --db postgresql://user:pass@host/db
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
COURSE = "salw-nexus-kz-2024"
sys.path.insert(0, str(REPO / "src"))

from evalsvc.catalog import load_paths  # noqa: E402
from evalsvc.demo import synthetic_answers  # noqa: E402
from evalsvc.domain.answers import form_values, validate_answers  # noqa: E402

LUA = r"""
local bodies = {}
local counter = 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local path, method, content_type, extra = args[1], args[2], args[3], args[4]
  wrk.method = method
  wrk.headers["Content-Type"] = content_type
  if extra ~= nil and extra ~= "" then
    for header in string.gmatch(extra, "[^\n]+") do
      local name, value = header:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
    end
  end
  local all = {}
  for line in io.lines(path) do table.insert(all, line) end
  -- each thread takes its own interleaved slice, so no body is sent twice
  local n = 0
  for i = id, #all, #threads_total do n = n + 1; bodies[n] = all[i] end
end

function request()
  counter = counter + 1
  local body = bodies[counter]
  if body == nil then body = bodies[#bodies] end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, count in pairs(s) do merged[code] = (merged[code] or 0) + count end
  end
  local parts = {}
  for code, count in pairs(merged) do table.insert(parts, code .. "=" .. count) end
  io.write("STATUSES " .. table.concat(parts, ",") .. "\n")
  local p50, p99 = latency:percentile(50) / 1000, latency:percentile(99) / 1000
  io.write(string.format("P50 %f\nP99 %f\n", p50, p99))
end
"""


def wrk_script(tmp: Path, threads: int) -> Path:
    script = tmp / "bench.lua"
    script.write_text(
        LUA.replace("#threads_total", str(threads)).replace("for i = id,", "for i = id,")
    )
    return script


def run_wrk(
    url: str, seconds: int, connections: int, threads: int, script: Path | None, args: list[str]
) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    command += [url]
    if args:
        command += ["--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    statuses: dict[int, int] = {}
    match = re.search(r"STATUSES (.*)", output)
    if match and match.group(1):
        for part in match.group(1).split(","):
            code, count = part.split("=")
            statuses[int(code)] = int(count)
    p50 = re.search(r"P50 ([\d.]+)", output)
    p99 = re.search(r"P99 ([\d.]+)", output)
    if p50 is None:  # plain wrk output: "50%  1.23ms"
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        p50_ms = float(p50.group(1)) * scale[p50.group(2)]
        p99_ms = float(p99.group(1)) * scale[p99.group(2)]
    else:
        p50_ms, p99_ms = float(p50.group(1)), float(p99.group(1))
    return {"rate": rate, "total": total, "statuses": statuses, "p50": p50_ms, "p99": p99_ms}


def fresh_schema(url: str) -> tuple[str, str]:
    """A new, empty schema in the PostgreSQL database at `url`, and the address that
    makes evalsvc use it (the benchmark never touches what else the database holds)."""
    import asyncio

    import asyncpg

    schema = f"bench_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"CREATE SCHEMA {schema}")
        finally:
            await conn.close()

    asyncio.run(create())
    joiner = "&" if "?" in url else "?"
    return schema, f"{url}{joiner}search_path={schema}"


def drop_schema(url: str, schema: str) -> None:
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()

    asyncio.run(drop())


def stored_count(env: dict[str, str]) -> int:
    """How many submissions the database holds, read through evalsvc's storage port."""
    import asyncio

    from evalsvc.app import load_courses
    from evalsvc.settings import settings_from_env
    from evalsvc.storage import open_storage

    async def count() -> int:
        settings = settings_from_env(env).with_secret()
        db = await open_storage(settings, load_courses(settings))
        try:
            return await db.count_submissions()
        finally:
            await db.close()

    return asyncio.run(count())


class Instance:
    """One `evalsvc serve` (one uvicorn worker) on a port of its own."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "evalsvc.cli", "serve", "--port", str(port),
             "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"evalsvc serve on {self.url} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def run_wrk_together(runs: list[tuple], seconds: int, threads: int) -> dict:
    """wrk against several instances at once (one wrk each); rates and counts summed."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
        futures = [
            pool.submit(run_wrk, url, seconds, connections, threads, script, args)
            for url, connections, script, args in runs
        ]
        results = [future.result() for future in futures]
    statuses: dict[int, int] = {}
    for result in results:
        for code, count in result["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "rate": sum(r["rate"] for r in results),
        "total": sum(r["total"] for r in results),
        "statuses": statuses,
        "p50": max(r["p50"] for r in results),
        "p99": max(r["p99"] for r in results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--codes", type=int, default=40_000)
    parser.add_argument(
        "--db",
        help="postgresql://... : measure PostgreSQL (in a fresh schema of that database,"
        " dropped at the end), with one and with two instances; default: a temporary SQLite",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_submit needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    postgres = bool(args.db)
    if postgres and not args.db.startswith(("postgresql://", "postgres://")):
        print("--db takes a postgresql:// address", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="evalsvc-bench-"))
    schema = ""
    if postgres:
        schema, database = fresh_schema(args.db)
    else:
        database = str(tmp / "bench.sqlite3")
    env = {
        **os.environ,
        "EVALSVC_DB": database,
        "EVALSVC_SECRET": "bench-secret-0123456789abcdef0123456789",
        "EVALSVC_SURVEYS": str(REPO / "surveys"),
        "EVALSVC_CODE_FAILURES_PER_MINUTE": "1000000",
    }
    try:
        return measure(args, env, tmp, postgres)
    finally:
        if schema:
            drop_schema(args.db, schema)
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args: argparse.Namespace, env: dict[str, str], tmp: Path, postgres: bool) -> int:
    evalsvc = [sys.executable, "-m", "evalsvc.cli"]
    started = time.monotonic()
    codes = subprocess.run(
        [*evalsvc, "codes", "issue", COURSE, "--count", str(args.codes), "--agency", "border"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    print(f"issued {len(codes)} codes in {time.monotonic() - started:.1f} s")

    # Fresh codes for every durable load: one pool each (JSON, and for PostgreSQL the
    # two instances' halves), the rest for the form submissions.
    course = load_paths([REPO / "surveys"]).courses[COURSE]
    rng = random.Random(5)
    pools = 4 if postgres else 2
    json_pools: list[list[dict]] = [[] for _ in range(pools - 1)]
    form_answers = []
    for index, code in enumerate(codes):
        level = {s: rng.uniform(0.3, 0.9) for s in course.skill_ids()}
        answers = synthetic_answers(course, "post", rng, level)
        assert validate_answers(course, "post", answers).ok
        body = {
            "submission_id": str(uuid.uuid4()),
            "phase": "post",
            "code": code,
            "lang": "ru",
            "answers": answers,
        }
        if index % pools == pools - 1:
            form_answers.append((body, answers))
        else:
            json_pools[index % pools].append(body)
    json_files = []
    for number, pool in enumerate(json_pools):
        path = tmp / f"json-{number}.txt"
        path.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b in pool))
        json_files.append(path)

    base_port = 18000 + os.getpid() % 1000
    first = Instance(env, base_port)
    second: Instance | None = None
    base = first.url
    try:
        # CSRF: one cookie and token, reused by every form POST of the run
        with httpx.Client() as client:
            page = client.get(f"{base}/c/{COURSE}/post?lang=ru")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        form_file = tmp / "form.txt"
        lines = []
        for body, answers in form_answers:
            fields = [
                ("_csrf_token", token),
                ("submission_id", body["submission_id"]),
                ("lang", "ru"),
                ("code", body["code"]),
            ]
            for item, values in form_values(course, "post", answers).items():
                fields += [(item, v) for v in values]
            lines.append(urllib.parse.urlencode(fields))
        form_file.write_text("\n".join(lines))

        script = wrk_script(tmp, args.threads)
        seconds, connections, threads = args.seconds, args.connections, args.threads
        results = {}
        results["trivial"] = run_wrk(f"{base}/livez", seconds, connections, threads, None, [])
        path = f"/api/v1/courses/{COURSE}/responses"
        json_args = [str(json_files[0]), "POST", "application/json", ""]
        results["validate-only"] = run_wrk(
            f"{base}{path}/check", seconds, connections, threads, script, json_args
        )
        results["submit"] = run_wrk(
            f"{base}{path}", seconds, connections, threads, script, json_args
        )
        if postgres:
            # the same load, shared by two instances on the same database
            second = Instance(env, base_port + 1)
            half = connections // 2
            results["submit, 2 instances"] = run_wrk_together(
                [
                    (
                        f"{instance.url}{path}",
                        half,
                        script,
                        [str(file), "POST", "application/json", ""],
                    )
                    for instance, file in ((first, json_files[1]), (second, json_files[2]))
                ],  # fmt: skip
                seconds,
                threads,  # the Lua script splits the bodies among this many threads
            )
        form_args = [
            str(form_file),
            "POST",
            "application/x-www-form-urlencoded",
            f"Cookie: {cookie}\nX-CSRFToken: {token}",
        ]
        results["form submit"] = run_wrk(
            f"{base}/c/{COURSE}/post", seconds, connections, threads, script, form_args
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    engine = "PostgreSQL" if postgres else "SQLite"
    print(f"\n{engine}, {os.cpu_count()} cores; wrk {connections} connections, {seconds} s each")
    print(f"{'load':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())) or "-"
        print(f"{name:<22} {r['rate']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}  {statuses}")
    submit, check = results["submit"]["rate"], results["validate-only"]["rate"]
    print(f"\nsubmit/validate-only ratio: {submit / check:.2f}")
    if postgres:
        two = results["submit, 2 instances"]["rate"]
        print(f"submit 2 instances/validate-only ratio: {two / check:.2f}")
        print(f"submit 2 instances/1 instance ratio: {two / submit:.2f}")
    print(f"submit/trivial ratio: {submit / results['trivial']['rate']:.2f}")
    print(f"form submit/validate-only ratio: {results['form submit']['rate'] / check:.2f}")

    acknowledged = sum(
        r["statuses"].get(201, 0) + r["statuses"].get(303, 0) for r in results.values()
    )
    stored = stored_count(env)
    integrity = "ok"
    if not postgres:
        with sqlite3.connect(env["EVALSVC_DB"]) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    unexpected = {
        name: {k: v for k, v in r["statuses"].items() if k not in (200, 201, 303)}
        for name, r in results.items()
    }
    # wrk stops counting at its deadline while up to one request per connection is
    # still in flight; those are stored (and acknowledged to nobody).
    in_flight = (4 if postgres else 2) * args.connections
    print(
        f"acknowledged {acknowledged}, stored {stored} (at most {in_flight} more may be stored:"
        f" requests in flight when wrk stopped), integrity {integrity}"
    )
    ok = (
        acknowledged <= stored <= acknowledged + in_flight
        and integrity == "ok"
        and not any(unexpected.values())
    )
    if not ok:
        print(f"MISMATCH or errors: {unexpected}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
