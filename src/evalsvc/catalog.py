"""Reads course folders under surveys/ into checked `Course` objects, and programmes.

A course folder holds `course.toml` (metadata, agencies, skills, scales, sections,
phases) and any number of further `*.toml` files whose `[[items]]` are appended
in file-name order. A surveys folder may also hold `programmes/<id>.toml`, each a
`Programme` over courses of any of the folders loaded together. Every problem is
collected and reported, never raised as a traceback: organisers fix definitions
from these messages.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from evalsvc.domain.programme import (
    PROGRAMMES_FOLDER,
    Programme,
    check_programme,
    check_programmes,
)
from evalsvc.domain.questionnaire import Course, Item, Problem, check_course

COURSE_FILE = "course.toml"


@dataclass
class CatalogResult:
    courses: dict[str, Course] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    course_files: dict[str, str] = field(default_factory=dict)
    """Course id -> its course.toml, for messages about a loaded course."""
    item_files: dict[str, dict[str, str]] = field(default_factory=dict)
    """Course id -> item id -> the file the item came from."""
    programmes: dict[str, Programme] = field(default_factory=dict)
    programme_files: dict[str, str] = field(default_factory=dict)
    """Programme id -> its file, for messages."""

    @property
    def ok(self) -> bool:
        return not self.problems


def load_paths(paths: list[Path] | tuple[Path, ...]) -> CatalogResult:
    """Load every course and programme under `paths`: a course folder, a folder of
    course folders (with its `programmes/`), or a programme file."""
    result = CatalogResult()
    folders: list[Path] = []
    programme_paths: list[Path] = []
    for path in paths:
        if not path.exists():
            result.problems.append(Problem(str(path), "", "no such file or folder"))
        elif path.is_file() and path.parent.name == PROGRAMMES_FOLDER:
            programme_paths.append(path)
        elif path.is_file():
            folders.append(path.parent)
        elif (path / COURSE_FILE).is_file():
            folders.append(path)
        else:
            found = sorted(p.parent for p in path.glob(f"*/{COURSE_FILE}"))
            programmes = sorted((path / PROGRAMMES_FOLDER).glob("*.toml"))
            if not found and not programmes:
                result.problems.append(
                    Problem(str(path), "", f"no course folder ({COURSE_FILE}) found")
                )
            folders.extend(found)
            programme_paths.extend(programmes)
    for folder in dict.fromkeys(folders):
        course, problems, item_files = _load_course(folder)
        result.problems.extend(problems)
        if course is None:
            continue
        if course.id in result.courses:
            result.problems.append(
                Problem(str(folder / COURSE_FILE), "id", f"course id {course.id!r} is used twice")
            )
        elif not problems:
            result.courses[course.id] = course
            result.course_files[course.id] = str(folder / COURSE_FILE)
            result.item_files[course.id] = item_files
    _load_programmes(result, list(dict.fromkeys(programme_paths)))
    return result


def _load_programmes(result: CatalogResult, paths: list[Path]) -> None:
    """Programmes are checked against every course loaded with them."""
    for path in paths:
        raw, problems = _read_toml(path)
        result.problems.extend(problems)
        if raw is None:
            continue
        try:
            programme = msgspec.convert(raw, type=Programme)
        except msgspec.ValidationError as exc:
            result.problems.append(Problem(str(path), "", _explain(exc)))
            continue
        found = check_programme(programme, result.courses, str(path))
        if programme.id != path.stem:
            found.append(
                Problem(str(path), "id", f"programme id {programme.id!r} must match its file name")
            )
        if programme.id in result.programmes:
            found.append(Problem(str(path), "id", f"programme id {programme.id!r} is used twice"))
        result.problems.extend(found)
        if not found:
            result.programmes[programme.id] = programme
            result.programme_files[programme.id] = str(path)
    result.problems.extend(check_programmes(result.programmes, result.programme_files))


def load_course(folder: Path) -> tuple[Course | None, list[Problem]]:
    course, problems, _ = _load_course(folder)
    return course, problems


def _load_course(folder: Path) -> tuple[Course | None, list[Problem], dict[str, str]]:
    course_path = folder / COURSE_FILE
    course_file = str(course_path)
    raw, problems = _read_toml(course_path)
    if raw is None:
        return None, problems, {}
    if "items" in raw:
        problems.append(
            Problem(course_file, "items", "put items in their own files, not course.toml")
        )
    items: list[dict] = []
    item_files: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == COURSE_FILE:
            continue
        data, file_problems = _read_toml(path)
        problems.extend(file_problems)
        if data is None:
            continue
        unknown = set(data) - {"items"}
        if unknown:
            problems.append(
                Problem(
                    str(path), "", f"only [[items]] tables belong here, found {sorted(unknown)}"
                )
            )
        file_items = data.get("items", [])
        if not isinstance(file_items, list):
            problems.append(Problem(str(path), "items", "items must be an array of tables"))
            continue
        for index, item in enumerate(file_items):
            item_id = item.get("id") if isinstance(item, dict) else None
            label = item_id if isinstance(item_id, str) else f"#{index + 1}"
            try:
                msgspec.convert(item, type=Item)
            except msgspec.ValidationError as exc:
                problems.append(Problem(str(path), f"item {label}", _explain(exc)))
                continue
            item_files.setdefault(label, str(path))
            items.append(item)
    if problems:
        return None, problems, item_files
    try:
        course = msgspec.convert({**raw, "items": items}, type=Course)
    except msgspec.ValidationError as exc:
        return None, [Problem(course_file, "", _explain(exc))], item_files
    if course.id != folder.name:
        problems.append(
            Problem(
                course_file, "id", f"course id {course.id!r} must match its folder {folder.name!r}"
            )
        )
    problems.extend(check_course(course, item_files, course_file))
    return course, problems, item_files


def _read_toml(path: Path) -> tuple[dict | None, list[Problem]]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), []
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(str(path), "", f"TOML syntax error: {exc}")]
    except OSError as exc:
        return None, [Problem(str(path), "", f"cannot read: {exc.strerror}")]


def _explain(exc: msgspec.ValidationError) -> str:
    # msgspec says "Expected `int`, got `str` - at `$.min_cell_size`"; keep it, drop "$."
    return str(exc).replace("`$.", "`").replace("`$`", "the file")
