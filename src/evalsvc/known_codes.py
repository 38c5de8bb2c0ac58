"""Issued codes held in memory, so that a participant's code is found without a
database round trip (on SQLite two thread hand-offs, about as much CPU as the rest
of checking a submission).

Codes are only ever added, never changed or removed (a stored code keeps its bound
agency), so a code once found stays valid: a positive answer may come from memory.
A negative answer always comes from the database: a code issued after this process
loaded its copy (by the CLI, another instance, a sync push) is then found there, and
kept. The throttle in front of `Intake.identify` counts every failure as before.
"""

from __future__ import annotations

from evalsvc.storage import Storage


class KnownCodes:
    def __init__(self, db: Storage) -> None:
        self.db = db
        self._agency: dict[tuple[str, bytes], str | None] = {}
        """(course, code hash) -> the code's bound agency (None: unbound), of codes found."""

    async def preload(self) -> None:
        """Every code issued so far (at start-up; later ones are found on demand)."""
        for code in await self.db.codes_to_share():
            self._agency[(code.course, code.code_hash)] = code.agency

    async def lookup(self, course: str, code_hash: bytes) -> tuple[bool, str | None]:
        """(known, bound agency): from memory for a code found before, else the database."""
        key = (course, code_hash)
        if key in self._agency:
            return True, self._agency[key]
        known, agency = await self.db.code_lookup(course, code_hash)
        if known:
            self._agency[key] = agency
        return known, agency
