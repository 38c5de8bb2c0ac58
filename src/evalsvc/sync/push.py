"""`evalsvc sync push`: send a venue laptop's codes and submissions to the central server.

It asks the server which submissions it already has and sends the others, in
batches of a bounded size; every call is idempotent (by submission_id), so a push
that was interrupted (the network went, the laptop slept) is resumed by running
the same command again: what arrived is not sent twice, and what did not is sent.
A progress bar on stderr shows how far it is.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
import msgspec

from evalsvc.errors import EvalsvcError
from evalsvc.storage import Storage
from evalsvc.storage.records import SharedSubmission
from evalsvc.sync.wire import (
    KNOWN_MAX_IDS,
    KnownAnswer,
    SharedCode,
    SubmissionOutcome,
    SyncBatch,
    SyncedSubmission,
    SyncResult,
)

BATCH_BYTES = 256 * 1024
"""Aim for request bodies of about this size (the server takes up to 4 MiB)."""
BATCH_MAX = 200
PAGE = min(500, KNOWN_MAX_IDS)
"""Submissions read from the laptop's database, and asked about, at a time."""
TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


class PushFailed(EvalsvcError):
    """The push stopped; the message says why and what to do."""


class _TooLarge(Exception):
    """413 or 408: the server wants smaller batches."""


@dataclass
class PushReport:
    codes_added: int = 0
    codes_already_there: int = 0
    codes_rejected: list[str] = field(default_factory=list)
    sent: int = 0
    already_there: int = 0
    rescored: int = 0
    conflicts: list[SubmissionOutcome] = field(default_factory=list)
    rejected: list[SubmissionOutcome] = field(default_factory=list)

    def count(self, outcome: SubmissionOutcome) -> None:
        if outcome.status == "sent":
            self.sent += 1
            self.rescored += outcome.rescored
        elif outcome.status == "already_there":
            self.already_there += 1
        elif outcome.status == "conflict":
            self.conflicts.append(outcome)
        else:
            self.rejected.append(outcome)

    @property
    def done(self) -> int:
        return self.sent + self.already_there + len(self.conflicts) + len(self.rejected)


class ProgressBar:
    """One line on stderr, redrawn: [#####.....] 120/300 submissions, what happened."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total = total
        self.out = out

    def show(self, report: PushReport) -> None:
        width = 30
        filled = width * report.done // self.total if self.total else width
        bar = "#" * filled + "." * (width - filled)
        self.out.write(
            f"\r[{bar}] {report.done}/{self.total} submissions: {report.sent} sent,"
            f" {report.already_there} already there, {len(report.conflicts)} conflicts"
        )
        self.out.flush()

    def finish(self) -> None:
        self.out.write("\n")
        self.out.flush()


def shared_submission(row: SharedSubmission) -> SyncedSubmission:
    return SyncedSubmission(
        submission_id=row.submission_id,
        course=row.course,
        phase=row.phase,
        code_hash=row.code_hash.hex(),
        body_hash=row.body_hash.hex(),
        receipt=row.receipt,
        agency=row.agency,
        breakdowns=_decode(row.breakdowns_json),
        lang=row.lang,
        answers=_decode(row.answers_json),
        received_at=row.received_at,
        scoring=row.scoring,
    )


class Pusher:
    def __init__(
        self,
        db: Storage,
        client: httpx.AsyncClient,
        fingerprint: bytes,
        courses: Sequence[str] | None,
        retries: int = 5,
        out: TextIO = sys.stderr,
        batch_max: int = BATCH_MAX,
    ) -> None:
        self.db = db
        self.batch_max = batch_max
        self.client = client
        self.fingerprint = fingerprint.hex()
        self.courses = list(courses) if courses else None
        self.retries = retries
        self.out = out
        self.batch_bytes = BATCH_BYTES
        self.report = PushReport()

    async def run(self) -> PushReport:
        # An empty batch first: a wrong token, key or course stops here, having sent nothing
        await self._push(SyncBatch(key_fingerprint=self.fingerprint))
        await self._push_codes()
        if self.courses is None:
            total = await self.db.count_submissions()
        else:
            total = sum([await self.db.count_submissions(course) for course in self.courses])
        bar = ProgressBar(total, self.out)
        bar.show(self.report)
        position = 0
        while rows := await self.db.submissions_to_share(self.courses, position, PAGE):
            position = rows[-1].position
            known = await self._known([row.submission_id for row in rows])
            self.report.already_there += len(known)
            missing = [shared_submission(row) for row in rows if row.submission_id not in known]
            for batch in self._batches(missing):
                await self._push_submissions(batch)
                bar.show(self.report)
            bar.show(self.report)
        bar.finish()
        return self.report

    async def _push_codes(self) -> None:
        codes = [
            SharedCode(code.course, code.code_hash.hex(), code.agency, code.created_at)
            for code in await self.db.codes_to_share(self.courses)
        ]
        for start in range(0, len(codes), 1000):
            result = await self._push(
                SyncBatch(key_fingerprint=self.fingerprint, codes=codes[start : start + 1000])
            )
            self.report.codes_added += result.codes_added
            self.report.codes_already_there += result.codes_already_there
            self.report.codes_rejected += result.codes_rejected

    def _batches(self, submissions: list[SyncedSubmission]) -> list[list[SyncedSubmission]]:
        batches: list[list[SyncedSubmission]] = [[]]
        size = 0
        for submission in submissions:
            length = len(_encode(submission))
            full = size + length > self.batch_bytes or len(batches[-1]) >= self.batch_max
            if batches[-1] and full:
                batches.append([])
                size = 0
            batches[-1].append(submission)
            size += length
        return [batch for batch in batches if batch]

    async def _push_submissions(self, batch: list[SyncedSubmission]) -> None:
        try:
            result = await self._push(
                SyncBatch(key_fingerprint=self.fingerprint, submissions=batch)
            )
        except _TooLarge:
            if len(batch) == 1:
                raise PushFailed(
                    f"the server refuses submission {batch[0].submission_id} as too large"
                ) from None
            self.batch_bytes = max(16 * 1024, self.batch_bytes // 2)
            half = len(batch) // 2
            await self._push_submissions(batch[:half])
            await self._push_submissions(batch[half:])
            return
        for outcome in result.submissions:
            self.report.count(outcome)

    async def _known(self, submission_ids: list[str]) -> set[str]:
        body = _encode({"submission_ids": submission_ids})
        answer = msgspec.json.decode(
            await self._post("/api/v1/sync/submissions/known", body), type=KnownAnswer
        )
        return set(answer.known)

    async def _push(self, batch: SyncBatch) -> SyncResult:
        content = await self._post("/api/v1/sync/submissions", _encode(batch))
        return msgspec.json.decode(content, type=SyncResult)

    async def _post(self, path: str, body: bytes) -> bytes:
        """POST, retrying what may pass on a second try (no connection, 502/503/504)."""
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(min(2 ** (attempt - 1), 10))
            try:
                response = await self.client.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.TransportError as exc:
                problem = f"the server cannot be reached ({exc.__class__.__name__}: {exc})"
                continue
            if response.status_code in (502, 503, 504):
                problem = f"the server answered {response.status_code}: {_message(response)}"
                continue
            if response.status_code in (408, 413):
                raise _TooLarge
            if response.status_code == 401:
                raise PushFailed(f"the server refuses the token: {_message(response)}")
            if response.status_code >= 400:
                raise PushFailed(
                    f"the server answered {response.status_code}: {_message(response)}"
                )
            return response.content
        raise PushFailed(
            f"{problem}.\n  The push stopped; what arrived is stored. Run the same command"
            " again to resume: nothing is sent twice."
        )


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.text[:200])
    except (ValueError, AttributeError):
        return response.text[:200]


async def push(
    db: Storage,
    url: str,
    token: str,
    fingerprint: bytes,
    courses: Sequence[str] | None,
    retries: int = 5,
    out: TextIO = sys.stderr,
    batch_max: int = BATCH_MAX,
) -> PushReport:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT
    ) as client:
        return await Pusher(db, client, fingerprint, courses, retries, out, batch_max).run()
