"""Waiting our turn at a provider instead of wasting a job on its rate limit.

A 429 on a submit is a definite refusal (nothing was created), so the job is sent again
after Retry-After. While one job of a provider and key waits on a 429, every other submit for
that provider and key waits behind it, in arrival order (one line per provider and key), and
they are sent one at a time until one gets through; then the line is open again. Nobody
waits longer than MAX_WAIT_SECONDS in all: then the job fails, with nothing billed.

Optional local caps per provider (STUDIO_<PROVIDER>_MAX_RUNNING, _MAX_PER_MINUTE) hold a job
before it is sent, in the same line, until a slot is free.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from providers.base import ProviderError

T = TypeVar("T")
MAX_WAIT_SECONDS = 600.0
# When a 429 carries no Retry-After: WaveSpeedAI's video cap renews each minute.
DEFAULT_RETRY_AFTER = 15.0
# While waiting, the job's note counts down in steps of this many seconds.
COUNTDOWN_STEP = 5.0
Notify = Callable[[str], None]


class GateTimeout(ProviderError):
    """Waited MAX_WAIT_SECONDS at a provider's limit; the job was never created."""


class Line:
    """One provider and key: a FIFO turn (asyncio.Lock wakes waiters in order) and the
    time before which nothing may be sent."""

    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.blocked_until = 0.0


class Slots:
    """One provider's local caps: jobs running (sent, not yet finished) and sends per minute."""

    def __init__(self, max_running: int | None, max_per_minute: int | None) -> None:
        self.max_running = max_running
        self.max_per_minute = max_per_minute
        self.running: set[str] = set()
        self.sent: collections.deque[float] = collections.deque()
        self.changed = asyncio.Event()

    def wait_reason(self, label: str, now: float) -> tuple[str, float | None] | None:
        """None when a job may be sent now; else the words and how long until a slot frees
        (None: until a running job finishes)."""
        while self.sent and self.sent[0] <= now - 60:
            self.sent.popleft()
        if self.max_running is not None and len(self.running) >= self.max_running:
            return (
                f"Waiting for a free slot at {label}: {len(self.running)} of {self.max_running} running.",
                None,
            )
        if self.max_per_minute is not None and len(self.sent) >= self.max_per_minute:
            wait = self.sent[0] + 60 - now
            return (
                f"Waiting for a free slot at {label}: {self.max_per_minute} sent in the last minute; "
                f"next in {math.ceil(wait)} s.",
                wait,
            )
        return None


class RateGates:
    """Every provider's lines and slots, for one engine (its event loop)."""

    def __init__(
        self,
        caps: Mapping[str, tuple[int | None, int | None]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self._lines: dict[tuple[str, str], Line] = {}
        self._slots = {name: Slots(*cap) for name, cap in (caps or {}).items()}
        self._clock = clock
        self._max_wait = max_wait

    def _line(self, provider: str, key: str) -> Line:
        return self._lines.setdefault((provider, key), Line())

    def is_open(self, provider: str, key: str) -> bool:
        """Whether a submit may go straight out (nobody waiting, no limit, a free slot)."""
        line = self._lines.get((provider, key))
        if line is not None and (line.turn.locked() or line.blocked_until > self._clock()):
            return False
        slots = self._slots.get(provider)
        return slots is None or slots.wait_reason("", self._clock()) is None

    def sent(self, provider: str, job_id: str) -> None:
        """A job was sent and accepted: it holds a running slot until `finished`."""
        slots = self._slots.get(provider)
        if slots is not None:
            slots.running.add(job_id)
            slots.sent.append(self._clock())

    def finished(self, job_id: str) -> None:
        for slots in self._slots.values():
            if job_id in slots.running:
                slots.running.discard(job_id)
                slots.changed.set()

    def limited(self, provider: str, key: str, retry_after: float | None) -> float:
        """A 429 arrived: close the line for Retry-After seconds. Returns the wait."""
        wait = retry_after if retry_after and retry_after > 0 else DEFAULT_RETRY_AFTER
        line = self._line(provider, key)
        line.blocked_until = max(line.blocked_until, self._clock() + wait)
        return wait

    async def send_in_turn(
        self,
        provider: str,
        label: str,
        key: str,
        attempt: Callable[[], Awaitable[T]],
        notify: Notify,
        *,
        started: float | None = None,
    ) -> T:
        """Wait for this job's turn, then send; on a 429 wait and send again. Raises
        GateTimeout after max_wait, or whatever `attempt` raises other than a 429."""
        start = self._clock() if started is None else started
        line = self._line(provider, key)
        slots = self._slots.get(provider)
        async with line.turn:
            while True:
                now = self._clock()
                wait = line.blocked_until - now
                if wait > 0:
                    if now + wait - start > self._max_wait:
                        raise _timeout(label, self._max_wait)
                    notify(f"{label} is limiting requests: sending again in {math.ceil(wait)} s.")
                    await asyncio.sleep(min(wait, COUNTDOWN_STEP))  # then say the new count
                    continue
                reason = slots.wait_reason(label, now) if slots is not None else None
                if reason is not None and slots is not None:
                    words, until = reason
                    if now - start > self._max_wait:
                        raise _timeout(label, self._max_wait)
                    notify(words)
                    slots.changed.clear()
                    remaining = self._max_wait - (now - start)
                    delay = remaining if until is None else min(until, remaining)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(slots.changed.wait(), max(delay, 0.01))
                    continue
                try:
                    return await attempt()
                except ProviderError as exc:
                    if exc.kind != "rate_limited":
                        raise
                    self.limited(provider, key, exc.retry_after)


def _timeout(label: str, max_wait: float) -> GateTimeout:
    return GateTimeout(
        "rate_limited",
        f"{label} kept limiting requests for {max_wait / 60:.0f} minutes, so the studio stopped "
        "trying; the job was never created and nothing was billed.",
    )
