"""Per-visitor upload caps for a public demo: uploads in flight at once, and per hour.

Keyed by the visitor's address (the same quota key as the hourly job limit), since a
browser id or an API session is free to renew. In memory only.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable


class UploadLimits:
    def __init__(self, in_flight: int, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.in_flight = in_flight
        self.per_hour = per_hour
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._recent: dict[str, collections.deque[float]] = {}

    def start(self, key: str) -> str | None:
        """Count one upload starting; or, when over a cap, the reason to refuse it."""
        now = self._clock()
        with self._lock:
            recent = self._recent.setdefault(key, collections.deque())
            while recent and now - recent[0] > 3600:
                recent.popleft()
            if self._running.get(key, 0) >= self.in_flight:
                return (
                    f"Upload refused: at most {self.in_flight} uploads at once per visitor. "
                    "Wait for the others to finish."
                )
            if len(recent) >= self.per_hour:
                return f"Upload refused: this demo allows {self.per_hour} uploads per hour per visitor. Try again later."
            recent.append(now)
            self._running[key] = self._running.get(key, 0) + 1
            return None

    def finish(self, key: str) -> None:
        with self._lock:
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)
            if not self._recent.get(key):
                self._recent.pop(key, None)
