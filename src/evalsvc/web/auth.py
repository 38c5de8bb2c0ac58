"""Evaluator access: bearer tokens, or a session cookie set by the login page.

Tokens are stored only as keyed hashes, so every request re-checks the hash and
a revoked token stops working at once, cookie or not.
"""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency

from evalsvc.domain.codes import token_hash
from evalsvc.errors import Forbidden, Unauthorized
from evalsvc.settings import Settings
from evalsvc.storage import Database
from evalsvc.storage.records import TokenRecord

SESSION_COOKIE = "evalsvc_session"
SESSION_SECONDS = 8 * 3600
ROLES = ("evaluator", "analyst")


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def resolve_token(db: Database, secret: bytes, token: str | None) -> TokenRecord:
    if not token or len(token) > 200:
        raise Unauthorized("an evaluator token is needed: Authorization: Bearer <token>")
    record = await db.token_by_hash(token_hash(secret, token))
    if record is None or record.revoked_at is not None:
        raise Unauthorized("this token is unknown or revoked")
    return record


async def provide_reader(request: Request, settings: NamedDependency[Settings]) -> TokenRecord:
    """Dependency: the token record of an evaluator or analyst, else 401."""
    db: Database = request.app.state.database
    return await resolve_token(db, settings.secret_key, presented_token(request))


def require_analyst(reader: TokenRecord) -> None:
    if reader.role != "analyst":
        raise Forbidden(
            "participant-level data is for analysts; this token has the evaluator role",
            code="analyst_only",
        )
