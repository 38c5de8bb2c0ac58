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
    local_time,
    page_context,
    parse_utc,
)
from evalsvc.web.participation import identify_or_throttle, intake_of, throttle_of


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
    "submission_id_reused": N_(
        "This device still held a form that was sent earlier. Nothing of yours has been "
        "saved yet: check your answers and send the form again."
    ),
}
GENERIC_ERROR = N_("Please check this answer.")

FALLBACK_NOTES = {
    "en": N_("Some questions are shown in English."),
    "ru": N_("Some questions are shown in Russian."),
    "kk": N_("Some questions are shown in Kazakh."),
}
OTHER_LANGUAGE_NOTE = N_("Some questions are shown in another language.")

PHASE_NAMES = {
    "pre": N_("Before the course"),
    "post": N_("After the course"),
    "follow_up": N_("Some months after the course"),
}
"""What the interface calls a phase that has no title of its own in the course file."""

PAIRING_PREFIX = "pairing_"


class ParticipantForms(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, intake: NamedDependency[Intake]) -> Template:
        context = page_context(request)
        courses = [course_entry(c, context["lang"]) for c in intake.courses.values()]
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
        courses = [course_entry(course, context["lang"])]
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
        course_id: FromPath[str],
        phase: FromPath[str],
    ) -> Response[Any]:
        intake, throttle = intake_of(request), throttle_of(request)
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
        except Unprocessable as exc:
            if exc.code != "submission_id_reused":
                raise
            # A stale draft on a shared PC lent this form the id of someone else's
            # earlier submission: nothing was stored for this code, so the form comes
            # back with a fresh id and everything kept, to be sent again.
            return _form_page(
                request,
                course,
                phase,
                language,
                submission_id=str(uuid.uuid4()),
                values=answers_mod.form_values(course, phase, raw),
                errors={"submission_id": exc.code},
                code=single.get("code", ""),
                agency=single.get("agency"),
                pairing=pairing,
                status_code=422,
            )
        except Conflict:
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
        phase_ids = course.phase_ids()
        position = phase_ids.index(stored.phase) if stored.phase in phase_ids else len(phase_ids)
        later = phase_ids[position + 1 :]
        title, title_lang = course.localized(course.title, language)
        return Template(
            "receipt.html",
            context={
                **page_context(request, language),
                "course_title": title,
                "course_title_lang": title_lang,
                "course_id": course.id,
                "receipt": stored.receipt,
                "received_at": stored.received_at,
                "received_at_text": local_time(
                    parse_utc(stored.received_at), language, course.timezone
                ),
                "phase": stored.phase,
                "next_phase": phase_entry(course, later[0], language) if later else None,
            },
        )


def phase_entry(course: Course, phase_id: str, lang: str) -> dict[str, str]:
    """A phase as the pages name it: its own title, else the interface's name for it."""
    phase = course.phase(phase_id)
    if phase is not None and phase.title:
        title, title_lang = course.localized(phase.title, lang)
        return {"id": phase_id, "title": title, "lang": title_lang}
    name = PHASE_NAMES.get(phase_id)
    return {"id": phase_id, "title": gettext_for(lang)(name) if name else phase_id, "lang": lang}


def course_entry(course: Course, lang: str) -> dict[str, object]:
    """A course for the list pages: its title and its phases, in the course's order."""
    title, title_lang = course.localized(course.title, lang)
    return {
        "id": course.id,
        "title": title,
        "lang": title_lang,
        "phases": [phase_entry(course, phase.id, lang) for phase in course.phases],
    }


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
    fallback_note = " ".join(
        _(FALLBACK_NOTES.get(other, OTHER_LANGUAGE_NOTE)) for other in view.fallback_languages
    )
    return Template(
        "form.html",
        context={
            **page_context(request, lang),
            "view": view,
            "fallback_note": fallback_note or None,
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
