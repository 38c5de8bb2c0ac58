"""A throwaway PostgreSQL cluster: initdb in a temporary folder, pg_ctl on a free port.

`scripts/test` starts one for the whole suite and exports its address as
EVALSVC_TEST_PG (see `main`); the fault tests start their own, to restart it. The
server runs as a non-root user (PostgreSQL refuses root): `evalsvc-pg`, created
when missing and we are root. It listens on 127.0.0.1 only, with a random
password, and the folder is removed when it stops.

    python -m tests.pg_cluster run [--optional] -- COMMAND...
        runs COMMAND with EVALSVC_TEST_PG set to the cluster's address, then removes the
        cluster; with --optional, a cluster that cannot start (PostgreSQL missing) is a
        warning and COMMAND runs without it, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

USER = "evalsvc-pg"
SUPERUSER = "evalsvc"
ENV = "EVALSVC_TEST_PG"


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's newest, else whatever is on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_user() -> str | None:
    """Who runs postgres: ourselves unless root, else a system user made for it."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
    return USER


class Cluster:
    """One PostgreSQL server in a temporary folder, for tests and benchmarks."""

    def __init__(self, port: int | None = None) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bindir = bindir
        self.user = server_user()
        self.port = port or free_port()
        self.password = secrets.token_hex(16)
        self.root = Path(tempfile.mkdtemp(prefix="evalsvc-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)

    # -- addresses ----------------------------------------------------------------------
    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle ----------------------------------------------------------------------
    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            user=self.user,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def init(self) -> Cluster:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "-U", SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# evalsvc's throwaway test cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 300\n"
                "shared_buffers = 64MB\n"
                "logging_collector = off\n"
            )
        return self

    def start(self) -> Cluster:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "start")  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: fast (disconnect everyone, clean), immediate (like a crash)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)  # fmt: skip

    def running(self) -> bool:
        done = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return done.returncode == 0

    def remove(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        try:
            return self.init().start()
        except BaseException:
            self.remove()
            raise

    def __exit__(self, *exc: object) -> None:
        self.remove()


def main(argv: list[str]) -> int:
    optional = "--optional" in argv[:2]
    argv = [arg for arg in argv[:2] if arg != "--optional"] + argv[2:]
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[2:]
    cluster: Cluster | None = None
    try:
        cluster = Cluster()
        cluster.init().start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if cluster is not None:
            cluster.remove()
        detail = getattr(exc, "stderr", "") or ""
        if not optional or os.environ.get("CI") == "true":
            print(f"cannot start the PostgreSQL test cluster: {exc}\n{detail}", file=sys.stderr)
            return 1
        print(f"warning: no PostgreSQL test cluster ({exc}); its tests will be skipped",
              file=sys.stderr)  # fmt: skip
        return _wait(subprocess.Popen(command))
    try:
        print(f"PostgreSQL test cluster on 127.0.0.1:{cluster.port} in {cluster.root}",
              file=sys.stderr)  # fmt: skip
        return _wait(subprocess.Popen(command, env={**os.environ, ENV: cluster.dsn()}))
    finally:
        cluster.remove()


def _wait(child: subprocess.Popen[bytes]) -> int:
    # Ctrl-C reaches the child too (same process group); wait for it, then clean up
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
