"""Tables derived from a course, built once per course object and kept.

A course is immutable (a frozen struct), so what is computed from it never goes
stale. The hot paths (checking and scoring each submission) look their tables up
here instead of rebuilding them per call. Entries are keyed by the course object's
identity, checked (an id may be reused once its course is gone); a service holds a
handful of courses, so the table is simply emptied when it grows past `keep` (tests
build many).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from evalsvc.domain.questionnaire import Course

T = TypeVar("T")


class PerCourse(Generic[T]):
    def __init__(self, build: Callable[[Course, str], T], keep: int = 64) -> None:
        self.build = build
        self.keep = keep
        self._kept: dict[tuple[int, str], tuple[Course, T]] = {}

    def __call__(self, course: Course, key: str = "") -> T:
        kept = self._kept.get((id(course), key))
        if kept is not None and kept[0] is course:
            return kept[1]
        value = self.build(course, key)
        if len(self._kept) >= self.keep:
            self._kept.clear()
        self._kept[(id(course), key)] = (course, value)
        return value
