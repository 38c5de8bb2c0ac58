"""Maps evalsvc and framework errors to responses: JSON for the API, pages for forms."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from evalsvc.errors import EvalsvcError, RequestError, StorageUnavailable

log = logging.getLogger(__name__)

_SLUGS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "storage_unavailable",
}


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(
    request: Request, status: int, code: str, message: str, fields: dict[str, str]
) -> Response:
    headers = {}
    if status == 503:
        headers["Retry-After"] = "5"
    if status == 408:
        # the rest of a too-slow body may still be on its way: close, do not read on
        headers["Connection"] = "close"
    if _wants_html(request):
        from evalsvc.web.i18n import page_context

        return Template(
            template_name="error.html",
            context={**page_context(request), "status": status, "error": code, "message": message},
            status_code=status,
            headers=headers,
        )
    return Response(
        content={"error": code, "message": message, "fields": fields},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def evalsvc_error_handler(request: Request, exc: EvalsvcError) -> Response:
    if isinstance(exc, RequestError):
        response = _respond(request, exc.status_code, exc.code, exc.message, exc.fields)
        retry = getattr(exc, "retry_after", None)
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response
    if isinstance(exc, StorageUnavailable):
        return _respond(request, 503, exc.code, str(exc), {})
    log.exception("unexpected evalsvc error", exc_info=exc)
    return _respond(request, 500, "internal_error", "internal error", {})


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    fields: dict[str, str] = {}
    message = exc.detail
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        for problem in exc.extra:
            if isinstance(problem, dict):
                key = str(problem.get("key") or problem.get("source") or "body")
                fields[key] = str(problem.get("message", "invalid"))
        message = (
            "the request body is not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
            if fields
            else message
        )
    if status == 413:
        message = "the request body is too large"
    response = _respond(request, status, _SLUGS.get(status, "error"), message, fields)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return _respond(request, 500, "internal_error", "internal error", {})


def nesting_error_handler(request: Request, exc: RecursionError) -> Response:
    # msgspec gives up on absurdly deep JSON with RecursionError: the client's fault
    return _respond(request, 400, "bad_request", "the request body is nested too deeply", {})
