"""Evaluator access: a bearer token, or a server-side session made by the login page.

Scripts send `Authorization: Bearer <token>`. People log in once with their token
and get a session: the cookie holds only a random session id, the database only
its keyed hash. A session ends when it expires (Settings.session_hours), at
logout, or when its token is revoked; every request checks all three.

A token reaches only the courses of its scope (domain.access.Scope): for any
other course it gets the same 404 as for a course that does not exist.
"""

from __future__ import annotations

import datetime as dt

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from evalsvc.domain.codes import new_session_id, session_hash, token_hash
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Forbidden, Unauthorized
from evalsvc.intake import Intake, unknown_course
from evalsvc.settings import Settings
from evalsvc.storage import Storage
from evalsvc.storage.records import TokenRecord, timestamp

SESSION_COOKIE = "evalsvc_session"
READER_ROLES = ("evaluator", "analyst")
"""Roles that read reports; `sync` tokens only push a venue's data (web/sync.py)."""
ROLES = (*READER_ROLES, "sync")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def resolve_token(db: Storage, secret: bytes, token: str | None) -> TokenRecord:
    if not token or len(token) > 200:
        raise Unauthorized("an evaluator token is needed: Authorization: Bearer <token>")
    record = await db.token_by_hash(token_hash(secret, token))
    if record is None or record.revoked_at is not None:
        raise Unauthorized("this token is unknown or revoked")
    return record


async def resolve_reader(request: Request, db: Storage, secret: bytes) -> TokenRecord:
    """The token record behind the request's bearer token or session cookie, else 401;
    403 for a token that may not read reports (a venue's sync token)."""
    token = bearer_token(request)
    if token is not None:
        return require_reader(await resolve_token(db, secret, token))
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id and len(session_id) <= 100:
        record = await db.token_by_session(
            session_hash(secret, session_id), timestamp(dt.datetime.now(dt.UTC))
        )
        if record is not None:
            return require_reader(record)
    raise Unauthorized("log in, or send Authorization: Bearer <token>")


def require_reader(record: TokenRecord) -> TokenRecord:
    if record.role not in READER_ROLES:
        raise Forbidden(
            "this token only sends a venue's data (evalsvc sync push); it reads no reports",
            code="sync_only",
        )
    return record


async def start_session(db: Storage, settings: Settings, reader: TokenRecord) -> str:
    """A new session for `reader`; returns the id, which only the cookie keeps."""
    session_id = new_session_id()
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(hours=settings.session_hours)
    await db.add_session(
        session_hash(settings.secret_key, session_id), reader.id, timestamp(now), timestamp(expires)
    )
    return session_id


async def end_session(db: Storage, secret: bytes, session_id: str | None) -> None:
    if session_id and len(session_id) <= 100:
        await db.end_session(session_hash(secret, session_id))


async def provide_reader(
    request: Request, intake: NamedDependency[Intake], settings: NamedDependency[Settings]
) -> TokenRecord:
    """Dependency: the token record of an evaluator or analyst, else 401."""
    return await resolve_reader(request, intake.db, settings.secret_key)


async def provide_course(
    intake: NamedDependency[Intake],
    reader: NamedDependency[TokenRecord],
    course_id: FromPath[str],
) -> Course:
    """Dependency: the course, if the reader's scope reaches it; else 404 as if unknown."""
    return course_in_scope(intake, reader, course_id)


def course_in_scope(intake: Intake, reader: TokenRecord, course_id: str) -> Course:
    if not reader.scope.allows_course(course_id):
        raise unknown_course(course_id)
    return intake.course(course_id)


def require_analyst(reader: TokenRecord) -> None:
    if reader.role != "analyst":
        raise Forbidden(
            "participant-level data is for analysts; this token has the evaluator role",
            code="analyst_only",
        )
