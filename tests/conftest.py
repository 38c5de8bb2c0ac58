"""Shared fixtures: real SQLite files in tmp folders (or a real PostgreSQL), the real app,
a real server.

Tests marked `backends` run twice: on SQLite and on PostgreSQL, through the same
`settings` fixture. Their PostgreSQL database is a fresh schema of the test cluster
that scripts/test starts (tests/pg_cluster.py), named by EVALSVC_TEST_PG; without
it those variants are skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from evalsvc.app import create_app
from evalsvc.settings import Settings
from evalsvc.storage import Storage

REPO = Path(__file__).resolve().parents[1]
TEST_SURVEYS = Path(__file__).resolve().parent / "data" / "surveys"
BUNDLED_SURVEYS = REPO / "surveys"
TEST_SECRET = b"0123456789abcdef0123456789abcdef-test"
IN_CI = os.environ.get("CI") == "true"
PG_ENV = "EVALSVC_TEST_PG"
BACKENDS = ("sqlite", "postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("EVALSVC_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="long run: set EVALSVC_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `backends` get the `backend` parameter: sqlite and postgresql, or
    those the closest marker names (`backends("sqlite")`: a test about SQLite itself)."""
    marker = metafunc.definition.get_closest_marker("backends")
    if "backend" in metafunc.fixturenames and marker is not None:
        metafunc.parametrize("backend", marker.args or BACKENDS, indirect=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of this test: sqlite unless the test is marked `backends`."""
    return str(getattr(request, "param", "sqlite"))


def in_thread(work: Callable[[], Any]) -> Any:
    """Run blocking work (its own event loop) from sync and async tests alike."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


async def _admin(dsn: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """The address of the test cluster's database for evalsvc's tests (made once)."""
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        message = f"no PostgreSQL test cluster ({PG_ENV}); scripts/test starts one"
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL variants: {message}")
        pytest.skip(message)
    base, _, _ = dsn.rpartition("/")
    in_thread(lambda: asyncio.run(_create_database(dsn)))
    return f"{base}/evalsvc_tests"


async def _create_database(dsn: str) -> None:
    import asyncpg

    # test workers (pytest-xdist) may race to make it: one makes it, the rest find it
    with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        await _admin(dsn, "CREATE DATABASE evalsvc_tests")


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    base = Settings(
        db_path=tmp_path / "evalsvc.sqlite3",
        surveys_path=TEST_SURVEYS,
        secret_key=TEST_SECRET,
        secret_file=tmp_path / "secret.key",
    )
    if backend == "sqlite":
        return base
    database = request.getfixturevalue("postgres_database")
    schema = f"t_{secrets.token_hex(6)}"  # a fresh, empty database for this test
    in_thread(lambda: asyncio.run(_admin(database, f"CREATE SCHEMA {schema}")))
    request.addfinalizer(
        lambda: in_thread(lambda: asyncio.run(_admin(database, f"DROP SCHEMA {schema} CASCADE")))
    )
    return base.with_database(f"{database}?search_path={schema}")


def through_port(settings: Settings, work: Callable[[Storage], Awaitable[Any]]) -> Any:
    """`work(storage)` on the test's database, opened as the app and CLI open it."""
    from evalsvc.commands import with_database

    return in_thread(lambda: with_database(settings, work))


def stored_rows(settings: Settings) -> list[Any]:
    """Every stored submission in order of arrival (records.SharedSubmission), read
    through the storage port: how tests look into the database, on either backend."""

    async def read(db: Storage) -> list[Any]:
        return await db.submissions_to_share(None, 0, 1_000_000)

    return list(through_port(settings, read))


@pytest.fixture
def bundled_settings(settings: Settings) -> Settings:
    return Settings(**{**_fields(settings), "surveys_path": BUNDLED_SURVEYS})


def _fields(settings: Settings) -> dict:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


@pytest.fixture
def issue(settings: Settings):
    """Issue codes for a course of `settings` before the app starts; returns them."""
    from evalsvc.commands import issue_codes

    def issue_for(course: str = "tiny", count: int = 5, agency: str | None = None, s=None):
        # in a thread of its own: async tests call this while their event loop runs
        return in_thread(lambda: issue_codes(s or settings, course, count, agency, None, None))

    return issue_for


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


def cli_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of an `evalsvc` command working on `settings`' files."""
    env = {
        **os.environ,
        "EVALSVC_DB": settings.database,
        "EVALSVC_SURVEYS": str(settings.surveys_path),
        "EVALSVC_SECRET": settings.secret_key.decode(),
        **overrides,
    }
    return {name: value for name, value in env.items() if value != ""}


def run_cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`evalsvc ARGS...` in a subprocess, as a user types it; `env` overrides variables
    (an empty value removes one, e.g. EVALSVC_SECRET="" to use the key file)."""
    return subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", *args],
        env=cli_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real `evalsvc serve` subprocess on a free loopback port."""

    def __init__(
        self, settings: Settings, env: dict[str, str] | None = None, script: Path | None = None
    ):
        self.settings = settings
        self.script = script
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EVALSVC_DB": self.settings.database,
            "EVALSVC_SURVEYS": str(self.settings.surveys_path),
            "EVALSVC_SECRET": self.settings.secret_key.decode(),
            **self.extra_env,
        }

    def start(self, timeout: float = 20.0) -> Server:
        if self.script is not None:
            command = [sys.executable, str(self.script), "--port", str(self.port)]
        else:
            command = [sys.executable, "-m", "evalsvc.cli", "serve", "--port", str(self.port)]
            command += ["--log-level", "warning"]
        self.process = subprocess.Popen(
            command,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"evalsvc serve exited early:\n{err}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("evalsvc serve did not become healthy in time")

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, like a power cut for the process."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process and self.process.stderr:
            self.process.stderr.close()


@pytest.fixture
def server_factory() -> Iterator:
    started: list[Server] = []

    def make(
        settings: Settings, env: dict[str, str] | None = None, script: Path | None = None
    ) -> Server:
        server = Server(settings, env, script)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def chromium_path() -> str | None:
    return shutil.which("chromium")


@pytest.fixture
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if IN_CI:
            pytest.fail("CI must run the browser tests: Debian's chromium is not installed")
        pytest.skip("chromium is not installed (scripts/test installs it where it can)")
    return path
