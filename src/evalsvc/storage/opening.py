"""The one way evalsvc opens its storage, for the web app and every CLI command alike.

`open_storage` picks the backend from the settings (a postgresql:// address:
PostgreSQL; else the SQLite file), migrates the schema and, in the same
transactions, the data (so a CLI command run first on an old database upgrades it
completely), then checks that the secret key is the one the stored codes and
tokens were hashed with. Callers get a `Storage` and know nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from evalsvc.domain.codes import key_fingerprint
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import ConfigError
from evalsvc.rescoring import upgrade_transform
from evalsvc.settings import Settings
from evalsvc.storage.port import Storage
from evalsvc.storage.postgres import PostgresStorage
from evalsvc.storage.records import KeyFacts, MigrationInput
from evalsvc.storage.sqlite import SQLiteStorage

log = logging.getLogger(__name__)


class KeyMismatch(ConfigError):
    """The secret key is not the one the database's codes and tokens were made with."""


def migration_input(courses: Mapping[str, Course]) -> MigrationInput:
    return MigrationInput(
        feedback_items={
            course.id: tuple(item.id for item in course.items_by_role("feedback"))
            for course in courses.values()
        },
        rewriters={course.id: upgrade_transform(course) for course in courses.values()},
    )


def backend(settings: Settings) -> Storage:
    """The storage the settings name, not opened yet."""
    if settings.db_url:
        return PostgresStorage(
            settings.db_url,
            batch_max=settings.batch_max,
            pool_size=settings.db_pool_size,
            writers=settings.db_writers,
        )
    return SQLiteStorage(settings.db_path, batch_max=settings.batch_max)


async def open_storage(settings: Settings, courses: Mapping[str, Course]) -> Storage:
    """An open, current, key-checked storage; the caller closes it.

    `settings` must carry its secret key (`Settings.with_secret`).
    """
    if not settings.secret_key:
        raise ConfigError("open_storage needs the secret key: call Settings.with_secret() first")
    db = backend(settings)
    await db.open(migration_input(courses))
    try:
        await check_key(db, settings)
    except BaseException:
        await db.close()
        raise
    return db


async def check_key(db: Storage, settings: Settings) -> None:
    """Refuse a key other than the one the stored codes, tokens and participants were
    hashed with; a database that holds none of them simply takes the key in use."""
    fingerprint = key_fingerprint(settings.secret_key)
    facts = await db.key_facts()
    if facts.fingerprint == fingerprint:
        return
    if facts.fingerprint is not None and facts.holds_keyed_data:
        raise KeyMismatch(mismatch_message(settings, facts, db.location))
    if facts.fingerprint is not None:
        log.warning("%s holds no codes or tokens yet: it now uses this secret key", db.location)
    await db.set_key_fingerprint(fingerprint)


def mismatch_message(settings: Settings, facts: KeyFacts, location: str) -> str:
    held = (
        f"{facts.codes} participant code(s), {facts.tokens} access token(s)"
        f" and {facts.participants} participant(s)"
    )
    return (
        f"the secret key does not match the database {location}.\n"
        f"  The database holds {held} hashed with another key, so under this key every\n"
        f'  code would be refused as "not valid" and every token with 401.\n'
        f"  The key in use comes from {settings.key_origin or 'the settings'}.\n"
        f"  Restore the key the database was made with: copy your backup of it to\n"
        f"  {settings.secret_file} (or set EVALSVC_SECRET to it), then start again.\n"
        f'  README.md, "Back up the secret key", says more. Nothing was changed.'
    )
