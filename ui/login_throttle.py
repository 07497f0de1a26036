"""Password guessing, slowed down: a growing lockout per user name and per address.

The first few wrong passwords cost nothing; after FREE_FAILURES for one user name, or from
one address, every attempt for that name (or from that address) is refused, even with the
right password, for a lockout that doubles with each further wrong password (from
FIRST_LOCK_SECONDS up to MAX_LOCK_SECONDS). Attempts refused while locked do not count:
only a password actually checked and wrong grows the lock. A right password clears the
name's and the address's record. State is in memory: a restart forgets it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
FIRST_LOCK_SECONDS = 2.0
MAX_LOCK_SECONDS = 15 * 60.0
FORGET_SECONDS = 24 * 3600.0  # a record untouched this long is dropped


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    seen: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        free_failures: int = FREE_FAILURES,
        first_lock: float = FIRST_LOCK_SECONDS,
        max_lock: float = MAX_LOCK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.first_lock = first_lock
        self.max_lock = max_lock
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    @staticmethod
    def _keys(user: str, address: str | None) -> list[str]:
        return [f"user:{user}"] + ([f"address:{address}"] if address else [])

    def wait_seconds(self, user: str, address: str | None) -> float:
        """Seconds until this user name from this address may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                self._records[k].locked_until - now for k in self._keys(user, address) if k in self._records
            ]
        return max([0.0, *waits])

    def failed(self, user: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            for key in self._keys(user, address):
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                record.seen = now
                extra = record.failures - self.free_failures
                if extra >= 0:
                    record.locked_until = now + min(self.max_lock, self.first_lock * 2**extra)

    def succeeded(self, user: str, address: str | None) -> None:
        with self._lock:
            for key in self._keys(user, address):
                self._records.pop(key, None)

    def _forget_old(self, now: float) -> None:
        if len(self._records) < 10_000:
            return
        for key in [k for k, r in self._records.items() if now - r.seen > FORGET_SECONDS]:
            del self._records[key]
