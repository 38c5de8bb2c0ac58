"""Display names of agencies, skills and items in a report's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalsvc.domain.cohort import ALL
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.formatting import DASH

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


class DisplayNames:
    """Display names of agencies, skills and items in the report's language."""

    def __init__(self, report: CourseReport, course: Course) -> None:
        self.agencies = {a.id: a.name for a in report.agencies}
        self.agencies[ALL] = "All participants"
        self.skills = {s.id: s.name for s in report.skills}
        self.skills[TOTAL] = "Total (all skills)"
        self.items = {item.id: course.localize(item.text, report.lang) for item in course.items}
        self.lang = report.lang

    def agency(self, agency_id: str) -> str:
        return self.agencies.get(agency_id, agency_id)

    def skill(self, skill_id: str | None) -> str:
        return DASH if skill_id is None else self.skills.get(skill_id, skill_id)

    def item(self, item_id: str) -> str:
        return self.items.get(item_id, item_id)
