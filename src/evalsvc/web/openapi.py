"""What the OpenAPI document says beyond what Litestar infers from signatures.

Every error of the API has one JSON shape, `ErrorOut`; each handler lists the
statuses it can answer with, so clients (and schemathesis) can rely on them.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or a body of the wrong shape",
    401: "No token, or an unknown or revoked one",
    403: "Unknown code, phase closed, or a role without access",
    404: "Unknown course, phase or download",
    409: "This code has already submitted this phase",
    413: "The request body is larger than the limit",
    422: "Answers that are not valid, or a reused submission_id",
    429: "Too many failed code attempts from this address",
    503: "The database cannot store or read right now; nothing was stored",
}


class ErrorOut(msgspec.Struct):
    error: str
    message: str
    fields: dict[str, str]


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ErrorOut,
            description=ERROR_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in statuses
    }


PARTICIPANT_READ = errors(400, 404, 503)
PARTICIPANT_WRITE = errors(400, 403, 404, 409, 413, 422, 429, 503)
EVALUATOR_READ = errors(400, 401, 403, 404, 503)


def forbid_extra_properties(app: Litestar, *components: str) -> None:
    """Say in the schema what msgspec's forbid_unknown_fields enforces."""
    schemas = app.openapi_schema.components.schemas or {}
    for name in components:
        schemas[name].additional_properties = False
