"""Steps of taking a submission that both the API and the forms share."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Request

from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Forbidden, TooManyRequests
from evalsvc.intake import Identity, Intake
from evalsvc.web.throttle import FailureThrottle


def intake_of(request: Request) -> Intake:
    """The app's Intake, straight from its state: the hot participant routes read it
    so rather than as an injected dependency, which Litestar resolves per request."""
    intake: Intake = request.app.state.intake
    return intake


def throttle_of(request: Request) -> FailureThrottle:
    throttle: FailureThrottle = request.app.state.throttle
    return throttle


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many(throttle: FailureThrottle, client: str) -> TooManyRequests:
    error = TooManyRequests(
        "too many wrong codes from this address; wait a minute and try again",
        code="too_many_code_attempts",
    )
    error.retry_after = throttle.retry_after(client)
    return error


async def identify_or_throttle(
    request: Request,
    intake: Intake,
    throttle: FailureThrottle,
    course: Course,
    code: str | None,
    pairing: Mapping[str, str] | None,
) -> Identity:
    """Resolve the code, then decide against the client's failures at that moment.

    The check before the lookup only spares the database while an address is over
    its limit; the answer itself is decided after the lookup, with no await
    between reading the count and adding to it (see web/throttle.py).
    """
    client = client_key(request)
    if throttle.over_limit(client):
        raise too_many(throttle, client)
    try:
        identity = await intake.identify(course, code, pairing)
    except Forbidden:
        if throttle.admit_failure(client):
            raise
        raise too_many(throttle, client) from None
    if throttle.over_limit(client):
        raise too_many(throttle, client)
    return identity
