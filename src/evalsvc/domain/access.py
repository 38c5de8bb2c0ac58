"""What an access token may read: its role and its scope, as data.

Roles: ``evaluator`` (aggregates of courses and programmes), ``analyst`` (also the
participant-level downloads of courses), ``donor`` (programme aggregates and
indicators only: never a course's own endpoints, so never a course's per-agency rows)
and ``sync`` (reads nothing: it only pushes a venue laptop's data to a server).

A scope narrows a token along independent axes:

* **reach** -- `courses` and `programmes` together: both None reaches every course
  and programme; otherwise exactly the listed courses, plus the listed programmes
  (for an evaluator or analyst, with their member courses). A token made for
  courses reaches no programme unless one is listed too;
* **agency types** -- None: every agency; else only the rows of agencies of these
  types (and the rows over everyone, "all"), for a national focal point.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

Role = str
READER_ROLES = ("evaluator", "analyst", "donor")
"""Roles that read reports."""
ROLES = (*READER_ROLES, "sync")


class Scope(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Stored as JSON with the token. Unknown fields are refused rather than ignored:
    a scope written by a newer evalsvc must never read as wider than it is."""

    courses: tuple[str, ...] | None = None
    """The courses the token reaches; None (with programmes None): every course."""
    programmes: tuple[str, ...] | None = None
    """The programmes the token reaches (with their courses, unless the token is a donor's)."""
    agency_types: tuple[str, ...] | None = None
    """Only rows of agencies of these types (and "all" rows); None: every agency."""

    @property
    def everything(self) -> bool:
        return self.courses is None and self.programmes is None

    def allows_programme(self, programme_id: str) -> bool:
        return self.everything or programme_id in (self.programmes or ())

    def allows_course(self, course_id: str, programmes_of: Iterable[str] = ()) -> bool:
        """Whether the scope reaches a course; `programmes_of` are the programmes that
        have it (a programme in the scope brings its courses)."""
        if self.everything or course_id in (self.courses or ()):
            return True
        return any(self.allows_programme(p) for p in programmes_of if self.programmes)

    def visible_courses(
        self, course_ids: Iterable[str], programmes_of: dict[str, list[str]] | None = None
    ) -> list[str]:
        """The given course ids this scope reaches, in their given order."""
        memberships = programmes_of or {}
        return [c for c in course_ids if self.allows_course(c, memberships.get(c, ()))]

    def visible_programmes(self, programme_ids: Iterable[str]) -> list[str]:
        return [p for p in programme_ids if self.allows_programme(p)]

    @property
    def limited_to_agency_types(self) -> bool:
        return self.agency_types is not None

    def describe(self) -> str:
        parts = []
        if self.everything:
            parts.append("all courses and programmes")
        else:
            if self.courses:
                parts.append("courses " + ", ".join(self.courses))
            if self.programmes:
                parts.append("programmes " + ", ".join(self.programmes))
            if not parts:
                parts.append("nothing")
        if self.agency_types is not None:
            parts.append("agency types " + ", ".join(self.agency_types))
        return "; ".join(parts)


EVERYTHING = Scope()


def reaches_courses(role: Role) -> bool:
    """Donors read programmes only."""
    return role != "donor"
