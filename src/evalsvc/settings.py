"""Typed settings read from EVALSVC_* environment variables.

Loud by design: a malformed value stops the start with a message naming the
variable, rather than running with a surprising default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import msgspec

from evalsvc.errors import ConfigError


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    db_path: Path = Path("var/evalsvc.sqlite3")
    """The SQLite file, unless `db_url` names a PostgreSQL database."""
    db_url: str = ""
    """postgresql://user:password@host:port/database: the server engine, instead of SQLite."""
    db_pool_size: int = 10
    """PostgreSQL: most connections one instance opens."""
    db_writers: int = 2
    """PostgreSQL: transactions one instance commits submissions in at once."""
    surveys_path: Path = Path("surveys")
    """The first (or only) folder of course folders."""
    more_surveys: tuple[Path, ...] = ()
    """Further folders of course folders: EVALSVC_SURVEYS=surveys:examples."""
    secret_key: bytes = b""
    secret_file: Path = Path("var/secret.key")
    key_origin: str = ""
    """Where `secret_key` came from, for messages: EVALSVC_SECRET or the key file."""
    max_body_bytes: int = 64 * 1024
    code_failures_per_minute: int = 30
    """Failed code attempts one client address may make per minute before 429."""
    batch_max: int = 256
    """Most submissions the single writer commits in one transaction."""
    cookie_secure: bool = False
    session_hours: float = 12.0
    """How long an evaluator's login lasts; logging out or revoking the token ends it sooner."""
    header_timeout_seconds: float = 10.0
    """A request's line and headers must arrive within this, else 408 and the connection closes."""
    body_timeout_seconds: float = 30.0
    """A request's body must arrive within this once its headers have, else 408."""
    http_parser: str = "auto"
    """uvicorn's HTTP parser: auto (httptools when installed, else h11), h11 or httptools."""
    base_url: str = ""
    """Public URL printed on code cards and by `scripts/serve`, e.g. https://eval.example.org."""

    @property
    def database(self) -> str:
        """Where the data is, as EVALSVC_DB or --db gave it (for messages and commands)."""
        return self.db_url or str(self.db_path)

    @property
    def survey_folders(self) -> tuple[Path, ...]:
        """Every folder of course folders (and of `programmes/`), in the order given."""
        return (self.surveys_path, *self.more_surveys)

    def with_database(self, location: str) -> Settings:
        """The same settings on another database (a file path, sqlite:///, postgresql://)."""
        return msgspec.structs.replace(self, **database_fields(location))

    def with_secret(self) -> Settings:
        """The same settings with a secret key, read from or created in `secret_file`."""
        if self.secret_key:
            return self
        key, created = load_or_create_secret(self.secret_file)
        origin = (
            f"{self.secret_file}, made just now because the file was missing"
            if created
            else str(self.secret_file)
        )
        return msgspec.structs.replace(self, secret_key=key, key_origin=origin)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def database_fields(location: str) -> dict[str, object]:
    """EVALSVC_DB's value as settings: postgresql:// selects PostgreSQL; a file path,
    or sqlite:///PATH (sqlite:////ABSOLUTE), selects SQLite."""
    if location.startswith(POSTGRES_SCHEMES):
        return {"db_url": location}
    if location.startswith("sqlite://"):
        path = location[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise ConfigError(f"{location!r}: write sqlite:///relative/path or sqlite:////abs/path")
        location = path[1:]
    elif "://" in location:
        raise ConfigError(
            f"{location!r} is neither a file nor a postgresql:// or sqlite:/// address"
        )
    return {"db_path": Path(location), "db_url": ""}


_ENV = {
    "EVALSVC_SECRET_FILE": ("secret_file", Path),
    "EVALSVC_MAX_BODY_BYTES": ("max_body_bytes", int),
    "EVALSVC_CODE_FAILURES_PER_MINUTE": ("code_failures_per_minute", int),
    "EVALSVC_BATCH_MAX": ("batch_max", int),
    "EVALSVC_DB_POOL": ("db_pool_size", int),
    "EVALSVC_DB_WRITERS": ("db_writers", int),
    "EVALSVC_COOKIE_SECURE": ("cookie_secure", bool),
    "EVALSVC_SESSION_HOURS": ("session_hours", float),
    "EVALSVC_HEADER_TIMEOUT": ("header_timeout_seconds", float),
    "EVALSVC_BODY_TIMEOUT": ("body_timeout_seconds", float),
    "EVALSVC_HTTP": ("http_parser", str),
    "EVALSVC_BASE_URL": ("base_url", str),
}


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for variable, (field, kind) in _ENV.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        values[field] = _parse(variable, raw, kind)
    location = environ.get("EVALSVC_DB", "")
    if location:
        values.update(database_fields(location))
    surveys = [part for part in environ.get("EVALSVC_SURVEYS", "").split(":") if part]
    if surveys:
        # several folders separated by ':' (as PATH), e.g. surveys:examples
        values["surveys_path"] = Path(surveys[0])
        values["more_surveys"] = tuple(Path(part) for part in surveys[1:])
    secret = environ.get("EVALSVC_SECRET", "")
    if secret:
        if len(secret) < 32:
            raise ConfigError("EVALSVC_SECRET must be at least 32 characters")
        values["secret_key"] = secret.encode()
        values["key_origin"] = "EVALSVC_SECRET"
    settings = Settings(**values)  # type: ignore[arg-type]
    return checked(settings)


def checked(settings: Settings) -> Settings:
    """The settings, if every value is usable; else ConfigError naming the variable."""
    for name in (
        "max_body_bytes",
        "code_failures_per_minute",
        "batch_max",
        "db_pool_size",
        "db_writers",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    if settings.http_parser not in ("auto", "h11", "httptools"):
        raise ConfigError(f"EVALSVC_HTTP={settings.http_parser!r}: use auto, h11 or httptools")
    for variable, (name, kind) in _ENV.items():
        if kind is float and not 0 < getattr(settings, name) <= 24 * 3600:
            raise ConfigError(f"{variable} must be above 0 (and at most 86400)")
    if settings.batch_max > 1000:
        # a batch's IN (...) lists must stay far below SQLite's variable limit
        raise ConfigError("EVALSVC_BATCH_MAX must be at most 1000")
    if settings.db_url and settings.db_writers >= settings.db_pool_size:
        # the writers each hold a connection while they commit: leave some for reads
        raise ConfigError("EVALSVC_DB_WRITERS must be below EVALSVC_DB_POOL")
    return settings


def _parse(variable: str, raw: str, kind: type) -> object:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{variable}={raw!r} is not a boolean (use true or false)")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a whole number") from None
    if kind is float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a number") from None
        if value != value:  # NaN
            raise ConfigError(f"{variable}={raw!r} is not a number")
        return value
    return kind(raw)


def load_or_create_secret(path: Path) -> tuple[bytes, bool]:
    """The key for HMACs of codes, tokens and sessions, and whether it was made now.

    Made once and kept private to the owner. Whether it is the key the database was
    made with is checked when storage opens (`evalsvc.storage.open_storage`).
    """
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_secret(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key, True
    if len(key) < 32:
        raise ConfigError(f"{path} holds a secret key shorter than 32 characters")
    return key, False
