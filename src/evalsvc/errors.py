"""The one exception hierarchy of evalsvc; web/errors.py maps it to HTTP.

EvalsvcError
├── ConfigError            settings or course definitions unusable at start
├── StorageUnavailable     503: disk full, I/O error, database locked too long
└── RequestError           4xx, carries an error code and per-field messages
    ├── BadRequest         400
    ├── Unauthorized       401: no or unknown evaluator token
    ├── Forbidden          403: wrong role, unknown code, phase closed
    ├── NotFound           404
    ├── RequestTimeout     408: the request body came too slowly
    ├── Conflict           409: already submitted
    ├── Unprocessable      422: invalid answers, reused submission_id
    ├── TooManyRequests    429: too many failed code attempts
    └── FeatureUnavailable 503: a system library this feature needs is missing (PDF)
"""

from __future__ import annotations


class EvalsvcError(Exception):
    """Base of every error evalsvc raises on purpose."""


class ConfigError(EvalsvcError):
    """Settings or definitions that make the service unable to start."""


class StorageUnavailable(EvalsvcError):
    """The database cannot take or give data now; nothing was acknowledged."""

    status_code = 503
    code = "storage_unavailable"


class RequestError(EvalsvcError):
    status_code = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class BadRequest(RequestError):
    status_code = 400
    code = "bad_request"


class Unauthorized(RequestError):
    status_code = 401
    code = "unauthorized"


class Forbidden(RequestError):
    status_code = 403
    code = "forbidden"


class NotFound(RequestError):
    status_code = 404
    code = "not_found"


class RequestTimeout(RequestError):
    status_code = 408
    code = "request_timeout"


class Conflict(RequestError):
    status_code = 409
    code = "conflict"


class Unprocessable(RequestError):
    status_code = 422
    code = "invalid"


class TooManyRequests(RequestError):
    status_code = 429
    code = "too_many_requests"
    retry_after: int | None = None
    """Seconds until a retry can succeed, sent as the Retry-After header."""


class FeatureUnavailable(RequestError):
    """A feature whose system libraries are missing here, e.g. Pango for PDFs."""

    status_code = 503
    code = "unavailable"
