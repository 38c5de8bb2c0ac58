#!/usr/bin/env python3
"""evalsvc's participant path against a FastAPI peer and the bare framework, in one run.

Starts, each as one uvicorn worker with the same loop and parser (uvloop and
httptools when installed, as `uvicorn[standard]` brings them):

- `evalsvc serve` on a temporary database with the bundled course and fresh codes;
- scripts/peer_fastapi.py twice (FastAPI + pydantic v2 + aiosqlite, the same
  contract and bodies, each on its own SQLite copy of the codes): commit per request,
  and group commit;
- scripts/bare_litestar.py: one Litestar POST route that decodes the same body into a
  msgspec struct and echoes it (the framework's own limit).

and drives them with wrk (Debian's package) on 127.0.0.1 at 64 connections, in
interleaved rounds (medians of 3 by default), with the full post questionnaire:

  trivial                   GET /livez of evalsvc
  validate-only             POST .../responses/check: everything but storage
  peer validate-only        the same on the peer
  bare echo                 POST /echo of the bare app, the same bodies
  submit                    POST .../responses, JSON, a fresh code each (durable, 201)
  peer ... submit           the same bodies on each peer variant
  form submit               POST /c/{course}/post, urlencoded with CSRF (durable, 303)

Prints requests/s and p50/p99 latency for each, the ratios (validate/peer,
durable/peer-group-commit, durable/peer-per-request, durable/bare-framework,
submit/validate-only, form/JSON submit), and then checks that each database holds
exactly the acknowledged submissions.

With --db postgresql://..., evalsvc runs on PostgreSQL (in a fresh schema of that
database, dropped at the end; the peers stay on SQLite), plus the durable submit
shared by two evalsvc instances on the same database (one wrk each, half the
connections each, rates summed).

    .venv/bin/pip install -e '.[bench]'     # the peer's FastAPI and pydantic
    .venv/bin/python scripts/bench_submit.py [--seconds 4] [--rounds 3] [--connections 64]
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
from typing import Any

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


class Server:
    """One server process (one uvicorn worker) on a port of its own."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, ready: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, env=env)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}{ready}").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{' '.join(command[:3])} on {self.url} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def evalsvc_server(env: dict[str, str], port: int) -> Server:
    command = [sys.executable, "-m", "evalsvc.cli", "serve", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    return Server(command, env, port, "/healthz")


def peer_server(env: dict[str, str], port: int, db: Path, mode: str) -> Server:
    command = [sys.executable, str(REPO / "scripts" / "peer_fastapi.py"), "--db", str(db),
               "--port", str(port), "--mode", mode, "--secret", env["EVALSVC_SECRET"],
               "--surveys", env["EVALSVC_SURVEYS"], "--course", COURSE]  # fmt: skip
    return Server(command, env, port, "/livez")


def bare_server(env: dict[str, str], port: int) -> Server:
    command = [sys.executable, str(REPO / "scripts" / "bare_litestar.py"), "--port", str(port)]
    return Server(command, env, port, "/livez")


def peer_database(path: Path, secret: bytes, codes: list[str]) -> None:
    """The peer's own SQLite file: a copy of the course's issued codes, hashed alike."""
    from evalsvc.domain.codes import code_hash, normalize_code

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE codes (course TEXT NOT NULL, code_hash BLOB NOT NULL, agency TEXT,"
            " PRIMARY KEY (course, code_hash))"
        )
        conn.executemany(
            "INSERT INTO codes VALUES (?, ?, 'border')",
            [(COURSE, code_hash(secret, COURSE, normalize_code(code) or code)) for code in codes],
        )
    conn.close()


def peer_stored(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        count = int(conn.execute("SELECT count(*) FROM peer_submissions").fetchone()[0])
    conn.close()
    return count


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
    parser.add_argument("--seconds", type=int, default=4, help="per load and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--codes", type=int, default=0, help="codes per pool (default: 2500 a second)"
    )
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
    rounds = args.rounds
    # Fresh codes for every durable run: per round one pool for the JSON submissions
    # (evalsvc's, and the same bodies for each peer, which has its own database), one
    # for the forms, and for PostgreSQL two more for the two instances' halves.
    pools_per_round = 4 if postgres else 2
    pool_size = args.codes or args.seconds * 2500
    started = time.monotonic()
    codes = subprocess.run(
        [*evalsvc, "codes", "issue", COURSE, "--count", str(pool_size * pools_per_round * rounds),
         "--agency", "border"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    print(f"issued {len(codes)} codes in {time.monotonic() - started:.1f} s")

    course = load_paths([REPO / "surveys"]).courses[COURSE]
    rng = random.Random(5)
    pools: list[list[tuple[dict, dict]]] = [[] for _ in range(pools_per_round * rounds)]
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
        pools[index % len(pools)].append((body, answers))

    def json_file(name: str, pool: list[tuple[dict, dict]]) -> Path:
        path = tmp / f"{name}.txt"
        path.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b, _ in pool))
        return path

    json_files = [json_file(f"json-{r}", pools[r * pools_per_round]) for r in range(rounds)]
    halves = [
        [json_file(f"json-{r}-{h}", pools[r * pools_per_round + 1 + h]) for h in (0, 1)]
        for r in range(rounds)
        if postgres
    ]
    form_pools = [pools[r * pools_per_round + pools_per_round - 1] for r in range(rounds)]

    secret = env["EVALSVC_SECRET"].encode()
    peer_dbs = {mode: tmp / f"peer-{mode}.sqlite3" for mode in ("per-request", "group-commit")}
    for db in peer_dbs.values():
        peer_database(db, secret, codes)

    base_port = 18000 + os.getpid() % 1000
    servers: dict[str, Server] = {}
    try:
        servers["evalsvc"] = evalsvc_server(env, base_port)
        for number, (mode, db) in enumerate(peer_dbs.items(), start=2):
            servers[f"peer-{mode}"] = peer_server(env, base_port + number, db, mode)
        servers["bare"] = bare_server(env, base_port + 4)
        if postgres:
            servers["evalsvc 2"] = evalsvc_server(env, base_port + 1)
        base = servers["evalsvc"].url

        # CSRF: one cookie and token, reused by every form POST of the run
        with httpx.Client() as client:
            page = client.get(f"{base}/c/{COURSE}/post?lang=ru")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        form_files = []
        for number, pool in enumerate(form_pools):
            lines = []
            for body, answers in pool:
                fields = [
                    ("_csrf_token", token),
                    ("submission_id", body["submission_id"]),
                    ("lang", "ru"),
                    ("code", body["code"]),
                ]
                for item, values in form_values(course, "post", answers).items():
                    fields += [(item, v) for v in values]
                lines.append(urllib.parse.urlencode(fields))
            form_files.append(tmp / f"form-{number}.txt")
            form_files[-1].write_text("\n".join(lines))

        script = wrk_script(tmp, args.threads)
        seconds, connections, threads = args.seconds, args.connections, args.threads
        path = f"/api/v1/courses/{COURSE}/responses"

        def json_args(file: Path) -> list[str]:
            return [str(file), "POST", "application/json", ""]

        form_headers = f"Cookie: {cookie}\nX-CSRFToken: {token}"
        peer_url = servers["peer-per-request"].url
        group_url = servers["peer-group-commit"].url

        def loads(r: int) -> list[tuple[str, Any]]:
            """(name, run) of every load of round r, interleaved."""

            def wrk(url: str, file: Path | None, kind: str = "application/json", extra=""):
                if file is None:
                    return lambda: run_wrk(url, seconds, connections, threads, None, [])
                wrk_args = [str(file), "POST", kind, extra]
                return lambda: run_wrk(url, seconds, connections, threads, script, wrk_args)

            plan = [
                ("trivial", wrk(f"{base}/livez", None)),
                ("validate-only", wrk(f"{base}{path}/check", json_files[0])),
                ("peer validate-only", wrk(f"{peer_url}{path}/check", json_files[0])),
                ("bare echo", wrk(f"{servers['bare'].url}/echo", json_files[0])),
                ("submit", wrk(f"{base}{path}", json_files[r])),
                ("peer per-request submit", wrk(f"{peer_url}{path}", json_files[r])),
                ("peer group-commit submit", wrk(f"{group_url}{path}", json_files[r])),
                (
                    "form submit",
                    wrk(
                        f"{base}/c/{COURSE}/post",
                        form_files[r],
                        "application/x-www-form-urlencoded",
                        form_headers,
                    ),
                ),
            ]
            if postgres:
                half = connections // 2
                together = [
                    (f"{servers[name].url}{path}", half, script, json_args(file))
                    for name, file in zip(("evalsvc", "evalsvc 2"), halves[r], strict=True)
                ]
                plan.append(
                    ("submit, 2 instances", lambda: run_wrk_together(together, seconds, threads))
                )
            return plan

        runs: dict[str, list[dict]] = {}
        for r in range(rounds):
            for name, run in loads(r):
                runs.setdefault(name, []).append(run())
            print(f"round {r + 1} of {rounds} done", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()

    results = {name: median_run(rs) for name, rs in runs.items()}
    engine = "PostgreSQL" if postgres else "SQLite"
    print(
        f"\nevalsvc on {engine}, the peers on SQLite; {os.cpu_count()} cores; wrk {connections}"
        f" connections; medians of {rounds} interleaved rounds of {seconds} s"
    )
    print(f"{'load':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses (all rounds)")
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())) or "-"
        print(f"{name:<26} {r['rate']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}  {statuses}")
    rate = {name: r["rate"] for name, r in results.items()}
    submit = rate["submit"]
    print()
    print(f"validate/peer ratio: {rate['validate-only'] / rate['peer validate-only']:.2f}")
    print(f"durable/peer-group-commit ratio: {submit / rate['peer group-commit submit']:.2f}")
    print(f"durable/peer-per-request ratio: {submit / rate['peer per-request submit']:.2f}")
    print(f"durable/bare-framework ratio: {submit / rate['bare echo']:.2f}")
    print(f"submit/validate-only ratio: {submit / rate['validate-only']:.2f}")
    print(f"form/JSON submit ratio: {rate['form submit'] / submit:.2f}")
    if postgres:
        two = rate["submit, 2 instances"]
        print(f"submit 2 instances/validate-only ratio: {two / rate['validate-only']:.2f}")
        print(f"submit 2 instances/1 instance ratio: {two / submit:.2f}")

    # Every acknowledged submission is stored: evalsvc's in its database, each
    # peer's in its own. wrk stops counting at its deadline while up to one request
    # per connection is still in flight; those are stored (and acknowledged to nobody).
    ok = True
    evalsvc_loads = ["submit", "form submit"] + (["submit, 2 instances"] if postgres else [])
    checks = [("evalsvc", evalsvc_loads, stored_count(env))]
    for mode, db in peer_dbs.items():
        checks.append((f"peer {mode}", [f"peer {mode} submit"], peer_stored(db)))
    for who, names, stored in checks:
        acknowledged = sum(
            r["statuses"].get(201, 0) + r["statuses"].get(303, 0)
            for name in names
            for r in runs[name]
        )
        in_flight = len(names) * rounds * args.connections
        integrity = "ok"
        if who == "evalsvc" and not postgres:
            with sqlite3.connect(env["EVALSVC_DB"]) as conn:
                integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            conn.close()
        print(
            f"{who}: acknowledged {acknowledged}, stored {stored} (at most {in_flight} more:"
            f" requests in flight when wrk stopped), integrity {integrity}"
        )
        ok = ok and acknowledged <= stored <= acknowledged + in_flight and integrity == "ok"
    expected = {"trivial": {200}, "validate-only": {200}, "peer validate-only": {200},
                "bare echo": {200}, "form submit": {303}}  # fmt: skip

    # a durable JSON load may also see 200: the same body again, when its pool of
    # fresh codes ran out (an idempotent retry); anything else is an error
    def allowed(name: str) -> set[int]:
        return expected.get(name, {200, 201})

    unexpected = {
        name: bad
        for name, r in results.items()
        if (
            bad := {
                k: v for k, v in r["statuses"].items() if k not in expected.get(name, {200, 201})
            }
        )
    }
    if unexpected or not ok:
        print(f"MISMATCH or errors: {unexpected}", file=sys.stderr)
    return 0 if ok and not unexpected else 1


def median_run(runs: list[dict]) -> dict:
    """The run of median rate, with the statuses of every run summed."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    middle = dict(ordered[len(ordered) // 2])
    statuses: dict[int, int] = {}
    for r in runs:
        for code, count in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    middle["statuses"] = statuses
    return middle


if __name__ == "__main__":
    sys.exit(main())
