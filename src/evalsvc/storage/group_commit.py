"""Group commit: queued writes committed together, acknowledged only after COMMIT.

Both backends queue their writes here. A writer task takes whatever is queued
(up to `batch_max` jobs), hands the batch to the backend's `commit` (one
transaction), and the backend settles each job's future only after COMMIT has
returned. One COMMIT (one fsync) then serves many submissions. SQLite runs one
writer (it has one write lock); PostgreSQL may run several, each on its own
connection, so that one batch forms while another commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from evalsvc.errors import StorageUnavailable

Outcome = tuple["Job", Any, BaseException | None]


class Job:
    """A queued write: a generic unit of work (SQLite), or a submission stored set-wise."""

    __slots__ = ("unit", "submission", "future")

    def __init__(self, future: asyncio.Future[Any], unit: Any = None, submission: Any = None):
        self.unit = unit
        self.submission = submission
        self.future = future


def settle(outcomes: list[Outcome]) -> None:
    """Answer every job of a committed batch: its result, or its own refusal."""
    for job, result, error in outcomes:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)


def fail(batch: list[Job], message: str) -> None:
    """Nothing of the batch was stored: every caller hears so (503)."""
    for job in batch:
        if not job.future.done():
            job.future.set_exception(StorageUnavailable(message))


class GroupCommit:
    def __init__(
        self,
        commit: Callable[[list[Job]], Awaitable[None]],
        *,
        batch_max: int,
        writers: int = 1,
        name: str = "evalsvc-writer",
    ) -> None:
        self._commit = commit
        self.batch_max = batch_max
        self.writers = writers
        self.name = name
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = 0
        self.batches = 0
        """Batches committed or failed so far (with `jobs`, what group commit achieved)."""
        self.jobs = 0
        self.largest_batch = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"{self.name}-{number}")
            for number in range(self.writers)
        ]

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def submit(self, **work: Any) -> Any:
        """Queue a job; return its result once its batch has committed."""
        if not self.running:
            raise StorageUnavailable("the database writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put_nowait(Job(future, **work))
        # shield: a client that disconnects must not cancel a write already queued
        return await asyncio.shield(future)

    async def _loop(self) -> None:
        while True:
            batch = [await self._jobs.get()]
            self._busy += 1
            while len(batch) < self.batch_max and not self._jobs.empty():
                batch.append(self._jobs.get_nowait())
            self.batches += 1
            self.jobs += len(batch)
            self.largest_batch = max(self.largest_batch, len(batch))
            try:
                await self._commit(batch)
            finally:
                self._busy -= 1

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Finish the queued writes (for up to `drain_seconds`), then stop the writers."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), timeout=drain_seconds)
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks = []
        while not self._jobs.empty():
            job = self._jobs.get_nowait()
            if not job.future.done():
                job.future.set_exception(StorageUnavailable("the service is shutting down"))

    async def _drained(self) -> None:
        while (not self._jobs.empty() or self._busy) and self.running:
            await asyncio.sleep(0.01)
