"""Typed-in paper questionnaires: CSV rows in, submissions stored as from the web.

One CSV per phase, one row per paper questionnaire, the columns of
`exports.paper.paper_columns` (``evalsvc paper COURSE PHASE --template``). Each row
goes through the web submission's own steps (`Intake`): the code must be issued for
the course (or the pairing answers complete), the agency is the code's or the row's,
the answers are validated by `domain.answers` exactly as a form's, and storing
applies the same duplicate rules (one questionnaire per code and phase). Only the
phase window is not applied: paper typed in after a phase closed still counts.

Re-running an import adds nothing: a row's submission id is derived from the course,
the phase and the normalised code (`submission_id`), so storing it again is the
idempotent retry of the first import ("already there"). A row whose code was already
used for this phase by another submission (the web form, or an import with other
answers) is rejected, as the web would reject it, and the stored answers are kept.

Cells as typed: option ids as printed next to the boxes (case does not matter);
multiple choice as ids separated by ``|``, ``,``, ``;`` or spaces; ``dk`` or ``?``
for "I don't know" and ``na`` for "does not apply"; numbers with a decimal point;
``received_at`` as an ISO 8601 date and time (without an offset: the course's time
zone). Empty cells are unanswered.

Double entry: two people type the same stack into two files. `disagreements` lists
every cell where they differ (after the same light normalisation), and nothing is
stored until there are none.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import uuid
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from evalsvc.domain import answers as answers_mod
from evalsvc.domain.codes import normalize_code
from evalsvc.domain.questionnaire import DONT_KNOW, NOT_APPLICABLE, Course, Item
from evalsvc.errors import ConfigError, RequestError
from evalsvc.exports.paper import META_COLUMNS, paper_columns
from evalsvc.intake import Identity, Intake

PAPER_NAMESPACE = uuid.UUID("4a0c6f55-9d0e-4d8e-9b53-3f1c0c2b7a11")
"""Namespace of the submission ids of imported paper questionnaires (UUID 5)."""
ALIASES = {"dk": DONT_KNOW, "?": DONT_KNOW, "na": NOT_APPLICABLE, "n/a": NOT_APPLICABLE}
_SPLIT = re.compile(r"[|,;\s]+")

Status = Literal["stored", "already_there", "valid", "rejected"]


class Sheet(NamedTuple):
    """A typed-in CSV: its file, its columns and its rows (cells stripped)."""

    path: Path
    columns: tuple[str, ...]
    rows: list[dict[str, str]]


class RowOutcome(NamedTuple):
    row: int
    """1-based number of the data row (the header is row 0)."""
    code: str
    status: Status
    reasons: tuple[str, ...] = ()


class Disagreement(NamedTuple):
    row: int
    code: str
    item: str
    first: str
    second: str


DISAGREEMENT_COLUMNS = ("row", "code", "item", "first_value", "second_value")


# -- reading --------------------------------------------------------------------------------


def read_sheet(path: Path, course: Course, phase_id: str) -> Sheet:
    """Read and check the header; raises ConfigError with what to fix."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text; save it as 'CSV UTF-8' (Excel) or 'Text CSV' with"
            " character set Unicode (UTF-8) (LibreOffice)"
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = [row for row in reader if any(cell.strip() for cell in row)]
    if not table:
        raise ConfigError(f"{path} is empty; start from `evalsvc paper ... --template`")
    columns = tuple(cell.strip() for cell in table[0])
    expected = paper_columns(course, phase_id)
    required = [c for c in expected if c not in META_COLUMNS]
    missing = [c for c in required if c not in columns]
    unknown = [c for c in columns if c not in expected]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if problems:
        raise ConfigError(
            f"{path}: {'; '.join(problems)} for the {phase_id} questionnaire of {course.id};"
            " start from `evalsvc paper COURSE PHASE --template`"
        )
    rows = []
    for number, cells in enumerate(table[1:], start=1):
        if len(cells) > len(columns):
            raise ConfigError(f"{path}: row {number} has more cells than the header")
        padded = [*cells, *[""] * (len(columns) - len(cells))]
        rows.append({name: value.strip() for name, value in zip(columns, padded, strict=True)})
    return Sheet(path, columns, rows)


def row_code(course: Course, row: dict[str, str]) -> str:
    """What identifies the row in messages: the code, or the pairing answers."""
    if course.pairing.method == "self_generated":
        return "/".join(row.get(f"pairing_{q.id}", "") for q in course.pairing.questions)
    return row.get("code", "")


# -- double entry ---------------------------------------------------------------------------


def disagreements(course: Course, phase_id: str, first: Sheet, second: Sheet) -> list[Disagreement]:
    """Every cell where the two typings differ, row by row, in column order."""
    items = {item.id: item for item in course.items_in_phase(phase_id)}
    columns = list(dict.fromkeys([*first.columns, *second.columns]))
    out = []
    for index in range(max(len(first.rows), len(second.rows))):
        one = first.rows[index] if index < len(first.rows) else None
        two = second.rows[index] if index < len(second.rows) else None
        code = row_code(course, one or two or {})
        if one is None or two is None:
            out.append(
                Disagreement(
                    index + 1,
                    code,
                    "(row)",
                    "present" if one is not None else "missing",
                    "present" if two is not None else "missing",
                )
            )
            continue
        for column in columns:
            a, b = one.get(column, ""), two.get(column, "")
            if _comparable(column, a, items.get(column)) != _comparable(
                column, b, items.get(column)
            ):
                out.append(Disagreement(index + 1, code, column, a, b))
    return out


def _comparable(column: str, value: str, item: Item | None) -> object:
    if column == "code":
        return normalize_code(value) or value.upper()
    if item is None:
        return value.casefold()
    if item.kind == "multiple_choice":
        return frozenset(_choice(item, token) for token in _SPLIT.split(value) if token)
    if item.kind in ("likert", "number"):
        parsed = answers_mod.parse_number(value)
        return parsed if isinstance(parsed, int | float) else _choice(item, value)
    if item.kind in ("single_choice", "true_false"):
        return _choice(item, value)
    return " ".join(value.split())


def write_disagreements(path: Path, found: Sequence[Disagreement]) -> None:
    from evalsvc.exports import csv_export

    path.write_text(csv_export.table_csv(DISAGREEMENT_COLUMNS, found), encoding="utf-8")


# -- importing ------------------------------------------------------------------------------


def submission_id(course: Course, phase_id: str, normalized_code: str) -> uuid.UUID:
    return uuid.uuid5(PAPER_NAMESPACE, f"{course.id}/{phase_id}/{normalized_code}")


def _choice(item: Item, typed: str) -> str:
    """The option id (or alias) `typed` stands for; unknown values are left to validation."""
    value = ALIASES.get(typed.strip().casefold(), typed.strip())
    if value in item.option_ids or item.kind in ("likert", "number"):
        return value
    matches = [o for o in item.option_ids if o.casefold() == value.casefold()]
    return matches[0] if len(matches) == 1 else value


def raw_answers(course: Course, phase_id: str, row: dict[str, str]) -> dict[str, object]:
    """The row's answers in the shape a web form gives (`answers.answers_from_form`)."""
    form: dict[str, list[str]] = {}
    for item in course.items_in_phase(phase_id):
        typed = row.get(item.id, "")
        if not typed:
            continue
        if item.kind == "multiple_choice":
            form[item.id] = [_choice(item, t) for t in _SPLIT.split(typed) if t]
        elif item.kind in ("single_choice", "true_false", "likert"):
            form[item.id] = [_choice(item, typed)]
        else:
            form[item.id] = [typed]
    raw = answers_mod.answers_from_form(course, phase_id, form)
    for item in course.items_in_phase(phase_id):
        # "does not apply" is a word, not a number: pass it on to validation as typed
        if form.get(item.id) == [NOT_APPLICABLE] and item.kind == "likert":
            raw[item.id] = NOT_APPLICABLE
    return raw


def received_at(course: Course, typed: str) -> str | None:
    """The UTC time stamp of a typed ``received_at``; None when empty."""
    if not typed:
        return None
    moment = dt.datetime.fromisoformat(typed)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(course.timezone))
    utc = moment.astimezone(dt.UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def import_sheet(
    intake: Intake, course: Course, phase_id: str, sheet: Sheet, *, dry_run: bool
) -> list[RowOutcome]:
    """Check every row, then store the valid ones (unless `dry_run`); one outcome per row."""
    if course.phase(phase_id) is None:
        raise ConfigError(f"no phase {phase_id!r} in {course.id}; it has {course.phase_ids()}")
    outcomes: dict[int, RowOutcome] = {}
    ready = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(sheet.rows, start=1):
        code = row_code(course, row)
        try:
            checked = await _check_row(intake, course, phase_id, row)
        except _Rejected as rejected:
            outcomes[number] = RowOutcome(number, code, "rejected", rejected.reasons)
            continue
        identity = checked.identity.normalized
        if identity in first_row_of:
            reason = f"the same code is on row {first_row_of[identity]}"
            outcomes[number] = RowOutcome(number, code, "rejected", (reason,))
            continue
        first_row_of[identity] = number
        ready.append((number, code, checked))
    if dry_run:
        for number, code, _ in ready:
            outcomes[number] = RowOutcome(number, code, "valid")
    else:
        stored = await asyncio.gather(
            *(_store(intake, course, phase_id, number, code, c) for number, code, c in ready)
        )
        outcomes.update({outcome.row: outcome for outcome in stored})
    return [outcomes[number] for number in sorted(outcomes)]


class _Checked(NamedTuple):
    identity: Identity
    agency: str
    lang: str
    received_at: str | None
    answers: dict[str, answers_mod.AnswerValue]


class _Rejected(Exception):
    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons


async def _check_row(
    intake: Intake, course: Course, phase_id: str, row: dict[str, str]
) -> _Checked:
    if course.pairing.method == "self_generated":
        pairing = {q.id: row.get(f"pairing_{q.id}", "") for q in course.pairing.questions}
        code = None
    else:
        pairing, code = None, row.get("code", "")
        if not code:
            raise _Rejected("code: empty")
    try:
        identity = await intake.identify(course, code, pairing)
    except RequestError as exc:
        raise _Rejected(f"code: {exc.message}") from exc
    try:
        agency = intake.choose_agency(course, identity, row.get("agency") or None)
    except RequestError as exc:
        raise _Rejected(f"agency: {exc.message}") from exc
    lang = row.get("lang") or course.default_lang
    if lang not in course.languages:
        raise _Rejected(f"lang: {lang!r} is not one of {', '.join(course.languages)}")
    try:
        stamp = received_at(course, row.get("received_at", ""))
    except ValueError as exc:
        raise _Rejected(f"received_at: not an ISO 8601 date and time ({exc})") from exc
    checked = answers_mod.validate_answers(course, phase_id, raw_answers(course, phase_id, row))
    if not checked.ok:
        raise _Rejected(*(f"{key}: {error.message}" for key, error in checked.errors.items()))
    return _Checked(identity, agency, lang, stamp, checked.answers)


async def _store(
    intake: Intake, course: Course, phase_id: str, number: int, code: str, checked: _Checked
) -> RowOutcome:
    sid = submission_id(course, phase_id, checked.identity.normalized)
    try:
        stored = await intake.store(
            course,
            phase_id,
            sid,
            checked.identity,
            checked.agency,
            checked.lang,
            dict(checked.answers),
            checked.received_at,
        )
    except RequestError as exc:
        if exc.code == "submission_id_reused":
            reason = (
                "this questionnaire was imported before with other answers; the stored"
                " answers are kept"
            )
        elif exc.code == "already_submitted":
            reason = f"this code already has a {phase_id} questionnaire (sent on the web)"
        else:
            reason = exc.message
        return RowOutcome(number, code, "rejected", (reason,))
    return RowOutcome(number, code, "stored" if stored.created else "already_there")
