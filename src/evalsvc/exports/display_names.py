"""What the reports call things: measures, phases, comparisons, groups, skills, answers.

Names of agencies, breakdown items and their groups, skills and phases come from the
report (in its language); items and their options from the course. The words of the
report itself are in the report's language (`report_i18n.tr`), English where a text
has no translation yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalsvc.domain.design import ALL, Comparison, Measure
from evalsvc.domain.questionnaire import DONT_KNOW, NOT_APPLICABLE, Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.formatting import DASH
from evalsvc.exports.report_i18n import R_, tr
from evalsvc.exports.report_words import measure_unit

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

EVERYONE = R_("All participants")
ALL_SKILLS = R_("Total (all skills)")
_ANSWER_WORDS = {
    DONT_KNOW: R_("I don't know"),
    NOT_APPLICABLE: R_("Does not apply"),
    "true": R_("True"),
    "false": R_("False"),
}


class DisplayNames:
    def __init__(self, report: CourseReport, course: Course) -> None:
        self.lang = report.lang
        self.baseline = report.design.phases[0] if report.design.phases else ""
        self.first_later = report.design.phases[1] if len(report.design.phases) > 1 else ""
        self.measures: dict[str, Measure] = {m.id: m for m in report.design.measures}
        self.phases = {p.id: p.name for p in report.phases}
        self.breakdowns = {b.id: tr(b.name) for b in report.breakdowns}
        self.breakdowns[ALL] = tr(EVERYONE)
        self.groups = {
            (breakdown, g.id): tr(g.name) if g.id == "not_stated" else g.name
            for breakdown, named in report.groups.items()
            for g in named
        }
        self.skills = {s.id: s.name for s in report.skills}
        self.skills[TOTAL] = tr(ALL_SKILLS)
        self._course = course
        self._items = {item.id: item for item in course.items}

    # -- measures ----------------------------------------------------------------------

    def measure(self, measure_id: str) -> str:
        found = self.measures.get(measure_id)
        return tr(found.label) if found is not None else measure_id

    @staticmethod
    def unit(measure: Measure) -> str:
        return measure_unit(measure.id, measure.unit, measure.minimum, measure.maximum)

    @staticmethod
    def gain_unit(measure: Measure) -> str:
        """The unit of a difference (percentage points for percentages)."""
        return tr(measure.gain_unit)

    def measure_legend(self, measure: Measure) -> str:
        """The labelled points of the scale a measure is on ("" when it has none)."""
        scale = self._course.self_assessment_scale() if measure.id == "confidence" else None
        return self.scale_legend(scale_id=scale.id) if scale is not None else ""

    @staticmethod
    def direction(measure: Measure) -> str:
        return tr("higher is better") if measure.higher_is_better else tr("lower is better")

    # -- phases and comparisons --------------------------------------------------------

    def phase(self, phase_id: str) -> str:
        name = self.phases.get(phase_id, phase_id)
        return name.replace("_", " ") if name == phase_id else name

    def comparison(self, comparison: Comparison) -> str:
        """ "pre → post", with the phases' names."""
        return f"{self.phase(comparison.from_phase)} → {self.phase(comparison.to_phase)}"

    def comparison_kind(self, comparison: Comparison) -> str:
        """What the comparison shows, read from its phases."""
        if comparison.from_phase != self.baseline:
            return tr("retention: change since %(phase)s", phase=self.phase(comparison.from_phase))
        if comparison.to_phase == self.first_later:
            return tr("change over the course")
        return tr(
            "lasting change, from the start to %(phase)s", phase=self.phase(comparison.to_phase)
        )

    def comparison_title(self, comparison: Comparison) -> str:
        return f"{self.comparison(comparison)} ({self.comparison_kind(comparison)})"

    # -- groups and skills ---------------------------------------------------------------

    def breakdown(self, breakdown_id: str) -> str:
        return self.breakdowns.get(breakdown_id, breakdown_id)

    def group(self, breakdown_id: str, group: str) -> str:
        if group == ALL:
            return tr(EVERYONE)
        return self.groups.get((breakdown_id, group), group)

    def skill(self, skill_id: str | None) -> str:
        return DASH if skill_id is None else self.skills.get(skill_id, skill_id)

    # -- items and answers -----------------------------------------------------------------

    def item(self, item_id: str) -> str:
        item = self._items.get(item_id)
        return self._course.localize(item.text, self.lang) if item is not None else item_id

    def answer(self, item_id: str, answer: str) -> str:
        """An option id or scale point as the reader knows it."""
        if answer in _ANSWER_WORDS:
            return tr(_ANSWER_WORDS[answer])
        item = self._items.get(item_id)
        if item is None:
            return answer
        for option in item.options:
            if option.id == answer:
                return self._course.localize(option.text, self.lang)
        scale = self._course.scale(item.scale)
        if scale is not None:
            for label in scale.labels:
                if str(label.value) == answer:
                    return f"{answer} {self._course.localize(label.text, self.lang)}"
        return answer

    def scale_legend(self, item_id: str | None = None, *, scale_id: str | None = None) -> str:
        """ "1 = Strongly disagree; 5 = Strongly agree" for an item's (or a) scale."""
        if item_id is not None:
            item = self._items.get(item_id)
            scale_id = item.scale if item is not None else None
        scale = self._course.scale(scale_id)
        if scale is None:
            return ""
        return "; ".join(
            f"{label.value} = {self._course.localize(label.text, self.lang)}"
            for label in scale.labels
        )
