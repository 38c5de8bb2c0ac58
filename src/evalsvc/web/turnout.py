"""Live turnout of a course: codes issued, questionnaires received and paired, per phase
and agency (`domain.turnout`); an API answer and a small page that refreshes itself.

Counts only, read fresh on every request (nothing is cached: they change with every
submission). A token limited to agency types sees its agencies and the totals.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from evalsvc.domain.design import ALL
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.turnout import UNASSIGNED, TurnoutRow, turnout_rows
from evalsvc.errors import Unauthorized
from evalsvc.intake import Intake
from evalsvc.settings import Settings
from evalsvc.storage.records import TokenRecord
from evalsvc.web.auth import (
    course_in_scope,
    programmes_of,
    provide_course,
    provide_reader,
    resolve_reader,
    visible_agencies,
)
from evalsvc.web.evaluator import NO_STORE
from evalsvc.web.i18n import page_context
from evalsvc.web.openapi import EVALUATOR_READ

REFRESH_SECONDS = 30


class TurnoutOut(msgspec.Struct, kw_only=True):
    course: str
    counted_at: str
    phases: list[str]
    rows: list[TurnoutRow]


async def turnout(request: Request, reader: TokenRecord, course: Course) -> TurnoutOut:
    intake: Intake = request.app.state.intake
    codes = {count.agency: count.issued for count in await intake.db.code_counts(course.id)}
    rows = await intake.db.score_rows(course.id)
    agencies = visible_agencies(request, reader, course.id)
    shown = None if agencies is None else [a for a in course.agency_ids() if a in agencies]
    return TurnoutOut(
        course=course.id,
        counted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        phases=list(course.phase_ids()),
        rows=turnout_rows(course, codes, ((r.participant, r.agency, r.phase) for r in rows), shown),
    )


class TurnoutApi(Controller):
    path = "/api/v1/courses"
    tags = ["evaluators"]
    cache_control = NO_STORE
    dependencies = {"reader": Provide(provide_reader), "course": Provide(provide_course)}

    @get(
        "/{course_id:str}/turnout",
        summary="Codes issued, questionnaires received and paired so far, per phase and agency",
        responses=EVALUATOR_READ,
    )
    async def turnout(
        self,
        request: Request,
        reader: NamedDependency[TokenRecord],
        course: NamedDependency[Course],
    ) -> TurnoutOut:
        return await turnout(request, reader, course)


class TurnoutPages(Controller):
    include_in_schema = False
    cache_control = NO_STORE

    @get("/courses/{course_id:str}/turnout")
    async def page(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        course_id: FromPath[str],
    ) -> Response:
        intake: Intake = request.app.state.intake
        try:
            reader = await resolve_reader(request, intake.db, settings.secret_key)
        except Unauthorized:
            return Redirect("/login", status_code=303)
        course = course_in_scope(intake, reader, course_id, programmes_of(request))
        counted = await turnout(request, reader, course)
        context = page_context(request)
        lang, _ = context["lang"], context["_"]
        names = {a.id: course.localize(a.name, lang) for a in course.agencies}
        names[ALL] = _("All agencies")
        names[UNASSIGNED] = _("Codes without an agency")
        phases = [
            (p.id, course.localize(p.title, lang) if p.title else p.id) for p in course.phases
        ]
        table = [
            (
                names.get(agency, agency),
                agency == ALL,
                [
                    next(r for r in counted.rows if r.phase == phase and r.agency == agency)
                    for phase, _ in phases
                ],
            )
            for agency in dict.fromkeys(r.agency for r in counted.rows)
        ]
        return Template(
            "turnout.html",
            context={
                **context,
                "course_title": course.localize(course.title, lang),
                "course_id": course.id,
                "phases": phases,
                "table": table,
                "counted_at": counted.counted_at,
                "refresh": REFRESH_SECONDS,
            },
            headers={"Refresh": str(REFRESH_SECONDS)},
        )
