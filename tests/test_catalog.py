"""`evalsvc check` and the catalog: good courses load, broken ones are named precisely."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalsvc.catalog import load_paths
from tests.conftest import BUNDLED_SURVEYS, TEST_SURVEYS

LINT_DATA = Path(__file__).resolve().parent / "data" / "lint"


def run_check(*paths: Path, strict: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "evalsvc.cli",
            "check",
            *map(str, paths),
            *(["--strict"] if strict else []),
        ],
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


def test_bundled_course_checks_ok_even_strictly() -> None:
    result = run_check(BUNDLED_SURVEYS, strict=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok salw-nexus-kz-2024:")
    assert "en complete" in result.stdout
    assert "ru complete" in result.stdout
    assert "; 0 warning(s)" in result.stdout
    assert result.stderr == ""


def test_bundled_course_meets_the_content_bar() -> None:
    course = load_paths([BUNDLED_SURVEYS]).courses["salw-nexus-kz-2024"]
    knowledge = course.items_by_role("knowledge")
    assert len(knowledge) >= 35
    for skill in course.skill_ids():
        assert sum(item.skill == skill for item in knowledge) >= 7, skill
        assert any(item.skill == skill for item in course.items_by_role("self_assessment")), skill
    assert all(item.source for item in knowledge)
    # one rule for every multi-answer item
    assert {i.partial_credit for i in knowledge if i.kind == "multiple_choice"} == {True}
    assert len(course.agencies) == 6
    for agency in course.agencies:
        assert {"en", "ru", "kk"} <= set(agency.official_name), agency.id
    assert {"kk", "ru", "en"} <= set(course.languages)
    # UN reporting: sex and role are breakdowns, asked before the course, all optional
    breakdowns = {item.id: item for item in course.breakdown_items()}
    assert set(breakdowns) == {"pr_sex", "pr_role"}
    assert [o.id for o in breakdowns["pr_sex"].options] == ["female", "male", "prefer_not"]
    profile = course.items_by_role("profile")
    assert not any(item.required for item in (*profile, *course.items_by_role("self_assessment")))
    assert {item.section for item in profile} == {"profile"}
    assert course.phase("pre") is not None and "profile" in course.phase("pre").sections
    # the follow-up repeats the test and the self-assessment, and is compared both ways
    assert course.comparison_pairs() == (
        ("pre", "post"),
        ("pre", "follow_up"),
        ("post", "follow_up"),
    )
    assert all(phase.opens is None and phase.closes is None for phase in course.phases)
    assert course.timezone == "Asia/Almaty"
    assert [item.id for item in course.items if item.not_applicable] == ["fb_exercises"]


def test_lint_warns_and_strict_fails() -> None:
    flawed = LINT_DATA / "lint-flawed"
    warned = run_check(flawed)
    assert warned.returncode == 0, warned.stderr
    assert warned.stdout.startswith("ok lint-flawed:")
    assert "8 warning(s)" in warned.stdout
    warnings = [line.strip() for line in warned.stderr.splitlines()[1:]]
    assert len(warnings) == 8 and all(line.startswith("warning: ") for line in warnings)
    assert f"warning: {flawed / 'items.toml'} [item f1]: (en) every wrong option" in warned.stderr
    strict = run_check(flawed, strict=True)
    assert strict.returncode == 1
    assert strict.stdout == ""
    assert strict.stderr.startswith("8 problem(s):")
    for rule in (
        "key_longest",
        "distractors_same_start",
        "stem_key_overlap",
        "all_none_of_the_above",
        "key_position",
        "partial_credit_mixed",
        "skill_few_items",
    ):
        assert f"[{rule}]" in strict.stderr, rule


def test_clean_test_passes_strictly() -> None:
    result = run_check(LINT_DATA / "lint-clean", strict=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


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
