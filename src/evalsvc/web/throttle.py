"""Per-client counting of failed code attempts, to slow down code guessing.

Only failures count, so a whole course submitting valid codes from one venue
address behind NAT goes through. Once an address has failed `limit` times in a
minute, its next code attempts get 429 before any lookup: a guesser must not
learn which codes exist, so while over the limit even a valid code waits (at most
a minute). The default limit of 30 wrong codes a minute is far above what
participants mistyping at one venue produce.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque


class FailureThrottle:
    def __init__(self, limit: int, window_seconds: float = 60.0, max_clients: int = 10_000):
        self.limit = limit
        self.window = window_seconds
        self.max_clients = max_clients
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
        return len(self._recent(client, time.monotonic())) >= self.limit

    def record_failure(self, client: str) -> None:
        now = time.monotonic()
        self._recent(client, now).append(now)

    def retry_after(self, client: str) -> int:
        stamps = self._failures.get(client)
        if not stamps:
            return 0
        return max(1, int(stamps[0] + self.window - time.monotonic()) + 1)
