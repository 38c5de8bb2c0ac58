"""Scopes for every input: what a token reaches, and what a focal point's report keeps."""

from __future__ import annotations

import os

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsvc.domain.access import Scope, reaches_courses
from evalsvc.scoped_reports import restrict_course_report, restrict_programme_report
from tests.programme_helpers import fill, programme_settings, report_of

EXAMPLES = 1000 if os.environ.get("EVALSVC_SLOW") == "1" else 200
COURSES = ("a", "b", "c", "d")
PROGRAMMES = {"p": ("a", "b"), "q": ("b", "c")}
TYPES = ("border", "customs", "justice")

names = st.sampled_from
scopes = st.builds(
    Scope,
    courses=st.none() | st.lists(names(COURSES), unique=True).map(tuple),
    programmes=st.none() | st.lists(names(tuple(PROGRAMMES)), unique=True).map(tuple),
    agency_types=st.none() | st.lists(names(TYPES), min_size=1, unique=True).map(tuple),
)


def member_of(course: str) -> list[str]:
    return [p for p, courses in PROGRAMMES.items() if course in courses]


@settings(max_examples=EXAMPLES, deadline=None)
@given(scopes, st.sampled_from(["evaluator", "analyst", "donor"]))
def test_a_scope_reaches_exactly_what_it_names(scope: Scope, role: str) -> None:
    # stored as JSON and read back, it is the same scope (never wider)
    assert msgspec.json.decode(msgspec.json.encode(scope), type=Scope) == scope
    everything = scope.courses is None and scope.programmes is None
    for programme in PROGRAMMES:
        assert scope.allows_programme(programme) == (
            everything or programme in (scope.programmes or ())
        )
    for course in COURSES:
        reached = scope.allows_course(course, member_of(course))
        expected = (
            everything
            or course in (scope.courses or ())
            or any(p in (scope.programmes or ()) for p in member_of(course))
        )
        assert reached == expected
        if role == "donor":
            assert not reaches_courses(role)
    # a token made for courses reaches no programme it was not given
    if scope.courses is not None and scope.programmes is None:
        assert not any(scope.allows_programme(p) for p in PROGRAMMES)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory):
    from evalsvc import reports as course_reports
    from evalsvc.catalog import load_paths
    from tests.programme_helpers import PROGRAMME_SURVEYS

    settings = programme_settings(tmp_path_factory.mktemp("scopes"))
    fill(settings, participants=12)
    programme = report_of(settings)
    course = load_paths([PROGRAMME_SURVEYS]).courses["prog-a"]
    import asyncio

    from evalsvc.storage import open_storage

    async def rows():
        db = await open_storage(settings.with_secret(), {"prog-a": course})
        try:
            return await course_reports.load_rows(db, course)
        finally:
            await db.close()

    loaded, counts = asyncio.run(rows())
    return course_reports.report_from(course, loaded, counts, "en"), programme


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["border", "customs", "courts"]), unique=True))
def test_a_focal_point_s_course_report_is_a_subset_with_only_its_agencies(
    reports, agencies
) -> None:
    full, _ = reports
    limited = restrict_course_report(full, agencies)
    rows = {msgspec.json.encode(r) for r in full.analysis.summary}
    for table in ("summary", "phase_counts", "attrition", "answer_summaries"):
        for row in getattr(limited.analysis, table):
            assert row.breakdown == "all" or (row.breakdown == "agency" and row.group in agencies)
    assert all(msgspec.json.encode(r) in rows for r in limited.analysis.summary)
    assert limited.analysis.group_comparisons == []
    assert {a.id for a in limited.agencies} == set(agencies)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["border", "customs", "justice"]), min_size=1, unique=True))
def test_a_focal_point_s_programme_report_keeps_totals_and_its_types(reports, types) -> None:
    _, full = reports
    limited = restrict_programme_report(full, types)
    for row in limited.analysis.summary:
        assert row.breakdown == "all" or (row.breakdown == "agency_type" and row.group in types)
    kept = {(r.scope, r.course, r.breakdown) for r in limited.analysis.summary}
    assert ("pooled", None, "all") in kept and any(s == "course" for s, _, _ in kept)
    assert limited.analysis.indicators == full.analysis.indicators
