"""Per-client counting of failed code attempts, to slow down code guessing.

Only failures count: a valid code is never throttled, so a whole course
submitting from one venue address behind NAT goes through.
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

    def record_failure(self, client: str) -> bool:
        """Count one failure; True when the client is now over its limit."""
        now = time.monotonic()
        stamps = self._recent(client, now)
        if len(stamps) >= self.limit:
            return True
        stamps.append(now)
        return False

    def retry_after(self, client: str) -> int:
        stamps = self._failures.get(client)
        if not stamps:
            return 0
        return max(1, int(stamps[0] + self.window - time.monotonic()) + 1)
