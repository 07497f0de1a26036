"""The hourly limit on new jobs (STUDIO_MAX_JOBS_PER_HOUR): per owner from the store, and
per quota key (a public visitor's address, whose owner id is cheap to renew) in memory."""

from __future__ import annotations

import collections
from collections.abc import Callable

from providers.base import StudioError

HOUR = 3600.0


class QuotaError(StudioError):
    """The owner has used up STUDIO_MAX_JOBS_PER_HOUR."""


class HourlyQuota:
    """`created_since(owner, since)` counts the owner's jobs created since a time (the
    store answers); submits per quota key are remembered for the last hour only."""

    def __init__(
        self, limit: int | None, clock: Callable[[], float], created_since: Callable[[str, float], int]
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._created_since = created_since
        self._recent: dict[str, collections.deque[float]] = {}

    def check(self, owner: str, quota_key: str | None) -> None:
        """Raise QuotaError when the owner (or the quota key) has no job left this hour."""
        if self.limit is None:
            return
        since = self._clock() - HOUR
        used = self._created_since(owner, since)
        for key, times in list(self._recent.items()):
            while times and times[0] < since:
                times.popleft()
            if not times:
                del self._recent[key]
        if quota_key:
            used = max(used, len(self._recent.get(quota_key, ())))
        if used >= self.limit:
            raise QuotaError(
                f"This studio allows {self.limit} videos per hour per person, and you have made {used}. "
                "Try again later."
            )

    def record(self, quota_key: str | None, when: float) -> None:
        if quota_key:
            self._recent.setdefault(quota_key, collections.deque()).append(when)
