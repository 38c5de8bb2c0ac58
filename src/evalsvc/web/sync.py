"""The central server's end of `evalsvc sync push`, for tokens of the `sync` role.

The token is checked before the body is read: the push endpoint takes bodies of up
to SYNC_MAX_BODY_BYTES, which only a venue's token may send.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency

from evalsvc.domain.codes import key_fingerprint
from evalsvc.errors import BadRequest, Forbidden
from evalsvc.intake import Intake
from evalsvc.settings import Settings
from evalsvc.storage.records import TokenRecord
from evalsvc.sync.receive import receive
from evalsvc.sync.wire import (
    KNOWN_MAX_IDS,
    SYNC_MAX_BODY_BYTES,
    KnownAnswer,
    KnownQuestion,
    SyncBatch,
    SyncResult,
)
from evalsvc.web.auth import bearer_token, resolve_token
from evalsvc.web.openapi import errors

SYNC_ERRORS = errors(400, 401, 403, 404, 409, 413, 422, 503)


async def _sync_token(request: Request, intake: Intake, settings: Settings) -> TokenRecord:
    record = await resolve_token(intake.db, settings.secret_key, bearer_token(request))
    if record.role != "sync":
        raise Forbidden(
            "pushing a venue's data needs a token of the sync role"
            " (evalsvc token create --role sync)",
            code="sync_role_needed",
        )
    return record


async def _body(request: Request, kind: type[msgspec.Struct]) -> msgspec.Struct:
    try:
        return msgspec.json.decode(await request.body(), type=kind)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the request body is not valid: {exc}") from None


class SyncApi(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]

    @post(
        "/submissions",
        summary="Store a venue's codes and submissions (a batch of `evalsvc sync push`)",
        description=(
            "Body: {key_fingerprint, codes: [...], submissions: [...]} as evalsvc sync push"
            " sends it. Idempotent by submission_id; any phase window; the venue's"
            " received_at is kept; scores are computed with this server's course files."
        ),
        status_code=200,
        request_max_body_size=SYNC_MAX_BODY_BYTES,
        responses=SYNC_ERRORS,
    )
    async def push(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        settings: NamedDependency[Settings],
    ) -> SyncResult:
        token = await _sync_token(request, intake, settings)
        batch = await _body(request, SyncBatch)
        assert isinstance(batch, SyncBatch)
        return await receive(
            intake.db, intake.courses, batch, key_fingerprint(settings.secret_key), token.scope
        )

    @post(
        "/submissions/known",
        summary="Which of these submission ids this server already has",
        description=f"Body: {{submission_ids: [...]}}, at most {KNOWN_MAX_IDS} ids.",
        status_code=200,
        responses=SYNC_ERRORS,
    )
    async def known(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        settings: NamedDependency[Settings],
    ) -> KnownAnswer:
        await _sync_token(request, intake, settings)
        question = await _body(request, KnownQuestion)
        assert isinstance(question, KnownQuestion)
        if len(question.submission_ids) > KNOWN_MAX_IDS:
            raise BadRequest(f"ask about at most {KNOWN_MAX_IDS} submission ids at once")
        known = await intake.db.known_submissions(question.submission_ids)
        return KnownAnswer(known=sorted(known))
