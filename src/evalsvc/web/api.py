"""The participants' JSON API under /api/v1, and /healthz."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from evalsvc.domain import answers as answers_mod
from evalsvc.domain.presentation import QuestionnaireView, questionnaire_view
from evalsvc.domain.questionnaire import Course, LocalText
from evalsvc.errors import StorageUnavailable, Unprocessable
from evalsvc.intake import Accepted, Intake, SubmissionBody
from evalsvc.web.i18n import interface_labels
from evalsvc.web.openapi import PARTICIPANT_READ, PARTICIPANT_WRITE, errors
from evalsvc.web.participation import identify_or_throttle, intake_of, throttle_of
from evalsvc.web.throttle import FailureThrottle


class NamedOut(msgspec.Struct):
    id: str
    name: LocalText
    description: LocalText | None = None


class PhaseOut(msgspec.Struct):
    id: str
    open: bool
    opens: dt.datetime | None
    closes: dt.datetime | None


class CourseOut(msgspec.Struct):
    id: str
    title: LocalText
    description: LocalText
    venue: LocalText
    start_date: dt.date | None
    end_date: dt.date | None
    languages: list[str]
    default_language: str
    pairing: str
    min_cell_size: int
    agencies: list[NamedOut]
    skills: list[NamedOut]
    phases: list[PhaseOut]


class ReceiptOut(msgspec.Struct):
    submission_id: str
    receipt: str
    received_at: str


def course_out(course: Course) -> CourseOut:
    now = dt.datetime.now(dt.UTC)
    return CourseOut(
        id=course.id,
        title=course.title,
        description=course.description,
        venue=course.venue,
        start_date=course.start_date,
        end_date=course.end_date,
        languages=list(course.languages),
        default_language=course.default_lang,
        pairing=course.pairing.method,
        min_cell_size=course.min_cell_size,
        agencies=[NamedOut(a.id, a.name) for a in course.agencies],
        skills=[NamedOut(s.id, s.name, s.description) for s in course.skills],
        phases=[PhaseOut(p.id, p.is_open(now), p.opens, p.closes) for p in course.phases],
    )


class ParticipantApi(Controller):
    path = "/api/v1/courses"
    tags = ["participants"]

    @get("/", summary="List courses", responses=errors(503))
    async def list_courses(self, intake: NamedDependency[Intake]) -> list[CourseOut]:
        return [course_out(c) for c in intake.courses.values()]

    @get(
        "/{course_id:str}",
        summary="One course with its agencies, skills and phases",
        responses=PARTICIPANT_READ,
    )
    async def get_course(
        self, intake: NamedDependency[Intake], course_id: FromPath[str]
    ) -> CourseOut:
        return course_out(intake.course(course_id))

    @get(
        "/{course_id:str}/questionnaires/{phase:str}",
        summary="The questionnaire a participant sees (never the answer key)",
        responses=PARTICIPANT_READ,
    )
    async def get_questionnaire(
        self,
        intake: NamedDependency[Intake],
        course_id: FromPath[str],
        phase: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> QuestionnaireView:
        course = intake.course(course_id)
        if course.phase(phase) is None:
            intake.open_phase(course, phase)  # raises the 404
        language = intake.language(course, lang)
        return questionnaire_view(course, phase, language, interface_labels(language))

    @post(
        "/{course_id:str}/responses",
        summary="Submit one questionnaire; safe to retry with the same submission_id",
        status_code=201,
        responses=PARTICIPANT_WRITE,
    )
    async def post_response(
        self,
        request: Request,
        course_id: FromPath[str],
        data: JSONBody[SubmissionBody],
    ) -> Response[ReceiptOut]:
        intake = intake_of(request)
        accepted = await _accept(request, intake, throttle_of(request), course_id, data)
        stored = await intake.store(*accepted)
        return Response(
            ReceiptOut(stored.submission_id, stored.receipt, stored.received_at),
            status_code=201 if stored.created else 200,
        )

    @post(
        "/{course_id:str}/responses/check",
        summary="Check a submission exactly as POST /responses would, without storing it",
        status_code=200,
        responses=PARTICIPANT_WRITE,
    )
    async def check_response(
        self,
        request: Request,
        course_id: FromPath[str],
        data: JSONBody[SubmissionBody],
    ) -> CheckOut:
        await _accept(request, intake_of(request), throttle_of(request), course_id, data)
        return CheckOut(valid=True)


class CheckOut(msgspec.Struct):
    valid: bool


async def _accept(
    request: Request,
    intake: Intake,
    throttle: FailureThrottle,
    course_id: str,
    data: SubmissionBody,
) -> Accepted:
    """Every check of a submission, in order."""
    course = intake.course(course_id)
    intake.open_phase(course, data.phase)
    identity = await identify_or_throttle(
        request, intake, throttle, course, data.code, data.pairing
    )
    agency = intake.choose_agency(course, identity, data.agency)
    validated = answers_mod.validate_answers(course, data.phase, data.answers)
    if validated.errors:
        raise Unprocessable(
            f"{len(validated.errors)} answer(s) are not valid",
            code="invalid_answers",
            fields={item: error.message for item, error in validated.errors.items()},
        )
    language = intake.language(course, data.lang)
    return Accepted(
        course, data.phase, data.submission_id, identity, agency, language, validated.answers
    )


@get("/livez", summary="Liveness of the process alone (no database)", tags=["service"])
async def livez() -> dict[str, str]:
    return {"status": "alive"}


@get("/healthz", summary="Liveness: the database answers", tags=["service"], responses=errors(503))
async def healthz(intake: NamedDependency[Intake]) -> dict[str, str]:
    if not await intake.db.healthy():
        raise StorageUnavailable("the database does not answer")
    return {"status": "ok"}
