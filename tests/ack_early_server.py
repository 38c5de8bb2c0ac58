"""The durability test's negative control: evalsvc acknowledging before COMMIT.

Only tests/test_durability.py starts this, to show that its check catches a
write-behind design; the service itself has no switch for it. It works on either
backend, as EVALSVC_DB chooses.
"""

from __future__ import annotations

import argparse
import functools

import uvicorn

from evalsvc.app import create_app
from evalsvc.settings import settings_from_env
from evalsvc.storage import opening


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # storage.open_storage makes the app's storage in its lifespan: make it acknowledge early
    opening.SQLiteStorage = functools.partial(
        opening.SQLiteStorage, ack_before_commit=True
    )
    opening.PostgresStorage = functools.partial(
        opening.PostgresStorage, ack_before_commit=True
    )
    app = create_app(settings_from_env())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
