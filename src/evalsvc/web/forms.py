"""Server-rendered questionnaire forms under /c/{course}/{phase}.

They work without JavaScript; web/static/form.js only adds drafts, progress and
a stable submission_id. On any problem the page comes back with every answer
kept and each message beside its question.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from evalsvc.domain import answers as answers_mod
from evalsvc.domain.presentation import questionnaire_view
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from evalsvc.intake import Intake
from evalsvc.web.i18n import (
    LANG_COOKIE,
    LANGUAGE_NAMES,
    choose_language,
    gettext_for,
    interface_labels,
    page_context,
)
from evalsvc.web.participation import identify_or_throttle
from evalsvc.web.throttle import FailureThrottle


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


ERROR_MESSAGES = {
    "required": N_("Please answer this question."),
    "unknown_option": N_("Choose one of the options shown."),
    "unknown_item": N_("This question is not part of the questionnaire."),
    "wrong_type": N_("This answer has the wrong form."),
    "out_of_range": N_("Choose a value within the range shown."),
    "not_a_number": N_("Enter a number."),
    "too_long": N_("This answer is too long."),
    "invalid_text": N_("This answer contains characters that are not allowed."),
    "too_many": N_("Choose fewer options."),
    "dont_know_combined": N_("“I don't know” cannot be combined with other options."),
    "unknown": N_("This code is not valid for this course. Check the code on your card."),
    "unknown_agency": N_("Choose your agency from the list."),
    "pairing_incomplete": N_("Answer each of these questions."),
    "too_many_code_attempts": N_(
        "Too many wrong codes were entered from this network. Wait a minute, then send "
        "again: your answers are kept."
    ),
}
GENERIC_ERROR = N_("Please check this answer.")

PAIRING_PREFIX = "pairing_"


class ParticipantForms(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, intake: NamedDependency[Intake]) -> Template:
        context = page_context(request)
        lang = context["lang"]
        courses = [
            {"id": c.id, "title": c.localize(c.title, lang), "phases": [p.id for p in c.phases]}
            for c in intake.courses.values()
        ]
        return Template("index.html", context={**context, "courses": courses})

    @get("/c/{course_id:str}")
    async def course_page(
        self, request: Request, intake: NamedDependency[Intake], course_id: FromPath[str]
    ) -> Template:
        """A course's own start page: its questionnaires, for a shorter address on cards."""
        course = intake.course(course_id)
        context = page_context(
            request, choose_language(request, course.languages, course.default_lang)
        )
        lang = context["lang"]
        courses = [
            {
                "id": course.id,
                "title": course.localize(course.title, lang),
                "phases": [p.id for p in course.phases],
            }
        ]
        return Template("index.html", context={**context, "courses": courses})

    @get("/c/{course_id:str}/{phase:str}")
    async def show_form(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        course_id: FromPath[str],
        phase: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> Template:
        course = intake.course(course_id)
        intake.open_phase(course, phase)
        language = choose_language(request, course.languages, course.default_lang)
        response = _form_page(request, course, phase, language, submission_id=str(uuid.uuid4()))
        if lang in course.languages:
            response.cookies.append(
                Cookie(key=LANG_COOKIE, value=lang, samesite="lax", max_age=31536000)
            )
        return response

    @post("/c/{course_id:str}/{phase:str}", status_code=303)
    async def submit_form(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        throttle: NamedDependency[FailureThrottle],
        course_id: FromPath[str],
        phase: FromPath[str],
    ) -> Response[Any]:
        course = intake.course(course_id)
        intake.open_phase(course, phase)
        form = await request.form()
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
        single = {key: values[0] for key, values in fields.items() if values}
        language = choose_language(request, course.languages, course.default_lang)
        if single.get("lang") in course.languages:
            language = single["lang"]
        submission_id = _parse_uuid(single.get("submission_id")) or uuid.uuid4()
        pairing = {
            key.removeprefix(PAIRING_PREFIX): value
            for key, value in single.items()
            if key.startswith(PAIRING_PREFIX)
        }
        raw = answers_mod.answers_from_form(course, phase, fields)
        validated = answers_mod.validate_answers(course, phase, raw)
        errors = {item: error.code for item, error in validated.errors.items()}

        identity = None
        status = 422
        try:
            identity = await identify_or_throttle(
                request, intake, throttle, course, single.get("code"), pairing
            )
        except (Forbidden, Unprocessable) as exc:
            for field, code in exc.fields.items():
                errors[field] = code if code in ERROR_MESSAGES else exc.code
        except TooManyRequests as exc:
            errors["code"] = exc.code
            status = 429
        agency = None
        if identity is not None:
            try:
                agency = intake.choose_agency(course, identity, single.get("agency"))
            except Unprocessable as exc:
                errors.update(exc.fields)

        if errors or identity is None or agency is None:
            return _form_page(
                request,
                course,
                phase,
                language,
                submission_id=str(submission_id),
                values=answers_mod.form_values(course, phase, raw),
                errors=errors,
                code=single.get("code", ""),
                agency=single.get("agency"),
                pairing=pairing,
                status_code=status,
            )
        try:
            stored = await intake.store(
                course, phase, submission_id, identity, agency, language, validated.answers
            )
        except (Conflict, Unprocessable) as exc:
            _ = gettext_for(language)
            return Template(
                "error.html",
                context={
                    **page_context(request, language),
                    "status": 409,
                    "error": "already_submitted",
                    "message": _(
                        "This code has already been used for this questionnaire. "
                        "Your earlier answers are kept; nothing more is needed."
                    ),
                    "detail": exc.code,
                },
                status_code=409,
            )
        return Redirect(f"/c/{course.id}/receipt/{stored.receipt}?lang={language}", status_code=303)

    @get("/c/{course_id:str}/receipt/{receipt:str}")
    async def receipt(
        self,
        request: Request,
        intake: NamedDependency[Intake],
        course_id: FromPath[str],
        receipt: FromPath[str],
    ) -> Template:
        course = intake.course(course_id)
        stored = await intake.db.submission_by_receipt(course.id, receipt)
        if stored is None:
            raise NotFound("no such receipt", code="unknown_receipt")
        language = choose_language(request, course.languages, course.default_lang)
        return Template(
            "receipt.html",
            context={
                **page_context(request, language),
                "course_title": course.localize(course.title, language),
                "course_id": course.id,
                "receipt": stored.receipt,
                "received_at": stored.received_at,
                "phase": stored.phase,
                "next_phase": "post" if stored.phase == "pre" else None,
            },
        )


def _parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _form_page(
    request: Request,
    course: Course,
    phase: str,
    lang: str,
    *,
    submission_id: str,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    code: str = "",
    agency: str | None = None,
    pairing: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    _ = gettext_for(lang)
    messages = {
        field: _(ERROR_MESSAGES.get(code, GENERIC_ERROR)) for field, code in (errors or {}).items()
    }
    view = questionnaire_view(course, phase, lang, interface_labels(lang))
    return Template(
        "form.html",
        context={
            **page_context(request, lang),
            "view": view,
            "languages": [(code_, _lang_name(code_)) for code_ in course.languages],
            "values": values or {},
            "errors": messages,
            "code": code,
            "agency": agency,
            "pairing": pairing or {},
            "submission_id": submission_id,
            "action": f"/c/{course.id}/{phase}",
        },
        status_code=status_code,
    )


def _lang_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)
