"""validate_answers keeps each course's item tables (options, scale) once built:
they must belong to that course object alone, and never go stale."""

from __future__ import annotations

import msgspec

from evalsvc.catalog import load_paths
from evalsvc.domain.answers import phase_rules, validate_answers
from evalsvc.domain.questionnaire import Option
from tests.conftest import TEST_SURVEYS


def test_each_course_object_is_checked_against_its_own_items() -> None:
    course = load_paths([TEST_SURVEYS]).courses["tiny"]
    k1 = next(item for item in course.items if item.id == "k1")
    offered = {o.id for o in k1.options}
    renamed = msgspec.structs.replace(
        k1, options=tuple(Option(id=f"new_{o.id}", text=o.text) for o in k1.options)
    )
    other = msgspec.structs.replace(
        course, items=tuple(renamed if item.id == "k1" else item for item in course.items)
    )
    old_option = sorted(offered)[0]
    for _ in range(2):  # the second time from the kept tables
        assert "k1" not in validate_answers(course, "pre", {"k1": old_option}).errors
        errors = validate_answers(other, "pre", {"k1": old_option}).errors
        assert errors["k1"].code == "unknown_option"
        assert "k1" not in validate_answers(other, "pre", {"k1": f"new_{old_option}"}).errors
    assert phase_rules(course, "pre") is phase_rules(course, "pre")
    assert phase_rules(other, "pre")["k1"].options != phase_rules(course, "pre")["k1"].options
