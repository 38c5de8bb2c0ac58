"""XLSForms (one per phase) back into an evalsvc course folder.

The inverse of `exports.xlsform`: what the forms say natively wins (items, options,
texts per language, hints, groups as sections, group order as each phase's sections,
"I don't know" and "does not apply" choices, agency names, scale labels), and the
``evalsvc_*`` columns and the ``evalsvc_course`` setting supply the rest (roles,
skills, answer keys, points, scales' ranges, phases' windows...). A form made
elsewhere has none of these: the import then writes clear ``TODO`` markers (a
``# TODO`` comment, and a value that `evalsvc check` refuses), so nothing is guessed
silently.

A phase is told by ``--phase FILE=PHASE``, else by the suffix of the form's
``form_id`` after ``<course id>-`` (or after the name of a phase the course
declares), else by its ``evalsvc_phase`` setting.

XLSForm features evalsvc has no place for (relevance, calculations, repeats,
choice filters, other question types...) are listed as warnings, never dropped
silently.

Files written: ``course.toml``, and one item file per section, numbered in the order
the sections first appear (``01-profile.toml``...), so the items keep their order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from evalsvc import toml_writer
from evalsvc.domain.questionnaire import (
    DONT_KNOW,
    NOT_APPLICABLE,
    TRUE_FALSE_OPTIONS,
    Course,
    Item,
)
from evalsvc.errors import ConfigError
from evalsvc.exports.xlsform import ITEM_COLUMNS, generated_constraint
from evalsvc.toml_writer import COMMENT

Row = dict[str, str]
TODO = "TODO"
UNSUPPORTED_COLUMNS = (
    "relevant",
    "calculation",
    "choice_filter",
    "repeat_count",
    "trigger",
    "default",
    "read_only",
    "parameters",
)
QUESTION_TYPES = {
    "select_one": "single_choice",
    "select_multiple": "multiple_choice",
    "integer": "number",
    "decimal": "number",
    "text": "short_text",
}
_LANGUAGE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)\)\s*$")


class XLSForm(NamedTuple):
    path: Path
    sheets: dict[str, list[Row]]


class ImportResult(NamedTuple):
    files: dict[str, str]
    """File name -> TOML text of the course folder."""
    warnings: list[str]
    todos: int
    """How many TODO markers were written."""


# -- reading ---------------------------------------------------------------------------------


def read_xlsform(path: Path) -> XLSForm:
    """The survey, choices and settings sheets as rows of text cells."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read {path} as an .xlsx file: {exc}") from exc
    sheets: dict[str, list[Row]] = {}
    for sheet in book.worksheets:
        rows = [[_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        if not rows:
            continue
        header = [cell.strip() for cell in rows[0]]
        sheets[sheet.title.strip().lower()] = [
            {name: cell.strip() for name, cell in zip(header, row, strict=False) if name}
            for row in rows[1:]
            if any(cell.strip() for cell in row)
        ]
    book.close()
    if "survey" not in sheets:
        raise ConfigError(f"{path} has no survey sheet: is it an XLSForm?")
    return XLSForm(path, sheets)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def language_of(column: str, default: str) -> str:
    """``label::Russian (ru)`` -> ``ru``; ``label::ru`` -> ``ru``; ``label`` -> default."""
    if "::" not in column:
        return default
    name = column.split("::", 1)[1].strip()
    match = _LANGUAGE.search(name)
    return match.group(1) if match else name


# -- importing ------------------------------------------------------------------------------


def import_xlsforms(
    forms: Sequence[XLSForm], course_id: str, phases: Mapping[Path, str] | None = None
) -> ImportResult:
    state = _Import(course_id)
    for form in forms:
        state.read_form(form, (phases or {}).get(form.path))
    return state.result()


class _Import:
    def __init__(self, course_id: str) -> None:
        self.course_id = course_id
        self.meta: dict[str, Any] | None = None
        self.warnings: list[str] = []
        self.todos = 0
        self.items: dict[str, dict[str, Any]] = {}
        self.item_files: dict[str, str] = {}
        self.sections: dict[str, dict[str, Any]] = {}
        self.phases: dict[str, dict[str, Any]] = {}
        self.agencies: dict[str, dict[str, str]] = {}
        self.scale_labels: dict[str, dict[int, dict[str, str]]] = {}
        self.languages: list[str] = []
        self.default_lang = "en"
        self.title: dict[str, str] = {}

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    # -- one form ----------------------------------------------------------------------------
    def read_form(self, form: XLSForm, phase_override: str | None) -> None:
        settings = (form.sheets.get("settings") or [{}])[0]
        if self.meta is None and settings.get("evalsvc_course"):
            try:
                self.meta = msgspec.json.decode(settings["evalsvc_course"])
            except msgspec.DecodeError as exc:
                raise ConfigError(f"{form.path}: evalsvc_course is not valid JSON: {exc}") from exc
        if self.meta is not None:
            self.default_lang = self.meta.get("default_language") or self.meta["languages"][0]
        elif settings.get("default_language"):
            self.default_lang = language_of("x::" + settings["default_language"], "en")
        phase_id = phase_override or self._phase_of(form, settings)
        if phase_id in self.phases:
            raise ConfigError(f"{form.path}: a second form for the phase {phase_id!r}")
        if not self.title and settings.get("form_title"):
            self.title = {self.default_lang: settings["form_title"]}
        for column in form.sheets["survey"][0] if form.sheets["survey"] else {}:
            if column.startswith("label"):
                lang = language_of(column, self.default_lang)
                if lang not in self.languages:
                    self.languages.append(lang)
        choices = self._choices(form)
        phase: dict[str, Any] = {"id": phase_id, "sections": [], "intro": {}}
        self.phases[phase_id] = phase
        section: str | None = None
        depth = 0
        for number, row in enumerate(form.sheets["survey"], start=2):
            where = f"{form.path.name} row {number}"
            tokens = row.get("type", "").split()
            kind = " ".join(tokens[:1] + tokens[1:2]).lower().replace("_", " ")
            if len(tokens) > 2:
                self.warn(f"{where}: {' '.join(tokens[2:])!r} after the list name is not supported")
            name = _unprefix(row.get("name", ""))
            role = row.get("evalsvc_role", "")
            for column in UNSUPPORTED_COLUMNS:
                if row.get(column):
                    self.warn(f"{where} ({name}): {column} is not supported and was left out")
            if kind in ("begin group", "begin repeat"):
                if kind == "begin repeat":
                    self.warn(f"{where} ({name}): repeats are not supported; read as a section")
                depth += 1
                if depth > 1:
                    self.warn(f"{where} ({name}): nested group read as a section of its own")
                section = name or f"section{len(self.sections) + 1}"
                phase["sections"].append(section)
                self.sections.setdefault(
                    section,
                    {"id": section, "title": self._texts(row, "label"),
                     "intro": self._texts(row, "hint")},
                )  # fmt: skip
                continue
            if kind in ("end group", "end repeat"):
                depth -= 1
                section = None
                continue
            if role == "phase_intro":
                phase["intro"] = self._texts(row, "label")
                continue
            if role in ("code", "pairing") or name == "code" or name.startswith("pairing_"):
                continue
            if role == "agency" or name == "agency":
                for option in choices.get(tokens[1] if len(tokens) > 1 else "", []):
                    self.agencies.setdefault(option["id"], option["text"])
                continue
            base = tokens[0].lower() if tokens else ""
            if base not in QUESTION_TYPES:
                self.warn(f"{where} ({name}): question type {kind!r} is not supported; left out")
                continue
            if section is None:
                section = "questions"
                phase["sections"].append(section)
                self.sections.setdefault(
                    section, {"id": section, "title": {self.default_lang: f"{TODO}: a title"}}
                )
                self.todos += 1
            list_name = tokens[1] if len(tokens) > 1 else ""
            item = self._item(row, base, list_name, name, section, choices, where)
            if name in self.items:
                if self.items[name] != item:
                    self.warn(
                        f"{where}: item {name!r} differs from its definition in"
                        f" {self.item_files[name]}; that one was kept"
                    )
                continue
            self.items[name] = item
            self.item_files[name] = form.path.name

    def _phase_of(self, form: XLSForm, settings: Row) -> str:
        form_id = _unprefix(settings.get("form_id", ""))
        prefix = f"{self.course_id}-"
        if form_id.startswith(prefix) and len(form_id) > len(prefix):
            return form_id[len(prefix) :]
        known = [p["id"] for p in (self.meta or {}).get("phases", [])]
        for phase in sorted(known, key=len, reverse=True):
            if form_id.endswith((f"-{phase}", f"_{phase}")):
                return phase
        if settings.get("evalsvc_phase"):
            return settings["evalsvc_phase"]
        raise ConfigError(
            f"cannot tell the phase of {form.path} (form_id {form_id!r}):"
            f" pass --phase {form.path}=PHASE"
        )

    def _texts(self, row: Row, kind: str) -> dict[str, str]:
        out = {}
        for column, value in row.items():
            if value and (column == kind or column.startswith(f"{kind}::")):
                out[language_of(column, self.default_lang)] = value
        return out

    def _choices(self, form: XLSForm) -> dict[str, list[dict[str, Any]]]:
        lists: dict[str, list[dict[str, Any]]] = {}
        for row in form.sheets.get("choices", []):
            list_name = row.get("list_name") or row.get("list name", "")
            lists.setdefault(list_name, []).append(
                {"id": row.get("name", ""), "text": self._texts(row, "label")}
            )
        return lists

    def _item(
        self,
        row: Row,
        base: str,
        list_name: str,
        name: str,
        section: str,
        choices: Mapping[str, list[dict[str, Any]]],
        where: str,
    ) -> dict[str, Any]:
        fields = {f: row.get(f"evalsvc_{f}", "") for f in ITEM_COLUMNS}
        item_kind = fields["kind"] or QUESTION_TYPES[base]
        if item_kind == "short_text" and row.get("appearance", "") == "multiline":
            item_kind = "long_text"
        if base == "select_one" and not fields["kind"] and row.get("appearance") == "likert":
            item_kind = "likert"
        item: dict[str, Any] = {}
        comments = []
        role = fields["role"]
        if not role:
            role = TODO
            comments.append("TODO: role = knowledge, self_assessment, feedback or profile")
        item.update(id=name, role=role, kind=item_kind, section=section)
        options = list(choices.get(list_name, [])) if list_name else []
        if list_name and list_name not in choices:
            self.warn(f"{where} ({name}): no choices named {list_name!r}")
        ids = [o["id"] for o in options]
        if DONT_KNOW in ids:
            item["dont_know"] = True
        if NOT_APPLICABLE in ids:
            item["not_applicable"] = True
        plain = [o for o in options if o["id"] not in (DONT_KNOW, NOT_APPLICABLE)]
        if item_kind in ("single_choice", "multiple_choice"):
            item["options"] = [{"id": _unprefix(o["id"]), "text": o["text"]} for o in plain]
        elif item_kind == "true_false" and sorted(o["id"] for o in plain) != sorted(
            TRUE_FALSE_OPTIONS
        ):
            self.warn(f"{where} ({name}): a true/false item needs the choices true and false")
        elif item_kind == "likert":
            scale = fields["scale"] or re.sub(r"^scale_|_na$", "", list_name)
            item["scale"] = scale
            labels = self.scale_labels.setdefault(scale, {})
            for option in plain:
                if option["id"].lstrip("-").isdigit() and any(
                    text != option["id"] for text in option["text"].values()
                ):
                    labels.setdefault(int(option["id"]), option["text"])
        item["text"] = self._texts(row, "label")
        help_text = self._texts(row, "hint")
        if help_text:
            item["help"] = help_text
        if fields["skill"]:
            item["skill"] = fields["skill"]
        elif role in ("knowledge", "self_assessment", TODO):
            item["skill"] = TODO
            comments.append("TODO: skill = one of the course's skills")
        if row.get("required", "").lower() in ("yes", "true", "1", "true()"):
            item["required"] = True
        if fields["correct"]:
            item["correct"] = fields["correct"].split()
        elif role in ("knowledge", TODO) and item_kind in ("single_choice", "multiple_choice",
                                                             "true_false"):  # fmt: skip
            item["correct"] = [TODO]
            comments.append("TODO: correct = the ids of the right options (the answer key)")
        for field, convert in (("points", float), ("min", float), ("max", float)):
            if fields[field]:
                item[field] = convert(fields[field])
        if fields["max_length"]:
            item["max_length"] = int(fields["max_length"])
        for flag in ("partial_credit", "breakdown"):
            if fields[flag].lower() in ("yes", "true", "1"):
                item[flag] = True
        if fields["source"]:
            item["source"] = fields["source"]
        constraint = row.get("constraint", "")
        if constraint:
            try:
                ours = generated_constraint(msgspec.convert(_without_todo(item), Item))
            except msgspec.ValidationError:
                ours = None
            if constraint != ours:
                self.warn(f"{where} ({name}): constraint {constraint!r} is not supported")
        if comments:
            self.todos += len(comments)
            item[COMMENT] = comments
        return item

    # -- the course ----------------------------------------------------------------------------
    def result(self) -> ImportResult:
        meta = dict(self.meta or {})
        course: dict[str, Any] = {"id": self.course_id}
        if self.meta is None:
            course[COMMENT] = ["TODO: imported from XLSForms made outside evalsvc; check it all"]
            course["title"] = self.title or {self.default_lang: f"{TODO}: course title"}
            course["languages"] = self.languages or [self.default_lang]
            course["default_language"] = self.default_lang
            self.todos += 1
        else:
            for key, value in meta.items():
                if key not in ("id", "items", "agencies", "scales", "sections", "phases"):
                    course[key] = value
        course["agencies"] = self._agencies(meta)
        if self.meta is None:
            course["skills"] = self._skills()
        course["scales"] = self._scales(meta)
        course["sections"] = self._sections(meta)
        course["phases"] = self._phases(meta)
        data = _typed(course)
        files = {"course.toml": toml_writer.dumps(_compact(data, Course))}
        order = list(dict.fromkeys(s for p in course["phases"] for s in p["sections"]))
        by_section: dict[str, list[dict[str, Any]]] = {}
        for item in self.items.values():
            by_section.setdefault(item["section"], []).append(_compact(item, Item))
        width = len(str(len(order)))
        for number, section in enumerate(order, start=1):
            if section in by_section:
                name = f"{number:0{width}d}-{section}.toml"
                files[name] = toml_writer.dumps({"items": by_section[section]})
        return ImportResult(files, self.warnings, self.todos)

    def _skills(self) -> list[dict[str, Any]]:
        """Without the course's metadata: the skills the items name, to be named."""
        self.todos += 1
        named = [item.get("skill") for item in self.items.values()]
        skills = [s for s in dict.fromkeys(named) if s and s != TODO]
        if not skills:
            return [{"id": "TODO-skill", "name": {self.default_lang: f"{TODO}: the skills"}}]
        return [{"id": s, "name": {self.default_lang: f"{TODO}: name of {s}"}} for s in skills]

    def _agencies(self, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        known = {a["id"]: dict(a) for a in meta.get("agencies", [])}
        for agency_id, name in self.agencies.items():
            known.setdefault(agency_id, {"id": agency_id})["name"] = name
        if not known:
            self.todos += 1
            return [{"id": "TODO-agency", "name": {self.default_lang: f"{TODO}: the agencies"}}]
        return list(known.values())

    def _scales(self, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        scales = {s["id"]: dict(s) for s in meta.get("scales", [])}
        for scale_id, labels in self.scale_labels.items():
            scale = scales.setdefault(scale_id, {"id": scale_id})
            if labels or "labels" not in scale:
                scale["labels"] = [
                    {"value": value, "text": text} for value, text in sorted(labels.items())
                ]
        return list(scales.values())

    def _sections(self, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        sections = {s["id"]: dict(s) for s in meta.get("sections", [])}
        for section_id, read in self.sections.items():
            entry = sections.setdefault(section_id, {"id": section_id})
            entry["title"] = read["title"] or entry.get("title") or {self.default_lang: TODO}
            entry["intro"] = read.get("intro") or {}
        return list(sections.values())

    def _phases(self, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        declared = {p["id"]: dict(p) for p in meta.get("phases", [])}
        order = [p for p in declared if p in self.phases]
        order += [p for p in self.phases if p not in declared]
        missing = [p for p in declared if p not in self.phases]
        if missing:
            self.warn(f"no form for the phase(s) {', '.join(missing)}; they were left out")
        out = []
        for phase_id in order:
            phase = declared.get(phase_id, {"id": phase_id})
            read = self.phases[phase_id]
            phase["sections"] = list(dict.fromkeys(read["sections"]))
            if read["intro"]:
                phase["intro"] = read["intro"]
            out.append(phase)
        return out


def _unprefix(name: str) -> str:
    """Our ids never start with "_": the export put it before a leading digit."""
    return name[1:] if name.startswith("_") and name[1:2].isdigit() else name


def _without_todo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != COMMENT}


def _typed(course: dict[str, Any]) -> dict[str, Any]:
    """Dates and times back from their JSON strings, so TOML writes them unquoted."""
    for key in ("start_date", "end_date"):
        if isinstance(course.get(key), str):
            course[key] = dt.date.fromisoformat(course[key])
    for phase in course.get("phases", []):
        for key in ("opens", "closes"):
            if isinstance(phase.get(key), str):
                phase[key] = dt.datetime.fromisoformat(phase[key])
    return course


def _compact(data: Mapping[str, Any], struct: type[msgspec.Struct]) -> dict[str, Any]:
    """`data` without the fields that equal the struct's defaults, in field order."""
    defaults = {
        field.name: field.default
        for field in msgspec.structs.fields(struct)
        if field.default is not msgspec.NODEFAULT
    }
    order = {name: i for i, name in enumerate(struct.__struct_fields__)}
    out = {}
    if COMMENT in data:
        out[COMMENT] = data[COMMENT]
    for key in sorted((k for k in data if k != COMMENT), key=lambda k: order.get(k, 999)):
        value = data[key]
        if key in defaults and _same(value, defaults[key]):
            continue
        out[key] = _nested(key, value)
    return out


def _same(value: Any, default: Any) -> bool:
    if isinstance(default, tuple):
        return list(value) == list(default) if isinstance(value, list | tuple) else False
    if isinstance(default, msgspec.Struct):
        return value == msgspec.to_builtins(default)
    return value == default and type(value) is type(default)


_NESTED = {"agencies", "skills", "scales", "sections", "phases", "organisers"}


def _nested(key: str, value: Any) -> Any:
    """Drop empty texts inside lists of tables (e.g. an agency's empty official_name)."""
    if key in _NESTED and isinstance(value, list):
        return [{k: v for k, v in entry.items() if v not in ({}, None, [])} for entry in value]
    if key == "pairing" and isinstance(value, dict) and not value.get("questions"):
        return {k: v for k, v in value.items() if k != "questions"}
    return value


def write_folder(result: ImportResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(out.glob("*.toml"))
    if existing:
        raise ConfigError(f"{out} already holds {existing[0].name}; import into an empty folder")
    written = []
    for name, text in result.files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def phase_overrides(values: Sequence[str]) -> dict[Path, str]:
    """--phase FILE=PHASE values."""
    out = {}
    for value in values:
        file, sep, phase = value.rpartition("=")
        if not sep or not file or not phase:
            raise ConfigError(f"--phase takes FILE=PHASE, not {value!r}")
        out[Path(file)] = phase
    return out


def check_course_id(course_id: str, out: Path) -> None:
    if out.name != course_id:
        raise ConfigError(
            f"the folder {out} must be named after the course id {course_id!r}"
            " (evalsvc reads the course id from its folder)"
        )
