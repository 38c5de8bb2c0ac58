"""Venue laptops that sync: a venue server on SQLite, a central server on PostgreSQL.

Participants answer at the venue (its own course files: another answer key, phases
open); `evalsvc sync push` then sends everything to the central server (phases
closed there, its own answer key), through a connection that breaks mid-push, and
again to resume. What the central server holds is read through its storage port.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest

from evalsvc import commands
from evalsvc.app import load_courses
from evalsvc.domain.answers import validate_answers
from evalsvc.domain.scoring import scoring_fingerprint
from evalsvc.intake import Intake
from evalsvc.settings import Settings
from tests.conftest import TEST_SURVEYS, free_port, run_cli, through_port

pytestmark = [pytest.mark.e2e, pytest.mark.backends("postgresql")]
RESPONSES = "/api/v1/courses/tiny/responses"
CLOSED = 'id = "{phase}"\nopens = 2024-03-12T09:00:00+05:00\ncloses = 2024-03-16T00:00:00+05:00'


def answers(seed: int) -> dict:
    return {
        "sa_detect": 1 + seed % 5,
        "sa_coop": 2,
        "k1": "ab"[seed % 2],
        "k2": "true",
        "k3": ["a", "c"],
        "k4": "a",
    }


def surveys(root: Path, *, key: str | None = None, closed: bool = False) -> Path:
    """A copy of the tiny course: another answer key for k1, or both phases closed."""
    shutil.copytree(TEST_SURVEYS / "tiny", root / "tiny")
    if key is not None:
        items = root / "tiny" / "items.toml"
        text = items.read_text(encoding="utf-8")
        items.write_text(text.replace('correct = ["b"]', f'correct = ["{key}"]', 1), "utf-8")
    if closed:
        course = root / "tiny" / "course.toml"
        text = course.read_text(encoding="utf-8")
        for phase in ("pre", "post"):
            text = text.replace(f'id = "{phase}"', CLOSED.format(phase=phase))
        course.write_text(text, encoding="utf-8")
    return root


def venue_and_central(settings: Settings, tmp_path: Path) -> tuple[Settings, Settings]:
    """The venue: SQLite, answer key a for k1. The central server: the test's PostgreSQL,
    answer key b, phases closed. The same secret key (the venue-laptop workflow)."""
    venue = msgspec.structs.replace(
        settings,
        db_path=tmp_path / "venue.sqlite3",
        db_url="",
        surveys_path=surveys(tmp_path / "venue-surveys", key="a"),
    )
    central = msgspec.structs.replace(
        settings, surveys_path=surveys(tmp_path / "central-surveys", closed=True)
    )
    return venue, central


class CuttingProxy:
    """Forwards TCP to a server until `budget` bytes have gone upstream, then cuts every
    connection and refuses new ones: a venue network that goes away mid-push."""

    def __init__(self, target_port: int, budget: int) -> None:
        self.target_port = target_port
        self.budget = budget
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sent = 0
        self.cut = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))

    def start(self) -> CuttingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(4096):
                if counted:
                    with self.lock:
                        self.sent += len(data)
                        over = self.sent > self.budget
                    if over:
                        self.close()
                        return
                target.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.cut.set()
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def push(venue: Settings, url: str, token: str, *extra: str):
    return run_cli(venue, "sync", "push", "--to", url, "--token", token, *extra)


def submissions_in(settings: Settings) -> dict:
    async def read(db) -> list:
        return await db.submissions_to_share(None, 0, 10_000)

    return {row.submission_id: row for row in through_port(settings, read)}


def code_hashes(settings: Settings, codes: list[str]) -> list[bytes]:
    from evalsvc.domain.codes import code_hash, normalize_code

    return [code_hash(settings.secret_key, "tiny", normalize_code(c) or c) for c in codes]


def answer_at_central(central: Settings, code: str, phase: str, given: dict) -> None:
    """A participant who also answered on the central server (its own submission_id)."""
    from evalsvc.storage.records import IssuedCode, utc_now

    async def store(db) -> None:
        (hashed,) = code_hashes(central, [code])
        await db.merge_codes([IssuedCode(course="tiny", code_hash=hashed, agency="border",
                                         created_at=utc_now())])  # fmt: skip
        course = load_courses(central)["tiny"]
        intake = Intake({"tiny": course}, db, central.secret_key)
        identity = await intake.identify(course, code, None)
        valid = validate_answers(course, phase, given)
        assert valid.ok, valid.errors
        await intake.store(course, phase, uuid.uuid4(), identity, "border", "en", valid.answers)

    through_port(central, store)


def test_an_interrupted_push_resumes_and_the_server_keeps_what_it_has(
    settings, tmp_path, server_factory
) -> None:
    venue, central = venue_and_central(settings, tmp_path)
    codes = commands.issue_codes(venue, "tiny", 30, "border", None, None)
    unused = commands.issue_codes(venue, "tiny", 2, "border", None, None)
    server = server_factory(venue).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for index, code in enumerate(codes):
            for phase in ("pre", "post"):
                body = {
                    "submission_id": str(uuid.uuid4()),
                    "phase": phase,
                    "code": code,
                    "lang": "en",
                    "answers": answers(index),
                }
                assert client.post(RESPONSES, json=body).status_code == 201
    server.stop()
    at_venue = submissions_in(venue)
    assert len(at_venue) == 60

    # Two participants also answered the pre questionnaire on the central server: one
    # with the same answers as at the venue (already there), one with others (a
    # conflict: the server keeps its copy).
    answer_at_central(central, codes[0], "pre", answers(0))
    answer_at_central(central, codes[1], "pre", answers(1) | {"sa_detect": 5, "k4": "b"})
    own = set(submissions_in(central))
    _, token = commands.create_token(central, "sync", "venue laptop")
    central_server = server_factory(central).start()

    # The first push goes through a connection that breaks after ~20 kB: it stops.
    proxy = CuttingProxy(central_server.port, budget=20_000).start()
    broken = push(venue, proxy.url, token, "--batch", "4", "--retries", "1")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Run the same command again to resume" in broken.stderr
    assert "Traceback" not in broken.stderr
    partly = set(submissions_in(central)) - own
    assert 0 < len(partly) < 58, "the cut came in the middle of the push"

    resumed = push(venue, central_server.url, token, "--batch", "4")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "] 60/60 submissions:" in resumed.stderr  # the progress bar, at its end
    summary, *details = resumed.stdout.splitlines()
    assert summary.startswith(
        f"pushed to {central_server.url}: {58 - len(partly)} sent,"
        f" {len(partly) + 1} already there, 1 conflicted, 0 rejected;"
    ), resumed.stdout
    (conflict,) = [line for line in details if line.startswith("  conflict")]
    (clash,) = [
        row.submission_id
        for row in at_venue.values()
        if row.phase == "pre" and row.code_hash == code_hashes(venue, [codes[1]])[0]
    ]
    assert clash in conflict and "keeps its own" in conflict
    assert any("the server rescored them with its course files" in line for line in details)

    # Everything of the venue is on the server but the conflict and the answers it
    # already had; the venue's received_at is kept; all scored with the server's key.
    stored = submissions_in(central)
    assert set(at_venue) - set(stored) == {clash, _pre_of(at_venue, venue, codes[0])}
    assert len(stored) == 60
    for submission_id in set(at_venue) & set(stored):
        assert stored[submission_id].received_at == at_venue[submission_id].received_at
    fingerprint = scoring_fingerprint(load_courses(central)["tiny"])
    assert fingerprint != scoring_fingerprint(load_courses(venue)["tiny"])
    assert through_port(central, lambda db: db.scoring_counts("tiny")) == {fingerprint: 60}

    again = push(venue, central_server.url, token)
    assert again.returncode == 0
    assert again.stdout.startswith(
        f"pushed to {central_server.url}: 0 sent, 59 already there, 1 conflicted"
    ), again.stdout
    assert submissions_in(central).keys() == stored.keys()

    # The venue's codes came too, as hashes with their agency, the unused ones
    # included: a participant whose card was issued at the venue is known centrally.
    def shared_codes(settings: Settings) -> set[tuple[bytes, str | None]]:
        codes = through_port(settings, lambda db: db.codes_to_share(["tiny"]))
        return {(c.code_hash, c.agency) for c in codes}

    assert len(shared_codes(venue)) == 32
    assert shared_codes(venue) <= shared_codes(central)
    (never_used,) = code_hashes(central, [unused[0]])
    assert through_port(central, lambda db: db.code_lookup("tiny", never_used)) == (
        True,
        "border",
    )


def _pre_of(rows: dict, settings: Settings, code: str) -> str:
    (wanted,) = code_hashes(settings, [code])
    return next(
        r.submission_id for r in rows.values() if r.code_hash == wanted and r.phase == "pre"
    )


def test_a_push_under_another_key_or_token_or_course_stores_nothing(
    settings, tmp_path, server_factory
) -> None:
    venue, central = venue_and_central(settings, tmp_path)
    other_key = msgspec.structs.replace(
        venue, db_path=tmp_path / "other.sqlite3", secret_key=b"another-venue-key-0123456789abcdef"
    )
    commands.issue_codes(other_key, "tiny", 3, "border", None, None)
    _, sync_token = commands.create_token(central, "sync", "venue")
    _, analyst = commands.create_token(central, "analyst", "reader")
    server = server_factory(central).start()

    refused = push(other_key, server.url, sync_token)
    assert refused.returncode == 1
    assert "the venue's secret key is not this server's" in refused.stderr
    wrong_role = push(venue, server.url, analyst)
    assert wrong_role.returncode == 1 and "needs a token of the sync role" in wrong_role.stderr
    unknown = push(venue, server.url, "evs_unknown")
    assert unknown.returncode == 1 and "refuses the token" in unknown.stderr

    extra = venue.surveys_path / "elsewhere"
    shutil.copytree(venue.surveys_path / "tiny", extra)
    course = extra / "course.toml"
    course.write_text(course.read_text().replace('id = "tiny"', 'id = "elsewhere"'), "utf-8")
    commands.issue_codes(venue, "elsewhere", 2, None, None, None)
    missing = push(venue, server.url, sync_token)
    assert missing.returncode == 1 and "no course 'elsewhere'" in missing.stderr
    assert submissions_in(central) == {}
    assert through_port(central, lambda db: db.codes_to_share()) == []

    # a sync token only pushes: it reads no report and does not log in
    with httpx.Client(base_url=server.url, timeout=10) as client:
        summary = client.get(
            "/api/v1/courses/tiny/summary", headers={"Authorization": f"Bearer {sync_token}"}
        )
        assert summary.status_code == 403 and summary.json()["error"] == "sync_only"
        login = client.get("/login")
        csrf = login.text.split('name="_csrf_token" value="')[1].split('"')[0]
        logged = client.post(
            "/login", data={"token": sync_token, "_csrf_token": csrf}, follow_redirects=False
        )
        assert logged.status_code == 401
