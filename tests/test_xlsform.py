"""XLSForm export and import: pyxform accepts every form, and a round trip gives the
same course back."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec
import pytest
import xlsxwriter
from pyxform.xls2xform import convert

from evalsvc.catalog import load_course, load_paths
from evalsvc.domain.questionnaire import Course
from evalsvc.exports import xlsform
from evalsvc.xlsform_import import import_xlsforms, read_xlsform, write_folder
from tests.conftest import BUNDLED_SURVEYS, REPO, TEST_SURVEYS
from tests.dataio_helpers import DATAIO_SURVEYS

COURSES = load_paths([BUNDLED_SURVEYS, TEST_SURVEYS, DATAIO_SURVEYS]).courses


def run(*args: str, surveys: Path = BUNDLED_SURVEYS) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EVALSVC_SURVEYS": str(surveys)}
    return subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def assert_equivalent(original: Course, back: Course) -> None:
    """Equal in everything; items compared by id, and in the order each phase shows them."""
    first, second = msgspec.to_builtins(original), msgspec.to_builtins(back)
    items_first = {item["id"]: item for item in first.pop("items")}
    items_second = {item["id"]: item for item in second.pop("items")}
    assert second == first
    assert items_second == items_first
    for phase in original.phase_ids():
        assert [i.id for i in back.items_in_phase(phase)] == [
            i.id for i in original.items_in_phase(phase)
        ]


def test_bundled_course_round_trip_through_the_cli(tmp_path) -> None:
    course = COURSES["salw-nexus-kz-2024"]
    exported = run("export", "xlsform", course.id, "--out", str(tmp_path / "forms"))
    assert exported.returncode == 0, exported.stderr
    files = sorted((tmp_path / "forms").glob("*.xlsx"))
    assert [f.name for f in files] == [
        f"{course.id}-follow_up.xlsx",
        f"{course.id}-post.xlsx",
        f"{course.id}-pre.xlsx",
    ]
    for file in files:
        warnings: list[str] = []
        result = convert(str(file), warnings=warnings)
        assert "<h:html" in result.xform and warnings == []
        assert "evalsvc_correct" not in result.xform  # phones never get the answer key
        assert "resolution 2482 (2019), preamble" not in result.xform  # nor its sources

    out = tmp_path / "surveys" / course.id
    imported = run("import", "xlsform", *map(str, files), "--course-id", course.id,
                   "--out", str(out))  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "warning" not in imported.stderr and "TODO" not in imported.stderr
    back, problems = load_course(out)
    assert problems == [] and back is not None
    assert_equivalent(course, back)
    checked = run("check", str(out))
    assert checked.returncode == 0
    assert checked.stdout.startswith(f"ok {course.id}: {len(course.items)} items")


@pytest.mark.parametrize("course_id", ["tiny", "tiny-selfgen", "trio"])
def test_test_courses_round_trip(tmp_path, course_id) -> None:
    course = COURSES[course_id]
    forms = []
    for name, content in xlsform.course_xlsforms(course).items():
        warnings: list[str] = []
        convert(content, warnings=warnings, file_type=".xlsx")
        assert warnings == [], name
        (tmp_path / name).write_bytes(content)
        forms.append(read_xlsform(tmp_path / name))
    assert len(forms) == len(course.phases)
    result = import_xlsforms(forms, course_id)
    assert result.warnings == [] and result.todos == 0
    for text in result.files.values():
        tomllib.loads(text)
    out = tmp_path / "surveys" / course_id
    write_folder(result, out)
    back, problems = load_course(out)
    assert problems == [] and back is not None
    assert_equivalent(course, back)


def test_sheets_use_language_columns_and_carry_what_xlsform_cannot(tmp_path) -> None:
    sheets = xlsform.phase_sheets(COURSES["trio"], "post")
    survey = {row["name"]: row for row in sheets["survey"]}
    assert survey["k1"]["type"] == "select_one k1"
    assert survey["k1"]["label::Kazakh (kk)"] == "Жасау кезінде қандай таңбалау қажет?"
    assert (survey["k1"]["evalsvc_correct"], survey["k1"]["evalsvc_points"]) == ("b", "2")
    assert survey["k3"]["type"] == "select_multiple k3"
    assert survey["fb_useful"]["type"] == "select_one scale_agreement_na"
    assert survey["fb_best"]["constraint"] == "string-length(.) <= 120"
    assert survey["self"]["hint::Russian (ru)"] == "Оцените себя честно."
    settings = sheets["settings"][0]
    assert (settings["form_id"], settings["default_language"]) == ("trio-post", "Russian (ru)")
    choices = [(c["list_name"], c["name"]) for c in sheets["choices"]]
    assert ("k3", "dont_know") in choices and ("scale_agreement_na", "not_applicable") in choices


def foreign_form(path: Path, form_id: str) -> None:
    """An XLSForm made in another tool: no evalsvc columns, some unsupported features."""
    rows = {
        "survey": [
            ["type", "name", "label::English (en)", "label::Russian (ru)", "relevant"],
            ["begin_group", "basics", "Basics", "Основное", ""],
            ["select_one yn", "q1", "Have you seized a firearm?", "Изымали ли вы оружие?", ""],
            ["integer", "q2", "How many?", "Сколько?", "${q1} = 'yes'"],
            ["calculate", "c1", "", "", ""],
            ["begin_repeat", "r", "Each seizure", "Каждое изъятие", ""],
            ["text", "q3", "Where?", "Где?", ""],
            ["end_repeat", "", "", "", ""],
            ["end_group", "", "", "", ""],
        ],
        "choices": [
            ["list_name", "name", "label::English (en)", "label::Russian (ru)"],
            ["yn", "yes", "Yes", "Да"],
            ["yn", "no", "No", "Нет"],
        ],
        "settings": [["form_title", "form_id", "default_language"], ["Seizures", form_id, "en"]],
    }
    book = xlsxwriter.Workbook(path)
    for name, table in rows.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    book.close()


def test_foreign_forms_get_warnings_and_todo_markers_that_check_refuses(tmp_path) -> None:
    pre, later = tmp_path / "seizures-pre.xlsx", tmp_path / "seizures.xlsx"
    foreign_form(pre, "seizures-pre")
    foreign_form(later, "seizures")
    out = tmp_path / "surveys" / "seizures"
    done = run("import", "xlsform", str(pre), str(later), "--course-id", "seizures",
               "--out", str(out), "--phase", f"{later}=post")  # fmt: skip
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert "warning: seizures-pre.xlsx row 4 (q2): relevant is not supported and was left out" in (
        warnings
    )
    assert any("question type 'calculate' is not supported" in w for w in warnings)
    assert any("repeats are not supported" in w for w in warnings)
    assert "TODO marker(s) to fill in" in done.stderr
    items = tomllib.loads((out / "1-basics.toml").read_text("utf-8"))["items"]
    assert [(i["id"], i["kind"], i["role"]) for i in items] == [
        ("q1", "single_choice", "TODO"), ("q2", "number", "TODO"),
    ]  # fmt: skip
    assert items[0]["correct"] == ["TODO"] and items[0]["text"]["ru"] == "Изымали ли вы оружие?"
    assert "# TODO: role = knowledge" in (out / "1-basics.toml").read_text("utf-8")
    course_toml = tomllib.loads((out / "course.toml").read_text("utf-8"))
    assert [p["id"] for p in course_toml["phases"]] == ["pre", "post"]

    checked = run("check", str(out))
    assert checked.returncode == 1
    assert "TODO" in checked.stderr


def test_a_form_without_a_phase_is_refused_with_what_to_do(tmp_path) -> None:
    form = tmp_path / "seizures.xlsx"
    foreign_form(form, "seizures")
    done = run("import", "xlsform", str(form), "--course-id", "seizures",
               "--out", str(tmp_path / "seizures"))  # fmt: skip
    assert done.returncode == 1
    assert f"pass --phase {form}=PHASE" in done.stderr and "Traceback" not in done.stderr
