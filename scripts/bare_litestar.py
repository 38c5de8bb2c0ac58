#!/usr/bin/env python3
"""The framework's own limit for scripts/bench_submit.py: a bare Litestar app whose one
POST route decodes a submission body into a msgspec struct and echoes it back.

Nothing else: no middleware, no dependencies, no database. Served like `evalsvc
serve` (one uvicorn worker; uvloop and httptools when installed).

    .venv/bin/python scripts/bare_litestar.py --port 18200
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, get, post


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The shape of evalsvc's SubmissionBody."""

    submission_id: uuid.UUID
    phase: str
    code: str | None = None
    pairing: dict[str, str] | None = None
    agency: str | None = None
    lang: str | None = None
    answers: dict[str, Any] = {}


@post("/echo", status_code=200)
async def echo(data: Body) -> Body:
    return data


@get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "alive"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = Litestar(route_handlers=[echo, livez], openapi_config=None)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="auto",
        http="auto",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
