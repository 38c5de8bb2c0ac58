"""What an access token may read: its scope, as data.

A scope narrows a token along independent axes; each axis left as None does not
narrow it. Today the one axis is courses; programmes and agency types can join as
further fields without changing how a scope is checked or stored.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec


class Scope(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Stored as JSON with the token. Unknown fields are refused rather than ignored:
    a scope written by a newer evalsvc must never read as wider than it is."""

    courses: tuple[str, ...] | None = None
    """The courses the token reaches; None: every course."""

    def allows_course(self, course_id: str) -> bool:
        return self.courses is None or course_id in self.courses

    def visible_courses(self, course_ids: Iterable[str]) -> list[str]:
        """The given course ids this scope reaches, in their given order."""
        return [course_id for course_id in course_ids if self.allows_course(course_id)]

    def describe(self) -> str:
        if self.courses is None:
            return "all courses"
        return "courses " + ", ".join(self.courses)


EVERYTHING = Scope()
