"""create_app(settings): the one place where evalsvc is wired together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from evalsvc import __version__
from evalsvc.catalog import CatalogResult, load_paths
from evalsvc.errors import ConfigError, EvalsvcError
from evalsvc.intake import Intake
from evalsvc.programme_reports import ProgrammeReportCache
from evalsvc.reports import ReportCache
from evalsvc.settings import Settings
from evalsvc.storage import open_storage
from evalsvc.web import api, evaluator, forms, programmes, sync, turnout
from evalsvc.web.errors import (
    evalsvc_error_handler,
    http_error_handler,
    internal_error_handler,
    nesting_error_handler,
)
from evalsvc.web.openapi import forbid_extra_properties
from evalsvc.web.slow_clients import BodyDeadlineMiddleware
from evalsvc.web.throttle import FailureThrottle

WEB_DIR = Path(__file__).resolve().parent / "web"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""Sent with every response, whichever part of the service made it (see add_security_headers)."""

_SECURITY_HEADER_LINES = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
]
"""SECURITY_HEADERS as the ASGI message carries headers, encoded once rather than per response."""
_SECURITY_HEADER_NAMES = frozenset(name for name, _ in _SECURITY_HEADER_LINES)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's before-send hook: it sees every response, error handlers' included.

    A header the response already sets (a page's own policy, say) is kept as it is.
    """
    if message["type"] == "http.response.start":
        headers = message.get("headers")
        if not isinstance(headers, list):  # ASGI allows any iterable
            headers = message["headers"] = list(headers or ())
        present = {name.lower() for name, _ in headers} & _SECURITY_HEADER_NAMES
        if present:
            headers.extend(line for line in _SECURITY_HEADER_LINES if line[0] not in present)
        else:
            headers.extend(_SECURITY_HEADER_LINES)


def load_catalog(settings: Settings) -> CatalogResult:
    """Every course and programme of the settings' surveys folders, checked."""
    catalog = load_paths(settings.survey_folders)
    if not catalog.ok:
        problems = "\n".join(f"  {p}" for p in catalog.problems)
        raise ConfigError(f"course definitions have problems:\n{problems}")
    return catalog


def load_courses(settings: Settings) -> dict:
    return load_catalog(settings).courses


def template_engine() -> JinjaTemplateEngine:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return JinjaTemplateEngine.from_environment(environment)


def provide_intake(state: State) -> Intake:
    intake: Intake = state.intake
    return intake


def create_app(settings: Settings) -> Litestar:
    settings = settings.with_secret()
    catalog = load_catalog(settings)
    courses = catalog.courses
    throttle = FailureThrottle(settings.code_failures_per_minute)
    report_cache = ReportCache()
    programme_report_cache = ProgrammeReportCache()

    @contextlib.asynccontextmanager
    async def open_database(app: Litestar) -> AsyncIterator[None]:
        db = await open_storage(settings, courses)
        app.state.database = db
        app.state.intake = intake = Intake(courses, db, settings.secret_key)
        try:
            await intake.codes.preload()
            yield
        finally:
            await db.close()

    app = Litestar(
        route_handlers=[
            api.ParticipantApi,
            api.healthz,
            api.livez,
            forms.ParticipantForms,
            evaluator.EvaluatorApi,
            evaluator.EvaluatorPages,
            sync.SyncApi,
            turnout.TurnoutApi,
            turnout.TurnoutPages,
            programmes.ProgrammeApi,
            programmes.ProgrammePages,
            create_static_files_router(
                path="/static", directories=[WEB_DIR / "static"], include_in_schema=False
            ),
        ],
        dependencies={
            "intake": Provide(provide_intake, sync_to_thread=False),
            "throttle": Provide(lambda: throttle, sync_to_thread=False),
            "report_cache": Provide(lambda: report_cache, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
        },
        lifespan=[open_database],
        state=State(
            {
                "report_cache": report_cache,
                "throttle": throttle,
                "programmes": catalog.programmes,
                "programme_report_cache": programme_report_cache,
            }
        ),
        before_send=[add_security_headers],
        middleware=[BodyDeadlineMiddleware(settings.body_timeout_seconds)],
        exception_handlers={
            EvalsvcError: evalsvc_error_handler,
            HTTPException: http_error_handler,
            RecursionError: nesting_error_handler,
            Exception: internal_error_handler,
        },
        csrf_config=CSRFConfig(
            secret=settings.secret_key.decode(),
            cookie_secure=settings.cookie_secure,
            cookie_samesite="strict",
            # regular expressions, searched anywhere in the path: anchor them
            exclude=["^/api/", "^/healthz$", "^/livez$", "^/schema"],
        ),
        request_max_body_size=settings.max_body_bytes,
        template_config=TemplateConfig(instance=template_engine()),
        openapi_config=OpenAPIConfig(
            title="evalsvc",
            version=__version__,
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
    )
    forbid_extra_properties(app, "SubmissionBody")
    return app
