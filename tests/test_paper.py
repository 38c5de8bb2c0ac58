"""Paper questionnaires through the real CLI: the PDF, the CSV template and the import
of typed-in answers (double entry, idempotence, the web's own rules)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid

import pytest

from evalsvc.app import load_courses
from evalsvc.commands import issue_codes
from evalsvc.domain import answers as answers_mod
from evalsvc.intake import Intake
from tests.conftest import REPO, stored_rows, through_port
from tests.dataio_helpers import TRIO, trio_settings
from tests.pdf_tools import inked_share, need_poppler, pdf_text

HEADER = "code,agency,lang,received_at,role,years,sa-detect,sa_trace,k1,k2,k3"


@pytest.fixture
def trio(settings):
    return trio_settings(settings)


def evalsvc(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EVALSVC_DB": settings.database,
        "EVALSVC_SURVEYS": str(settings.surveys_path),
        "EVALSVC_SECRET": settings.secret_key.decode(),
    }
    return subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def stored(settings) -> int:
    return through_port(settings, lambda db: db.count_submissions())


def test_template_has_the_code_meta_and_item_columns(trio) -> None:
    done = evalsvc(trio, "paper", TRIO, "post", "--template")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeff")
    assert next(csv.reader(io.StringIO(done.stdout.lstrip("\ufeff")))) == [
        "code", "agency", "lang", "received_at", "sa-detect", "sa_trace", "k1", "k2", "k3",
        "fb_useful", "fb_best", "fb_more",
    ]  # fmt: skip


def test_self_generated_codes_get_pairing_columns(settings) -> None:
    done = evalsvc(settings, "paper", "tiny-selfgen", "pre", "--template")
    assert done.stdout.lstrip("\ufeff").startswith("pairing_mother,pairing_birthday,agency,")


@pytest.mark.parametrize(
    ("lang", "title", "question"),
    [
        ("ru", "До курса", "Какая маркировка требуется при изготовлении?"),
        ("kk", "Курс алдында", "Жасау кезінде қандай таңбалау қажет?"),
        ("en", "Before the course", "Which marking is required at manufacture?"),
    ],
)
def test_paper_pdf_has_code_box_sections_and_no_answer_key(trio, tmp_path, lang, title, question):
    need_poppler()
    out = tmp_path / f"pre-{lang}.pdf"
    done = evalsvc(trio, "paper", TRIO, "pre", "--lang", lang, "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = pdf_text(out)
    flat = " ".join(text.split())
    assert title in flat and question in flat
    assert "1. " in text and "7. " in text  # numbered items: 7 in the pre questionnaire
    assert "▢▢▢▢-▢▢▢▢" in flat  # the code box heads every page
    assert inked_share(out, 1) > 0.01
    assert "UN Firearms Protocol" not in flat  # the answer key's source
    assert "correct" not in flat.lower()


def test_paper_pdf_rejects_unknown_phase_and_language(trio, tmp_path) -> None:
    unknown = evalsvc(trio, "paper", TRIO, "later", "--out", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 1 and "no phase 'later'" in unknown.stderr
    foreign = evalsvc(trio, "paper", TRIO, "pre", "--lang", "de", "--out", str(tmp_path / "x.pdf"))
    assert foreign.returncode == 1 and "not offered in 'de'" in foreign.stderr
    assert "Traceback" not in unknown.stderr + foreign.stderr


def write(path, *rows: str) -> None:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


@pytest.mark.backends
def test_double_entry_stores_nothing_until_the_typings_agree(trio, tmp_path) -> None:
    one, two, three = issue_codes(trio, TRIO, 3, "customs", None, None)
    first, second = tmp_path / "pre-anna.csv", tmp_path / "pre-bolat.csv"
    write(first, f"{one},,kk,2024-05-06T09:30,officer,4,2,,B,true,a|c",
          f"{two},,ru,,manager,,3,4,dk,,a c", f"{three},,ru,,officer,,5,,a,false,")  # fmt: skip
    write(second, f"{one.lower()},,kk,2024-05-06T09:30,officer,4,2,,b,true,c;a",
          f"{two},,ru,,manager,,3,5,dk,,a c", f"{three},,ru,,officer,,5,,b,false,")  # fmt: skip

    done = evalsvc(trio, "import", "paper", TRIO, "pre", str(first), "--second", str(second))
    assert done.returncode == 1
    assert "2 disagreement(s) in 2 row(s)" in done.stdout and "nothing was stored" in done.stdout
    conflicts = tmp_path / "pre-anna-conflicts.csv"
    assert list(csv.reader(io.StringIO(conflicts.read_text("utf-8-sig")))) == [
        ["row", "code", "item", "first_value", "second_value"],
        ["2", two, "sa_trace", "4", "5"],
        ["3", three, "k1", "a", "b"],
    ]
    assert stored(trio) == 0

    write(second, f"{one.lower()},,kk,2024-05-06T09:30,officer,4,2,,b,true,c;a",
          f"{two},,ru,,manager,,3,4,dk,,a c", f"{three},,ru,,officer,,5,,a,false,")  # fmt: skip
    done = evalsvc(trio, "import", "paper", TRIO, "pre", str(first), "--second", str(second))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 stored, 0 already there, 0 rejected" in done.stdout
    rows = [(r.lang, r.received_at, r.answers_json) for r in stored_rows(trio)]
    assert rows[0][:2] == ("kk", "2024-05-06T04:30:00.000Z")  # 09:30 in Almaty (+05:00)
    assert json.loads(rows[0][2]) == {
        "role": "officer", "years": 4, "sa-detect": 2, "k1": "b", "k2": "true", "k3": ["a", "c"],
    }  # fmt: skip
    assert json.loads(rows[1][2])["k1"] == "dont_know"

    again = evalsvc(trio, "import", "paper", TRIO, "pre", str(first), "--second", str(second))
    assert again.returncode == 0
    assert "0 stored, 3 already there, 0 rejected" in again.stdout
    assert stored(trio) == 3


@pytest.mark.backends
def test_rows_go_through_the_web_rules(trio, tmp_path) -> None:
    web, paper_only, late = issue_codes(trio, TRIO, 3, None, None, None)
    course = load_courses(trio)[TRIO]

    async def submit_on_the_web(db) -> None:
        intake = Intake({TRIO: course}, db, trio.with_secret().secret_key)
        identity = await intake.identify(course, web, None)
        checked = answers_mod.validate_answers(course, "pre", {"role": "officer",
                                                               "sa-detect": 3})  # fmt: skip
        await intake.store(course, "pre", uuid.uuid4(), identity, "border", "ru",
                           checked.answers)  # fmt: skip

    through_port(trio, submit_on_the_web)
    sheet = tmp_path / "pre.csv"
    write(
        sheet,
        f"{web},border,ru,,officer,,3,,,,",
        f"{paper_only},,ru,,officer,,3,,,,",
        f"{late},navy,ru,,officer,,3,,,,",
        f"{paper_only},customs,ru,,manager,,2,,,,",
        "ZZZZ-ZZZZ,border,ru,,officer,,3,,,,",
        f"{late},border,ru,yesterday,officer,,6,,e,,",
    )

    dry = evalsvc(trio, "import", "paper", TRIO, "pre", str(sheet), "--dry-run")
    assert dry.returncode == 1
    assert stored(trio) == 1
    done = evalsvc(trio, "import", "paper", TRIO, "pre", str(sheet))
    assert done.returncode == 1
    rejected = {
        int(line.split()[1]): line.split(" rejected: ", 1)[1]
        for line in done.stdout.splitlines()
        if " rejected: " in line
    }
    assert rejected[1] == "this code already has a pre questionnaire (sent on the web)"
    assert rejected[2] == "agency: choose your agency"
    assert rejected[3] == "agency: unknown agency 'navy'"
    assert 4 not in rejected  # row 2 was refused, so row 4 is the code's questionnaire
    assert (
        rejected[5] == "code: this code is not valid for this course; check the code on your card"
    )
    assert rejected[6].startswith("received_at: not an ISO 8601 date and time")
    assert f"{sheet}: 1 stored, 0 already there, 5 rejected" in done.stdout
    # the closed pre phase (2024) took the paper answers all the same
    assert [row.phase for row in stored_rows(trio)] == ["pre", "pre"]


def test_a_file_with_wrong_columns_is_refused_before_any_row(trio, tmp_path) -> None:
    sheet = tmp_path / "pre.csv"
    sheet.write_text("code,k1,k9\nAAAA-AAAA,a,b\n", encoding="utf-8")
    done = evalsvc(trio, "import", "paper", TRIO, "pre", str(sheet))
    assert done.returncode == 1
    assert "missing column(s) role, years, sa-detect, sa_trace, k2, k3" in done.stderr
    assert "unknown column(s) k9" in done.stderr
    cp1251 = tmp_path / "excel.csv"
    cp1251.write_bytes(f"{HEADER}\nКОД".encode("cp1251"))
    refused = evalsvc(trio, "import", "paper", TRIO, "pre", str(cp1251))
    assert refused.returncode == 1 and "save it as 'CSV UTF-8'" in refused.stderr
