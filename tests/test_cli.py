"""The command line as a user types it: every command takes --db, and the demo's
printed commands work on the demo's own database."""

from __future__ import annotations

import contextlib
import random
import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from evalsvc.catalog import load_paths
from evalsvc.demo import synthetic_answers
from tests.conftest import BUNDLED_SURVEYS, REPO, cli_env, free_port, run_cli, through_port
from tests.test_api import body

BUNDLED = load_paths([BUNDLED_SURVEYS]).courses["salw-nexus-kz-2024"]

COMMANDS = (
    ("check",),
    ("serve",),
    ("codes", "issue"),
    ("token", "create"),
    ("token", "list"),
    ("token", "revoke"),
    ("report",),
    ("demo",),
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_takes_db(settings, command: tuple[str, ...]) -> None:
    helped = run_cli(settings, *command, "--help")
    assert helped.returncode == 0 and "--db DB" in helped.stdout


def submissions_in(settings, path: Path) -> int:
    on_path = settings.with_database(str(path))
    return through_port(on_path, lambda db: db.count_submissions())


def test_db_before_or_after_the_command_wins_over_evalsvc_db(settings, tmp_path) -> None:
    other = tmp_path / "other.sqlite3"
    filled = run_cli(settings, "--db", str(other), "demo", "tiny", "--participants", "4")
    assert filled.returncode == 0, filled.stderr
    assert submissions_in(settings, other) == 8 and not settings.db_path.exists()
    made = run_cli(settings, "token", "create", "--role", "evaluator", "--name", "x",
                   "--db", str(other))  # fmt: skip
    assert made.returncode == 0, made.stderr
    listed = run_cli(settings, "token", "list", "--db", str(other))
    assert "\tevaluator\tx\t" in listed.stdout
    revoked = run_cli(settings, "--db", str(other), "token", "revoke", "1")
    assert revoked.returncode == 0, revoked.stderr
    issued = run_cli(settings, "codes", "issue", "tiny", "--count", "2", "--db", str(other))
    assert issued.returncode == 0, issued.stderr
    report = tmp_path / "report.json"
    written = run_cli(settings, "report", "tiny", "--format", "json", "--out", str(report),
                      "--db", str(other))  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert '"n_participants": 4' in report.read_text(encoding="utf-8")
    assert not settings.db_path.exists(), "EVALSVC_DB's database was never opened"


@pytest.mark.e2e
def test_following_the_demo_s_printed_commands_works(settings, tmp_path) -> None:
    """scripts/serve --demo prints commands for its own database; run them as printed."""
    user_env = cli_env(settings, EVALSVC_SECRET="", EVALSVC_SECRET_FILE=str(tmp_path / "key"))
    user_env.pop("EVALSVC_DB")
    user_env.pop("EVALSVC_SURVEYS")  # the demo serves the bundled course from surveys/
    port = free_port()
    demo_env = {
        **user_env,
        "EVALSVC_DB": str(tmp_path / "demo.sqlite3"),
        "EVALSVC_PORT": str(port),
        "EVALSVC_HOST": "127.0.0.1",
    }
    server = subprocess.Popen(
        [str(REPO / "scripts" / "serve"), "--demo", "--log-level", "warning"],
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        printed = []
        assert server.stdout is not None
        for line in server.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("evalsvc serving on"):
                break
        commands = [line.strip() for line in printed if line.startswith("  .venv/bin/evalsvc")]
        assert len(commands) == 4, printed
        assert all("--db" in command for command in commands)
        wait_until_healthy(f"http://127.0.0.1:{port}")

        outputs = {}
        for command in commands:
            args = shlex.split(command)
            done = subprocess.run(
                [str(REPO / args[0]), *args[1:]],
                cwd=REPO, env=user_env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stderr)
            outputs[args[3] + " " + args[4]] = done.stdout
        codes = outputs["codes issue"].split()
        assert len(codes) == 5
        token = outputs["token create"].splitlines()[-1]
        assert "\tevaluator\tNAME\tcourses salw-nexus-kz-2024\t" in outputs["token list"]

        url = f"http://127.0.0.1:{port}/api/v1/courses/salw-nexus-kz-2024"
        summary = httpx.get(f"{url}/summary", headers={"Authorization": f"Bearer {token}"})
        assert summary.status_code == 200, summary.text
        answers = synthetic_answers(BUNDLED, "pre", random.Random(3), {})
        answer = httpx.post(f"{url}/responses", json=body(codes[0], answers=answers), timeout=10)
        assert answer.status_code == 201, answer.text
        analyst = re.search(r"downloads\): (evs_\S+)", "\n".join(printed))
        assert analyst is not None, printed
        responses = httpx.get(
            f"{url}/responses.csv", headers={"Authorization": f"Bearer {analyst[1]}"}
        )
        assert responses.status_code == 200
        assert (tmp_path / "demo-report.html").exists()
        # the programme's commands name both surveys folders in front
        with_examples = [line.strip() for line in printed if line.startswith("  EVALSVC_SURVEYS=")]
        assert len(with_examples) == 2, printed
        for command in with_examples:
            variable, *args = shlex.split(command)
            name, _, value = variable.partition("=")
            done = subprocess.run(
                [str(REPO / args[0]), *args[1:]],
                cwd=REPO, env={**user_env, name: value}, capture_output=True, text=True,
                timeout=300,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stderr)
        assert (tmp_path / "demo-programme.xlsx").exists()
        # (what a donor token reaches is tests/test_scopes.py's subject)
        assert re.search(r"indicators only\): evs_\S+", "\n".join(printed)), printed
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()


def wait_until_healthy(url: str) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError("the demo server did not start")
