"""Evaluator access: a bearer token, or a server-side session made by the login page.

Scripts send `Authorization: Bearer <token>`. People log in once with their token
and get a session: the cookie holds only a random session id, the database only
its keyed hash. A session ends when it expires (Settings.session_hours), at
logout, or when its token is revoked; every request checks all three.

A token reaches only the courses and programmes of its scope (domain.access.Scope):
for any other it gets the same 404 as for one that does not exist. A donor's token
reaches programmes only: every course endpoint answers it 404 as well.
"""

from __future__ import annotations

import datetime as dt

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from evalsvc.domain.access import READER_ROLES, reaches_courses
from evalsvc.domain.codes import new_session_id, session_hash, token_hash
from evalsvc.domain.programme import Programme, agency_types_of
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Forbidden, Unauthorized
from evalsvc.intake import Intake, unknown_course
from evalsvc.settings import Settings
from evalsvc.storage import Storage
from evalsvc.storage.records import TokenRecord, timestamp

SESSION_COOKIE = "evalsvc_session"


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
    request: Request,
    intake: NamedDependency[Intake],
    reader: NamedDependency[TokenRecord],
    course_id: FromPath[str],
) -> Course:
    """Dependency: the course, if the reader's role and scope reach it; else 404 as if
    unknown."""
    return course_in_scope(intake, reader, course_id, programmes_of(request))


def programmes_of(request: Request) -> dict[str, list[str]]:
    """Course id -> the programmes that have it (a programme scope brings its courses)."""
    programmes: dict[str, Programme] = request.app.state.programmes
    out: dict[str, list[str]] = {}
    for programme in programmes.values():
        for course_id in programme.course_ids():
            out.setdefault(course_id, []).append(programme.id)
    return out


def course_in_scope(
    intake: Intake,
    reader: TokenRecord,
    course_id: str,
    memberships: dict[str, list[str]] | None = None,
) -> Course:
    reached = reader.scope.allows_course(course_id, (memberships or {}).get(course_id, ()))
    if not reaches_courses(reader.role) or not reached:
        raise unknown_course(course_id)
    return intake.course(course_id)


def visible_agencies(request: Request, reader: TokenRecord, course_id: str) -> set[str] | None:
    """The agencies of a course whose rows the reader may see; None: every agency."""
    types = reader.scope.agency_types
    if types is None:
        return None
    programmes: dict[str, Programme] = request.app.state.programmes
    kinds = agency_types_of(programmes.values(), course_id)
    return {agency for agency, kind in kinds.items() if kind in types}


def visible_courses(intake: Intake, reader: TokenRecord, request: Request) -> list[str]:
    if not reaches_courses(reader.role):
        return []
    return reader.scope.visible_courses(intake.courses, programmes_of(request))


def visible_programmes(reader: TokenRecord, request: Request) -> list[str]:
    programmes: dict[str, Programme] = request.app.state.programmes
    return reader.scope.visible_programmes(programmes)


def require_analyst(reader: TokenRecord) -> None:
    if reader.role != "analyst":
        raise Forbidden(
            f"participant-level data is for analysts; this token has the {reader.role} role",
            code="analyst_only",
        )
    if reader.scope.limited_to_agency_types:
        raise Forbidden(
            "participant-level data is not given to a token limited to agency types",
            code="analyst_only",
        )
