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
    surveys_path: Path = Path("surveys")
    secret_key: bytes = b""
    secret_file: Path = Path("var/secret.key")
    max_body_bytes: int = 64 * 1024
    code_failures_per_minute: int = 30
    """Failed code attempts one client address may make per minute before 429."""
    batch_max: int = 256
    """Most submissions the single writer commits in one transaction."""
    cookie_secure: bool = False
    base_url: str = ""
    """Public URL printed on code cards and by `scripts/serve`, e.g. https://eval.example.org."""

    def with_secret(self) -> Settings:
        """The same settings with a secret key, read from or created in `secret_file`."""
        if self.secret_key:
            return self
        return msgspec.structs.replace(self, secret_key=load_or_create_secret(self.secret_file))


_ENV = {
    "EVALSVC_DB": ("db_path", Path),
    "EVALSVC_SURVEYS": ("surveys_path", Path),
    "EVALSVC_SECRET_FILE": ("secret_file", Path),
    "EVALSVC_MAX_BODY_BYTES": ("max_body_bytes", int),
    "EVALSVC_CODE_FAILURES_PER_MINUTE": ("code_failures_per_minute", int),
    "EVALSVC_BATCH_MAX": ("batch_max", int),
    "EVALSVC_COOKIE_SECURE": ("cookie_secure", bool),
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
    secret = environ.get("EVALSVC_SECRET", "")
    if secret:
        if len(secret) < 32:
            raise ConfigError("EVALSVC_SECRET must be at least 32 characters")
        values["secret_key"] = secret.encode()
    settings = Settings(**values)  # type: ignore[arg-type]
    for name in ("max_body_bytes", "code_failures_per_minute", "batch_max"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    if settings.batch_max > 1000:
        # a batch's IN (...) lists must stay far below SQLite's variable limit
        raise ConfigError("EVALSVC_BATCH_MAX must be at most 1000")
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
    return kind(raw)


def load_or_create_secret(path: Path) -> bytes:
    """The key for HMACs of codes and tokens; made once, kept private to the owner."""
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
        return key
    if len(key) < 32:
        raise ConfigError(f"{path} holds a secret key shorter than 32 characters")
    return key
