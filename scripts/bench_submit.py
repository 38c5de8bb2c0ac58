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

    .venv/bin/python scripts/bench_submit.py [--seconds 8] [--connections 64]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--codes", type=int, default=40_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_submit needs wrk: apt-get install wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="evalsvc-bench-"))
    env = {
        **os.environ,
        "EVALSVC_DB": str(tmp / "bench.sqlite3"),
        "EVALSVC_SECRET": "bench-secret-0123456789abcdef0123456789",
        "EVALSVC_SURVEYS": str(REPO / "surveys"),
        "EVALSVC_CODE_FAILURES_PER_MINUTE": "1000000",
    }
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

    course = load_paths([REPO / "surveys"]).courses[COURSE]
    rng = random.Random(5)
    json_bodies, form_answers = [], []
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
        (json_bodies if index % 2 == 0 else form_answers).append((body, answers))
    json_file = tmp / "json.txt"
    json_file.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b, _ in json_bodies))

    port = 18000 + os.getpid() % 1000
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*evalsvc, "serve", "--port", str(port), "--log-level", "warning"], env=env
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
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
        results = {}
        results["trivial"] = run_wrk(
            f"{base}/livez", args.seconds, args.connections, args.threads, None, []
        )
        check_url = f"{base}/api/v1/courses/{COURSE}/responses/check"
        submit_url = f"{base}/api/v1/courses/{COURSE}/responses"
        json_args = [str(json_file), "POST", "application/json", ""]
        results["validate-only"] = run_wrk(
            check_url, args.seconds, args.connections, args.threads, script, json_args
        )
        results["submit"] = run_wrk(
            submit_url, args.seconds, args.connections, args.threads, script, json_args
        )
        form_args = [
            str(form_file),
            "POST",
            "application/x-www-form-urlencoded",
            f"Cookie: {cookie}\nX-CSRFToken: {token}",
        ]
        results["form submit"] = run_wrk(
            f"{base}/c/{COURSE}/post",
            args.seconds,
            args.connections,
            args.threads,
            script,
            form_args,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"\n{'load':<14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())) or "-"
        print(f"{name:<14} {r['rate']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}  {statuses}")
    submit, check = results["submit"]["rate"], results["validate-only"]["rate"]
    print(f"\nsubmit/validate-only ratio: {submit / check:.2f}")
    print(f"submit/trivial ratio: {submit / results['trivial']['rate']:.2f}")
    print(f"form submit/validate-only ratio: {results['form submit']['rate'] / check:.2f}")

    acknowledged = results["submit"]["statuses"].get(201, 0) + results["form submit"][
        "statuses"
    ].get(303, 0)
    with sqlite3.connect(tmp / "bench.sqlite3") as conn:
        stored = conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    unexpected = {
        name: {k: v for k, v in r["statuses"].items() if k not in (200, 201, 303)}
        for name, r in results.items()
    }
    # wrk stops counting at its deadline while up to one request per connection is
    # still in flight; those are stored (and acknowledged to nobody).
    in_flight = 2 * args.connections
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
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
