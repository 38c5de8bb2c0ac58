"""Every endpoint, with every role and scope, against a real `evalsvc serve`.

The endpoints are read from the app's own routes, so that an endpoint added later
without a rule here fails this test. For each token, each course and programme
(inside and outside its scope), and each download: the status the rules say, and for
a token limited to an agency type, no other agency's rows in what it gets.
"""

from __future__ import annotations

import csv
import io
import shutil

import httpx
import msgspec
import pytest

from evalsvc.app import create_app
from evalsvc.exports import registry
from evalsvc.settings import Settings
from tests.conftest import IN_CI, TEST_SURVEYS, run_cli
from tests.programme_helpers import PROGRAMME, PROGRAMME_SURVEYS, SECRET, fill

COURSES = ("prog-a", "prog-b", "tiny")
PROGRAMMES = (PROGRAMME, "nowhere")
CUSTOMS = {"prog-a": "customs", "prog-b": "douane", "tiny": None}
"""The agency of type customs in each course (tiny is in no programme)."""


class Token(msgspec.Struct, frozen=True):
    name: str
    role: str
    courses: tuple[str, ...] | None = None
    programmes: tuple[str, ...] | None = None
    agency_types: tuple[str, ...] | None = None

    def args(self) -> list[str]:
        out = ["--role", self.role, "--name", self.name]
        for course in self.courses or ():
            out += ["--course", course]
        for programme in self.programmes or ():
            out += ["--programme", programme]
        for agency_type in self.agency_types or ():
            out += ["--agency-type", agency_type]
        return out

    def reaches_course(self, course: str) -> bool:
        if self.role == "donor":
            return False
        if self.courses is None and self.programmes is None:
            return True
        in_programme = course in ("prog-a", "prog-b") and PROGRAMME in (self.programmes or ())
        return course in (self.courses or ()) or in_programme

    def reaches_programme(self, programme: str) -> bool:
        if programme != PROGRAMME:
            return False
        return (self.courses is None and self.programmes is None) or programme in (
            self.programmes or ()
        )


TOKENS = (
    Token("evaluator-all", "evaluator"),
    Token("analyst-all", "analyst"),
    Token("donor", "donor", programmes=(PROGRAMME,)),
    Token("evaluator-course", "evaluator", courses=("prog-a",)),
    Token("analyst-course", "analyst", courses=("tiny",)),
    Token("evaluator-programme", "evaluator", programmes=(PROGRAMME,)),
    Token("focal-customs", "evaluator", programmes=(PROGRAMME,), agency_types=("customs",)),
    Token("focal-border-everywhere", "evaluator", agency_types=("border",)),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory, server_factory_module):
    folder = tmp_path_factory.mktemp("scopes")
    surveys = folder / "surveys"
    shutil.copytree(PROGRAMME_SURVEYS, surveys)
    shutil.copytree(TEST_SURVEYS / "tiny", surveys / "tiny")
    settings = Settings(
        db_path=folder / "db.sqlite3",
        surveys_path=surveys,
        secret_key=SECRET,
        secret_file=folder / "secret.key",
    )
    fill(settings, participants=10)
    demo = run_cli(settings, "demo", "tiny", "--participants", "8")
    assert demo.returncode == 0, demo.stderr
    tokens = {}
    for token in TOKENS:
        made = run_cli(settings, "token", "create", *token.args())
        assert made.returncode == 0, (token.name, made.stderr)
        tokens[token.name] = made.stdout.splitlines()[-1]
    server = server_factory_module(settings).start()
    return settings, server, tokens


@pytest.fixture(scope="module")
def server_factory_module():
    from tests.conftest import Server

    started: list[Server] = []

    def make(settings: Settings) -> Server:
        server = Server(settings)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


READERS = ("EvaluatorApi.", "EvaluatorPages.", "TurnoutApi.", "TurnoutPages.",
           "ProgrammeApi.", "ProgrammePages.")  # fmt: skip
"""The controllers whose every GET needs a token (participants' ones need none)."""
UNSCOPED = {"/login", "/logout"}


def endpoints(settings: Settings) -> list[str]:
    """Every path of the readers' controllers, with its parameters still in braces."""
    app = create_app(settings)
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            name = getattr(handler.fn, "__qualname__", "")
            if name.startswith(READERS) and "GET" in handler.http_methods:
                paths.add(route.path)
    return sorted(paths - UNSCOPED)


PAGE_PREFIXES = ("/courses", "/programmes")


def expected(token: Token, path: str, course: str | None, programme: str | None, name: str) -> int:
    if path.startswith("/api/v1/programmes") or "{programme_id" in path:
        if programme is None:
            return 200  # the listing: only what the token reaches
        if not token.reaches_programme(programme):
            return 404
        return 200 if name in _PROGRAMME_NAMES or name in ("", "report") else 404
    if course is None:
        return 200  # /courses, the list page
    if not token.reaches_course(course):
        return 404
    if name in registry.PARTICIPANT_EXPORTS:
        analyst = token.role == "analyst" and token.agency_types is None
        return 200 if analyst else 403
    return 200


_PROGRAMME_NAMES = {*registry.PROGRAMME_EXPORTS, "summary", "meta", "indicators", "disclosure"}


def concrete(path: str) -> list[tuple[str, str | None, str | None, str]]:
    """(url, course, programme, last segment) for every value of the path's parameters."""
    out = []
    courses = COURSES if "{course_id" in path else (None,)
    programmes = PROGRAMMES if "{programme_id" in path else (None,)
    downloads: tuple[str, ...] = ("",)
    if "{download" in path:
        downloads = (
            (*registry.PROGRAMME_EXPORTS, "nothing.csv")
            if "programme" in path
            else (*registry.REPORT_EXPORTS, *registry.PARTICIPANT_EXPORTS)
        )
    for course in courses:
        for programme in programmes:
            for download in downloads:
                url = path
                for name, value in (
                    ("course_id", course),
                    ("programme_id", programme),
                    ("download", download),
                ):
                    if value is not None:
                        url = url.replace("{" + name + ":str}", value)
                name = download or url.rstrip("/").rsplit("/", 1)[-1]
                if programme is not None and url.rstrip("/").endswith(programme):
                    name = ""
                out.append((url, course, programme, name))
    return out


def test_every_endpoint_with_every_role_and_scope(served) -> None:
    settings, server, tokens = served
    paths = endpoints(settings)
    assert "/api/v1/courses/{course_id:str}/turnout" in paths
    assert "/api/v1/programmes/{programme_id:str}/meta" in paths
    failures = []
    checked = 0
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for token in TOKENS:
            headers = {"Authorization": f"Bearer {tokens[token.name]}"}
            rendered_pdf = False
            for path in paths:
                for url, course, programme, name in concrete(path):
                    want = expected(token, path, course, programme, name)
                    if name == "nothing.csv" and want == 200:
                        want = 404
                    if name == "report.pdf" and want == 200:
                        # a PDF takes seconds: one per token shows its scope applies
                        if rendered_pdf:
                            continue
                        rendered_pdf = True
                    got = client.get(url, headers=headers)
                    checked += 1
                    pdf_missing = (
                        name == "report.pdf"
                        and got.status_code == 503
                        and "pdf_unavailable" in got.text
                        and not IN_CI
                    )
                    if got.status_code != want and not pdf_missing:
                        failures.append((token.name, url, want, got.status_code))
                    if got.status_code == 200 and token.agency_types is not None:
                        failures += leaks(token, url, got)
    assert not failures, failures[:20]
    assert checked > 400


def test_without_a_token_nothing_but_a_login(served) -> None:
    settings, server, _ = served
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for path in endpoints(settings):
            for url, _, _, _ in concrete(path)[:3]:
                got = client.get(url, follow_redirects=False)
                if url.startswith("/api/"):
                    assert got.status_code == 401, url
                else:
                    assert got.status_code == 303 and got.headers["location"] == "/login", url


def leaks(token: Token, url: str, response: httpx.Response) -> list[tuple]:
    """Rows of agencies (or agency types) outside a focal point's types, in what it got."""
    allowed_types = set(token.agency_types or ())
    allowed_agencies = {
        agency
        for course, agency in CUSTOMS.items()
        if agency is not None and "customs" in allowed_types
    } | ({"border", "frontier"} if "border" in allowed_types else set())
    found = []
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        body = response.json()
        rows = body.get("rows", []) if isinstance(body, dict) else []
        if isinstance(rows, list):
            for row in rows:
                if not isinstance(row, dict):
                    continue
                breakdown, group = row.get("breakdown"), row.get("group")
                if breakdown == "agency" and group not in allowed_agencies:
                    found.append((token.name, url, "agency", group))
                if breakdown == "agency_type" and group not in allowed_types:
                    found.append((token.name, url, "agency_type", group))
                if breakdown not in (None, "all", "agency", "agency_type"):
                    found.append((token.name, url, "breakdown", breakdown))
                agency = row.get("agency")
                if (
                    agency not in (None, "all")
                    and "turnout" in url
                    and agency not in allowed_agencies
                ):
                    found.append((token.name, url, "turnout", agency))
    elif "csv" in kind and "codebook" not in url:
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        for row in table:
            breakdown, group = row.get("breakdown"), row.get("group")
            if breakdown == "agency" and group not in allowed_agencies:
                found.append((token.name, url, "csv agency", group))
            if breakdown == "agency_type" and group not in allowed_types:
                found.append((token.name, url, "csv agency_type", group))
    elif "html" in kind:
        text = response.text
        for name in ("Courts", "Police", "Border guards", "Courts and police"):
            if "border" in allowed_types and name == "Border guards":
                continue
            if f">{name}<" in text:
                found.append((token.name, url, "html", name))
    return found


def test_a_focal_point_sees_its_agency_and_the_totals_only(served) -> None:
    settings, server, tokens = served
    headers = {"Authorization": f"Bearer {tokens['focal-customs']}"}
    with httpx.Client(base_url=server.url, timeout=120) as client:
        course = client.get("/api/v1/courses/prog-a/summary", headers=headers).json()
        groups = {(r["breakdown"], r["group"]) for r in course["rows"]}
        assert groups == {("all", "all"), ("agency", "customs")}
        assert course["group_comparisons"] == []
        programme = client.get(f"/api/v1/programmes/{PROGRAMME}/summary", headers=headers).json()
        assert {(r["scope"], r["breakdown"], r["group"]) for r in programme["rows"]} == {
            ("pooled", "all", "all"),
            ("course", "all", "all"),
            ("pooled", "agency_type", "customs"),
        }
        everything = client.get(
            f"/api/v1/programmes/{PROGRAMME}/summary",
            headers={"Authorization": f"Bearer {tokens['evaluator-programme']}"},
        ).json()
        full = {
            (
                r["scope"],
                r["course"],
                r["measure"],
                r["comparison"],
                r["breakdown"],
                r["group"],
                r["skill"],
            ): r
            for r in everything["rows"]
        }
        # a subset of the very same rows: never a figure the full report withholds
        for row in programme["rows"]:
            key = (row["scope"], row["course"], row["measure"], row["comparison"],
                   row["breakdown"], row["group"], row["skill"])  # fmt: skip
            assert row == full[key]
        # participant-level data is not for a token limited to agency types
        assert (
            client.get("/api/v1/courses/prog-a/responses.csv", headers=headers).status_code == 403
        )


def test_a_donor_sees_programme_aggregates_and_indicators_only(served) -> None:
    settings, server, tokens = served
    headers = {"Authorization": f"Bearer {tokens['donor']}"}
    with httpx.Client(base_url=server.url, timeout=120) as client:
        summary = client.get(f"/api/v1/programmes/{PROGRAMME}/summary", headers=headers)
        assert summary.status_code == 200
        assert all(r["breakdown"] != "agency" for r in summary.json()["rows"])
        indicators = client.get(f"/api/v1/programmes/{PROGRAMME}/indicators", headers=headers)
        assert [r["indicator"] for r in indicators.json()["rows"]] == [
            "gain10",
            "pass",
            "applied",
            "women",
        ]
        for course in COURSES:
            for endpoint in ("summary", "turnout", "report.xlsx"):
                got = client.get(f"/api/v1/courses/{course}/{endpoint}", headers=headers)
                unknown = client.get(f"/api/v1/courses/nowhere/{endpoint}", headers=headers)
                assert got.status_code == unknown.status_code == 404
                assert got.json()["error"] == unknown.json()["error"]
        page = client.get(
            "/login", headers={"accept": "text/html"}
        )  # a donor logs in like anyone else and lands on the programme
        token = tokens["donor"]
        csrf = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
        login = client.post(
            "/login",
            data={"token": token, "_csrf_token": csrf, "lang": "ru"},
            follow_redirects=False,
        )
        assert login.status_code == 303
        assert login.headers["location"] == f"/programmes/{PROGRAMME}/report"
        report = client.get(login.headers["location"])
        assert report.status_code == 200 and '<html lang="ru">' in report.text
