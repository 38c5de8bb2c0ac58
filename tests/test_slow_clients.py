"""Slow clients against a real `evalsvc serve`, with both of uvicorn's HTTP parsers.

Short configured limits (1 s) stand in for the defaults (10 s headers, 30 s body):
a client that trickles its headers or its body is answered 408 and disconnected
within the limit, and /healthz stays quick meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

LIMIT = 1.0
SLACK = 5.0  # generous: the machine may be busy; the limit's default is 10 s anyway
PATH = b"/api/v1/courses/tiny/responses"


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setblocking(False)
    return sock


def slow_header(port: int) -> socket.socket:
    sock = connect(port)
    sock.send(b"POST " + PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def slow_body(port: int) -> socket.socket:
    sock = connect(port)
    sock.send(
        b"POST " + PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b'Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"answers": "'
    )
    return sock


def trickle_until_closed(sockets: list[socket.socket]) -> dict[socket.socket, bytes]:
    """Send one more byte on each socket every 0.2 s, as a slowloris does, and collect
    what the server says until it closes them (or SLACK runs out)."""
    said = {sock: b"" for sock in sockets}
    still_open = set(sockets)
    give_up = time.monotonic() + LIMIT + SLACK
    while still_open and time.monotonic() < give_up:
        readable, _, _ = select.select(list(still_open), [], [], 0.2)
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                said[sock] += chunk
            else:
                still_open.discard(sock)
        for sock in still_open:
            with contextlib.suppress(OSError):  # closed by the server: the next read sees it
                sock.send(b"x")
    for sock in sockets:
        sock.close()
    assert not still_open, f"{len(still_open)} slow connections still open after {SLACK} s"
    return said


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_slow_headers_and_bodies_are_cut_off_while_healthz_stays_fast(
    settings, issue, server_factory, parser: str
) -> None:
    (code,) = issue(count=1, agency="border")
    env = {
        "EVALSVC_HTTP": parser,
        "EVALSVC_HEADER_TIMEOUT": str(LIMIT),
        "EVALSVC_BODY_TIMEOUT": str(LIMIT),
    }
    server = server_factory(settings, env=env).start()
    headers = [slow_header(server.port) for _ in range(20)]
    bodies = [slow_body(server.port) for _ in range(20)]
    idle = [connect(server.port) for _ in range(5)]  # connected, never a byte

    # the service answers others at once while the slow ones hold their connections
    assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200

    said = trickle_until_closed(headers + bodies)
    for sock in headers:
        assert said[sock].startswith(b"HTTP/1.1 408 "), said[sock][:80]
    for sock in bodies:
        answer = said[sock]
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        assert b"connection: close" in answer.lower()
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] == "request_timeout"
    for sock in idle:  # closed without a word
        sock.setblocking(True)
        sock.settimeout(LIMIT + SLACK)
        assert sock.recv(100) == b""
        sock.close()

    # a client that is slow but within the limits is served as usual
    body = json.dumps(
        {"submission_id": str(uuid.uuid4()), "phase": "pre", "code": code,
         "answers": {"sa_detect": 3}}
    ).encode()  # fmt: skip
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"POST " + PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(LIMIT / 5)
    sock.sendall(b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
    sock.sendall(body[:10])
    time.sleep(LIMIT / 5)
    sock.sendall(body[10:])
    assert sock.recv(100).startswith(b"HTTP/1.1 201 ")
    sock.close()
    assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
