"""`evalsvc check` and the catalog: good courses load, broken ones are named precisely."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalsvc.catalog import load_paths
from tests.conftest import BUNDLED_SURVEYS, TEST_SURVEYS


def run_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", "check", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def broken_copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TEST_SURVEYS / "tiny", folder)
    edit(folder)
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_course_checks_ok() -> None:
    result = run_check(BUNDLED_SURVEYS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok salw-nexus-kz-2024:")
    assert "en complete" in result.stdout
    assert "ru complete" in result.stdout


def test_bundled_course_meets_the_content_bar() -> None:
    course = load_paths([BUNDLED_SURVEYS]).courses["salw-nexus-kz-2024"]
    knowledge = course.items_by_role("knowledge")
    assert len(knowledge) >= 30
    for skill in course.skill_ids():
        assert sum(item.skill == skill for item in knowledge) >= 5, skill
        assert any(item.skill == skill for item in course.items_by_role("self_assessment")), skill
    assert all(item.source for item in knowledge)
    assert len(course.agencies) == 6
    assert {"kk", "ru", "en"} <= set(course.languages)


BROKEN = [
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'id = "k4"', 'id = "код 4"'),
        "course.toml",
        "item код 4",
        "must be letters, digits, - or _",
        id="id-outside-the-plain-pattern",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'id = "k4"', 'id = "agency"'),
        "items.toml",
        "item agency",
        "reserved for the form itself",
        id="reserved-item-id",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'skill = "detection"', 'skill = "sniffing"'),
        "items.toml",
        "item sa_detect",
        "unknown skill 'sniffing'",
        id="unknown-skill",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'correct = ["b"]', 'correct = ["z"]'),
        "items.toml",
        "item k1",
        "answer key names missing option 'z'",
        id="key-names-missing-option",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'id = "k2"', 'id = "k1"'),
        "items.toml",
        "item k1",
        "duplicate item id",
        id="duplicate-item-id",
    ),
    pytest.param(
        lambda f: replace_in(f / "course.toml", "max = 5", "max = 1"),
        "course.toml",
        "scale five",
        "max (1) must be greater than min (1)",
        id="nonsense-likert-scale",
    ),
    pytest.param(
        lambda f: replace_in(
            f / "course.toml", 'sections = ["self", "test"]', 'sections = ["self", "tset"]'
        ),
        "course.toml",
        "phase pre",
        "names unknown section 'tset'",
        id="phase-names-unknown-section",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", 'kind = "true_false"', 'kind = "true_false'),
        "items.toml",
        "",
        "TOML syntax error",
        id="toml-syntax-error",
    ),
    pytest.param(
        lambda f: replace_in(f / "items.toml", "partial_credit = true", 'partial_credit = "yes"'),
        "items.toml",
        "item k3",
        "Expected `bool`, got `str`",
        id="wrong-type",
    ),
    pytest.param(
        lambda f: replace_in(
            f / "items.toml", 'role = "self_assessment"', 'role = "self_assesment"'
        ),
        "items.toml",
        "item sa_detect",
        "Invalid enum value 'self_assesment'",
        id="misspelt-role",
    ),
]


@pytest.mark.parametrize(("edit", "file", "where", "message"), BROKEN)
def test_broken_definition_is_named_precisely(tmp_path, edit, file, where, message) -> None:
    folder = broken_copy(tmp_path, edit)
    result = run_check(folder)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line.strip() for line in result.stderr.splitlines()[1:]]
    expected_start = str(folder / file) + (f" [{where}]" if where else "")
    assert any(line.startswith(expected_start) and message in line for line in lines), result.stderr


def test_toml_error_gives_the_line(tmp_path) -> None:
    folder = broken_copy(
        tmp_path,
        lambda f: replace_in(f / "items.toml", 'kind = "true_false"', 'kind = "true_false'),
    )
    result = run_check(folder)
    line_of_edit = 1 + (folder / "items.toml").read_text().splitlines().index('kind = "true_false')
    assert f"line {line_of_edit}" in result.stderr


def test_every_problem_is_listed_not_just_the_first(tmp_path) -> None:
    def two_faults(folder: Path) -> None:
        replace_in(folder / "items.toml", 'correct = ["b"]', 'correct = ["z"]')
        replace_in(folder / "items.toml", 'skill = "cooperation"', 'skill = "nowhere"')

    result = run_check(broken_copy(tmp_path, two_faults))
    assert result.returncode == 1
    assert "missing option 'z'" in result.stderr
    assert "unknown skill 'nowhere'" in result.stderr


def test_missing_path_is_a_problem_not_a_crash(tmp_path) -> None:
    result = run_check(tmp_path / "nowhere")
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr


def test_translations_fall_back_along_the_chain() -> None:
    course = load_paths([TEST_SURVEYS]).courses["tiny"]
    # tiny has no Kazakh text: kk falls back to ru, as course.toml's chain says
    assert course.localize(course.title, "kk") == "Малый курс"
    assert course.localize(course.title, "en") == "Tiny course"
