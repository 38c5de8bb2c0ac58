"""Time limits for clients that send a request slowly (slowloris and slow-body).

uvicorn limits only how long an idle keep-alive connection stays open, so a client
that sends its headers or its body a byte at a time holds a connection for ever.
Two limits close such connections:

- The headers: `header_deadline_protocol` wraps uvicorn's HTTP protocol (h11 or
  httptools alike). From the first byte of a request, or from the connection's
  start, its line and headers must arrive within the limit; otherwise the
  connection gets 408 (nothing if it never sent a byte) and is closed. Headers are
  parsed before the application sees a request, so this limit can only live at the
  protocol level. The same clock closes a connection that keeps trickling the
  unread body of a request already answered.
- The body: `BodyDeadlineMiddleware` bounds, at the ASGI level, how long the
  application waits for the rest of a body once the headers have arrived. When it
  runs out the request fails with `RequestTimeout`, answered 408 with
  `Connection: close`, so the server closes the connection after the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar, cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from evalsvc.errors import ConfigError, RequestTimeout

PARSERS = ("auto", "h11", "httptools")

_HEADER_TIMEOUT_BODY = b"the request headers did not arrive in time\n"
HEADER_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"x-content-type-options: nosniff\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_HEADER_TIMEOUT_BODY), _HEADER_TIMEOUT_BODY)
)


class BodyDeadlineMiddleware(ASGIMiddleware):
    """The whole request body must arrive within `seconds` of the application's start.

    One timer per request that reads a body, set at its first receive and cancelled
    once the body is complete: an `asyncio.timeout` around every receive cost about
    7% of a JSON request's CPU. When the timer fires while the application waits for
    the body, it cancels that wait, which ends as `RequestTimeout`; a receive that
    comes after the deadline fails at once.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        deadline = BodyDeadline(receive, self.seconds)
        try:
            await next_app(scope, deadline.receive, send)
        finally:
            deadline.stop()


class BodyDeadline:
    """The clock of one request's body (see BodyDeadlineMiddleware)."""

    __slots__ = ("_receive", "seconds", "_deadline", "_timer", "_task", "_waiting", "_expired")

    def __init__(self, receive: Receive, seconds: float) -> None:
        self._receive = receive
        self.seconds = seconds
        self._deadline: float | None = asyncio.get_running_loop().time() + seconds
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._waiting = False
        self._expired = False

    def _expire(self) -> None:
        self._timer = None
        self._expired = True
        if self._waiting and self._task is not None:
            self._task.cancel()

    def _timed_out(self) -> RequestTimeout:
        return RequestTimeout(
            f"the request body did not arrive within {self.seconds:g} s;"
            " nothing was stored, please send it again",
        )

    def stop(self) -> None:
        """The body is complete (or the request is over): no more limit."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = None

    async def receive(self) -> ReceiveMessage:
        if self._deadline is None:  # later receives only wait for a disconnect: no limit
            return await self._receive()
        if self._expired:
            raise self._timed_out()
        if self._timer is None:
            self._task = asyncio.current_task()
            self._timer = asyncio.get_running_loop().call_at(self._deadline, self._expire)
        self._waiting = True
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            task = self._task
            if self._expired and task is not None and task.uncancel() == 0:
                raise self._timed_out() from None
            raise
        finally:
            self._waiting = False
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.stop()
        return message


class HeaderDeadlineProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol (`parser_class`), wrapped: every event is passed on, and
    a clock closes the connection when a request's headers take too long.

    A wrapper rather than a subclass, so the same code serves h11 and httptools;
    it reads only `cycle` and `cycle.response_complete`, which both keep.
    """

    parser_class: ClassVar[Callable[..., Any]]
    seconds: ClassVar[float]

    def __init__(self, **uvicorn_arguments: Any) -> None:
        self.http = self.parser_class(**uvicorn_arguments)
        self.transport: asyncio.BaseTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.seen_cycle: object | None = None
        self.received = False

    # -- the clock -----------------------------------------------------------------
    def arm(self) -> None:
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.seconds, self.expire)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def between_requests(self) -> bool:
        cycle = self.http.cycle
        return cycle is None or bool(cycle.response_complete)

    def expire(self) -> None:
        self.timer = None
        # duck-typed: uvloop's transports (uvicorn[standard]) are not subclasses of
        # asyncio's, though they have the same methods
        transport = cast(asyncio.WriteTransport | None, self.transport)
        if transport is None or transport.is_closing():
            return
        if self.received:  # a connection that never sent a byte just closes
            transport.write(HEADER_TIMEOUT_RESPONSE)
        transport.close()

    # -- asyncio.Protocol, passed on ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.http.connection_made(transport)
        self.arm()

    def data_received(self, data: bytes) -> None:
        if self.between_requests():
            self.received = True
            self.arm()  # a new request begins (or the unread rest of an answered one)
        self.http.data_received(data)
        cycle = self.http.cycle
        if cycle is not None and cycle is not self.seen_cycle and not cycle.response_complete:
            self.seen_cycle = cycle  # the parser made a new request: its headers are in
            self.received = False
            self.disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        self.http.connection_lost(exc)

    def eof_received(self) -> bool | None:
        result: bool | None = self.http.eof_received()
        return result

    def pause_writing(self) -> None:
        self.http.pause_writing()

    def resume_writing(self) -> None:
        self.http.resume_writing()


def header_deadline_protocol(parser: str, seconds: float) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn (`http=`): `parser` with the header deadline."""
    if parser not in PARSERS:
        raise ConfigError(f"unknown HTTP parser {parser!r}; use one of {', '.join(PARSERS)}")
    parser_class: Callable[..., Any]
    if parser in ("auto", "httptools"):
        try:
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            parser_class = HttpToolsProtocol
        except ImportError:
            if parser == "httptools":
                raise ConfigError("the httptools parser is not installed") from None
            parser = "h11"
    if parser == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        parser_class = H11Protocol

    class WithHeaderDeadline(HeaderDeadlineProtocol):
        pass

    WithHeaderDeadline.parser_class = parser_class
    WithHeaderDeadline.seconds = seconds
    return WithHeaderDeadline
