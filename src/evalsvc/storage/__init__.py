"""Storage at the edge: the only package that knows SQL (all of it in sqlite.py).

`open_storage` is the one way the app and the CLI open it: it runs the schema
migrations and then the data migrations that need the course definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from evalsvc.storage.sqlite import Database

if TYPE_CHECKING:
    from evalsvc.domain.questionnaire import Course
    from evalsvc.settings import Settings

__all__ = ["Database", "open_storage", "storage_for"]


def storage_for(settings: Settings) -> Database:
    """The storage `settings` name, not yet open (see `open_storage`)."""
    return Database(settings.db_path, batch_max=settings.batch_max)


async def open_storage(
    settings: Settings, courses: Mapping[str, Course], db: Database | None = None
) -> Database:
    """Open the database (`db`, else a new one), migrate its schema and data."""
    from evalsvc.rescoring import upgrade_transform

    db = db if db is not None else storage_for(settings)
    await db.open()
    try:
        if 0 < db.schema_before < 3:
            # schema 3 keeps breakdown and summarised answers apart: fill them in
            for course in courses.values():
                await db.rewrite_submissions(course.id, upgrade_transform(course))
    except BaseException:
        await db.close()
        raise
    return db
