"""Schema 6: the donor role (and the sync role), on a database upgraded from schema 5
(tokens and sessions kept)."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from evalsvc.storage.migrations import MIGRATIONS, statements
from tests.conftest import run_cli
from tests.programme_helpers import PROGRAMME, programme_settings, surveys_env


def schema_5_database(path) -> None:
    """A database as schema 5 left it, holding an analyst token and its live session."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for migration in MIGRATIONS[:5]:
            for statement in statements(migration.sqlite):
                conn.execute(statement)
        conn.execute(
            "INSERT INTO tokens (name, role, token_hash, created_at, scope)"
            " VALUES ('old', 'analyst', x'0102', '2026-01-01T00:00:00.000Z', '{}')"
        )
        conn.execute(
            "INSERT INTO sessions (id_hash, token_id, created_at, expires_at)"
            " VALUES (x'aa', 1, '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')"
        )
        conn.execute("PRAGMA user_version = 5")
        conn.commit()


def test_a_schema_5_database_takes_donor_tokens_and_keeps_its_sessions(tmp_path) -> None:
    settings = programme_settings(tmp_path)
    schema_5_database(settings.db_path)
    env = {"EVALSVC_SURVEYS": surveys_env(settings)}
    made = run_cli(
        settings, "token", "create", "--role", "donor", "--name", "canada",
        "--programme", PROGRAMME, **env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        roles = conn.execute("SELECT id, role FROM tokens ORDER BY id").fetchall()
        assert roles == [(1, "analyst"), (2, "donor")]
        assert conn.execute("SELECT token_id FROM sessions").fetchall() == [(1,)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'sessions'").fetchone()[0]
        assert "REFERENCES tokens(id)" in sql.replace('"', "")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO tokens (name, role, token_hash, created_at)"
                " VALUES ('x', 'superuser', x'03', '2026-01-01')"
            )
    listed = run_cli(settings, "token", "list", **env)
    assert "\tdonor\tcanada\tprogrammes test-prog\t" in listed.stdout
