"""Per-client counting of failed code attempts, to slow down code guessing.

Only failures count, so a whole course submitting valid codes from one venue
address behind NAT goes through. The answer to a code attempt is decided after
its lookup, against the failures counted at that moment, and a failure is
counted in the same step (no await in between, so concurrent requests of one
event loop cannot all slip under the limit):

- a wrong code is 403 while the address has fewer than `limit` failures in the
  window, and 429 once it would go past it. So a burst, however concurrent, gets
  at most `limit` definitive 403 answers per window; the rest are 429.
- a valid code from an address at its limit also gets 429, so a 429 tells a
  guesser nothing about the code (a participant waits at most a minute).

The default limit of 30 wrong codes a minute is far above what participants
mistyping at one venue produce.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureThrottle:
    def __init__(
        self,
        limit: int,
        window_seconds: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit = limit
        self.window = window_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float]:
        stamps = self._failures.get(client)
        if stamps is None:
            stamps = self._failures[client] = deque()
            if len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)  # forget the longest-unseen client
        self._failures.move_to_end(client)
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def over_limit(self, client: str) -> bool:
        """Has the client used up its failures? (Its valid codes then wait, too.)"""
        return len(self._recent(client, self.clock())) >= self.limit

    def admit_failure(self, client: str) -> bool:
        """Count a failure if the client has one left (True: answer 403); else False
        (answer 429, nothing counted: the window is not stretched by the refusals)."""
        now = self.clock()
        stamps = self._recent(client, now)
        if len(stamps) >= self.limit:
            return False
        stamps.append(now)
        return True

    def retry_after(self, client: str) -> int:
        stamps = self._failures.get(client)
        if not stamps:
            return 0
        return max(1, int(stamps[0] + self.window - self.clock()) + 1)
