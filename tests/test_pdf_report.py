"""report.pdf: the HTML report on A4 pages, in every language of the course."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from litestar.testing import AsyncTestClient

from evalsvc import commands
from evalsvc.app import create_app
from tests.conftest import REPO
from tests.pdf_tools import inked_share, need_poppler, page_count, pdf_text

pytestmark = pytest.mark.anyio
COURSE = "salw-nexus-kz-2024"
BASE = f"/api/v1/courses/{COURSE}"
TITLES = {
    "en": "Operational measures to address terrorism-arms-crime nexus",
    "ru": "Оперативные меры по противодействию взаимосвязи терроризма, оружия и преступности",
    "kk": "Терроризм, қару және қылмыс арасындағы байланысқа қарсы жедел шаралар",
}


@pytest.fixture
def cohort(bundled_settings):
    commands.demo(bundled_settings, COURSE, 30, 3, if_empty=False)
    _, evaluator = commands.create_token(bundled_settings, "evaluator", "eva")
    return bundled_settings, evaluator


def flat(text: str) -> str:
    """Text on one line; a title broken after its hyphen is joined again."""
    return " ".join(text.replace("-\n", "-").split())


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
async def test_report_pdf_in_each_language(cohort, tmp_path, lang) -> None:
    need_poppler()
    settings, token = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(
            f"{BASE}/report.pdf?lang={lang}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{COURSE}-report-{lang}.pdf"' in response.headers["content-disposition"]
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)

    pages = page_count(path)
    assert pages >= 5
    first = pdf_text(path, 1, 1)
    assert TITLES[lang] in flat(first)
    assert f"1 / {pages}" in first
    assert inked_share(path, 1) > 0.01
    assert inked_share(path, 3) > 0.01  # the charts
    # the course title heads every later page (it may be cut to fit the margin)
    second = pdf_text(path, 2, 2)
    assert flat(TITLES[lang])[:30] in flat(second) and f"2 / {pages}" in second
    # a table of contents with the page of each section, in the report's language
    methods = {"en": "Methods", "ru": "Методы", "kk": "Әдістер"}[lang]
    contents = [line for line in first.splitlines() if methods in line]
    assert contents and contents[0].rstrip().split()[-1].isdigit()
    methods_page = int(contents[0].rstrip().split()[-1])
    assert methods in pdf_text(path, methods_page, methods_page)


async def test_report_pdf_needs_a_token(cohort) -> None:
    settings, _ = cohort
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get(f"{BASE}/report.pdf")).status_code == 401


async def test_missing_pdf_library_is_a_clear_503(cohort, monkeypatch) -> None:
    settings, token = cohort
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint fails
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(
            f"{BASE}/report.pdf", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "pdf_unavailable"
    assert "apt-get install libpango-1.0-0" in body["message"]


def cli_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "EVALSVC_DB": str(settings.db_path),
        "EVALSVC_SURVEYS": str(settings.surveys_path),
        "EVALSVC_SECRET": settings.secret_key.decode(),
    }


def test_report_command_writes_a_pdf(cohort, tmp_path) -> None:
    need_poppler()
    settings, _ = cohort
    out = tmp_path / "report-ru.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", "report", COURSE, "--format", "pdf", "--lang", "ru",
         "--out", str(out)],
        env=cli_env(settings), capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert TITLES["ru"] in flat(pdf_text(out, 1, 1))


def test_report_command_without_pango_says_what_to_install(cohort, tmp_path) -> None:
    settings, _ = cohort
    # what cffi raises when libpango is not installed, before any of our code runs
    script = textwrap.dedent(
        """
        import sys
        class NoPango:
            def find_spec(self, name, path=None, target=None):
                if name == "weasyprint":
                    raise OSError("cannot load library 'libpango-1.0-0': not found")
        sys.meta_path.insert(0, NoPango())
        from evalsvc.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-c", script, "report", COURSE, "--format", "pdf", "--out", str(out)],
        env=cli_env(settings), capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "evalsvc: PDF output needs the Pango library" in done.stderr
    assert "cannot load library 'libpango-1.0-0'" in done.stderr
    assert not out.exists()
