"""The central server's side of a push: store what a venue collected, decide nothing twice.

Every submission goes through the same storage operation as one sent by a
participant (`Storage.store_submission`), so the same constraints decide:
- a submission_id the server has, with the same body: already there;
- a submission_id the server has, with another body: a conflict;
- a code and phase the server has under another submission_id: already there when
  the answers are the same, else a conflict (the server keeps its copy).
What differs from a participant's submission: the phase windows do not apply (the
answers were collected at the venue while the phase was open there), the venue's
received_at and receipt are kept, and the scores are always computed here, with the
server's course files; a submission the venue scored under other rules is reported
as rescored.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime as dt
import uuid
from collections.abc import Mapping

import msgspec

from evalsvc.domain.access import Scope
from evalsvc.domain.answers import validate_answers
from evalsvc.domain.derived import derive
from evalsvc.domain.questionnaire import Course
from evalsvc.errors import Conflict, StorageUnavailable, Unprocessable
from evalsvc.intake import unknown_course
from evalsvc.storage import Storage
from evalsvc.storage.records import IssuedCode, NewSubmission, StoredSubmission
from evalsvc.sync.wire import (
    Status,
    SubmissionOutcome,
    SyncBatch,
    SyncedSubmission,
    SyncResult,
)

_decode_answers = msgspec.json.Decoder(dict[str, object]).decode


def _hash(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (ValueError, binascii.Error):
        raise Unprocessable(f"{what} is not hex", code="invalid") from None
    if len(raw) != 32:
        raise Unprocessable(f"{what} is not a 32-byte hash", code="invalid")
    return raw


def _timestamp(value: str) -> str:
    """The venue's time, if it is the storage's format (UTC, ...Z); else refused."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Unprocessable(f"received_at {value!r} is not a time", code="invalid") from None
    if moment.utcoffset() != dt.timedelta(0) or not value.endswith("Z"):
        raise Unprocessable(f"received_at {value!r} is not in UTC", code="invalid")
    return value


def check_batch(
    batch: SyncBatch, fingerprint: bytes, courses: Mapping[str, Course], scope: Scope
) -> None:
    """Refuse the whole batch: another secret key (409), or a course the server does
    not have or the token does not reach (404, as for a course that does not exist)."""
    if batch.key_fingerprint != fingerprint.hex():
        raise Conflict(
            "the venue's secret key is not this server's: its codes would not match here."
            " Use the server's key on the venue laptop (README: the venue-laptop workflow)",
            code="key_mismatch",
        )
    for course_id in {c.course for c in batch.codes} | {s.course for s in batch.submissions}:
        if course_id not in courses or not scope.allows_course(course_id):
            raise unknown_course(course_id)


async def receive(
    db: Storage,
    courses: Mapping[str, Course],
    batch: SyncBatch,
    fingerprint: bytes,
    scope: Scope,
) -> SyncResult:
    check_batch(batch, fingerprint, courses, scope)
    codes, codes_rejected = [], []
    for shared in batch.codes:
        course = courses[shared.course]
        if shared.agency is not None and shared.agency not in course.agency_ids():
            codes_rejected.append(f"{shared.code_hash[:12]}: unknown agency {shared.agency!r}")
            continue
        try:
            codes.append(
                IssuedCode(
                    course=shared.course,
                    code_hash=_hash(shared.code_hash, "code_hash"),
                    agency=shared.agency,
                    created_at=_timestamp(shared.created_at),
                )
            )
        except Unprocessable as exc:
            codes_rejected.append(f"{shared.code_hash[:12]}: {exc.message}")
    added = await db.merge_codes(codes) if codes else 0

    outcomes = await asyncio.gather(
        *(_one(db, courses[shared.course], shared) for shared in batch.submissions)
    )
    return SyncResult(
        codes_added=added,
        codes_already_there=len(codes) - added,
        codes_rejected=codes_rejected,
        submissions=list(outcomes),
    )


async def _one(db: Storage, course: Course, shared: SyncedSubmission) -> SubmissionOutcome:
    def outcome(status: Status, reason: str = "", rescored: bool = False) -> SubmissionOutcome:
        return SubmissionOutcome(
            submission_id=shared.submission_id,
            course=shared.course,
            phase=shared.phase,
            status=status,
            rescored=rescored,
            reason=reason,
        )

    try:
        new, answers = _accepted(course, shared)
    except Unprocessable as exc:
        return outcome("rejected", exc.message)
    try:
        stored: StoredSubmission = await db.store_submission(new)
    except StorageUnavailable:
        raise  # the whole push answers 503: the venue tries again, nothing twice
    except Unprocessable:
        return outcome("conflict", "the server holds other answers under this submission id")
    except Conflict:
        held = await db.stored_answers(course.id, new.code_hash, new.phase)
        if held is not None and _decode_answers(held) == answers:
            return outcome("already_there")
        return outcome(
            "conflict",
            "the server holds other answers for this code and phase; it keeps its own",
        )
    if not stored.created:
        return outcome("already_there")
    return outcome("sent", rescored=shared.scoring != new.scoring)


def _accepted(course: Course, shared: SyncedSubmission) -> tuple[NewSubmission, dict[str, object]]:
    """The submission as the server stores it: its answers checked against the server's
    course (any phase window), scored with the server's course files."""
    try:
        submission_id = str(uuid.UUID(shared.submission_id))
    except ValueError:
        raise Unprocessable("the submission_id is not a UUID", code="invalid") from None
    if course.phase(shared.phase) is None:
        raise Unprocessable(f"no phase {shared.phase!r} in this course", code="invalid")
    if shared.agency not in course.agency_ids():
        raise Unprocessable(f"unknown agency {shared.agency!r}", code="invalid")
    if shared.lang not in course.languages:
        raise Unprocessable(f"the course is not offered in {shared.lang!r}", code="invalid")
    validated = validate_answers(course, shared.phase, shared.answers)
    if validated.errors:
        problems = "; ".join(f"{item}: {e.message}" for item, e in validated.errors.items())
        raise Unprocessable(f"answers not valid for this course: {problems}", code="invalid")
    answers: dict[str, object] = dict(validated.answers)
    derived = derive(course, shared.phase, answers)
    new = NewSubmission(
        submission_id=submission_id,
        body_hash=_hash(shared.body_hash, "body_hash"),
        receipt=shared.receipt[:40],  # the venue's, shown to the participant (14 characters)
        course=course.id,
        phase=shared.phase,
        code_hash=_hash(shared.code_hash, "code_hash"),
        agency=shared.agency,
        lang=shared.lang,
        answers_json=msgspec.json.encode(answers).decode(),
        scores_json=msgspec.json.encode(derived.scores).decode(),
        summarised_json=msgspec.json.encode(derived.summarised).decode(),
        breakdowns_json=msgspec.json.encode(derived.breakdowns).decode(),
        scoring=derived.scoring,
        received_at=_timestamp(shared.received_at),
    )
    return new, answers
