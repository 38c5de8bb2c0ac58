"""Steps of taking a submission that both the API and the forms share."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Request

from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Forbidden, TooManyRequests
from evalsvc.intake import Identity, Intake
from evalsvc.web.throttle import FailureThrottle


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def identify_or_throttle(
    request: Request,
    intake: Intake,
    throttle: FailureThrottle,
    course: Course,
    code: str | None,
    pairing: Mapping[str, str] | None,
) -> Identity:
    """Resolve the code; a client over its failure limit gets 429 before any lookup."""
    client = client_key(request)
    if throttle.over_limit(client):
        error = TooManyRequests(
            "too many wrong codes from this address; wait a minute and try again",
            code="too_many_code_attempts",
        )
        error.retry_after = throttle.retry_after(client)  # type: ignore[attr-defined]
        raise error
    try:
        return await intake.identify(course, code, pairing)
    except Forbidden:
        throttle.record_failure(client)
        raise
