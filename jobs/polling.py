"""When to poll next: sparse far from the expected finish, dense just around it, and never
more requests than the job's budget.

The schedule keeps two promises at once: the engine sees a finished job within a fraction
of a second of the provider finishing, and a job costs about one provider request per
second of its run (bench/overhead.py checks requests per job <= job seconds + 5; a job's
submit, result and download take three of the five).
"""

from __future__ import annotations

import collections
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from providers.base import ProviderStatus
from providers.http import RetryPolicy

MIN_DELAY = 0.25  # the shortest wait a server's Retry-After can ask for
MAX_DELAY = 5.0
# Around the expected finish: one poll just after it (ANCHOR after the quickest recent end:
# the submit's own way to the provider, which started the job's clock), then LADDER after
# that (a submit that took long to arrive: seen 160 ms at 16 users at once), then every
# DENSE_STEP until DENSE_AFTER past the typical run.
ANCHOR = 0.05
LADDER = (0.05, 0.15)
DENSE_STEP = 0.2
DENSE_AFTER = 0.4
LEAD = DENSE_STEP  # the first poll of a job with history: this long before its quickest end
LAND = 3.5  # nearer than this to the expected finish, the next poll lands on it
# Status polls a job may have made by age t seconds: t + POLL_SLACK (the budget above, less
# the submit, the result and the download, with half a request to spare).
POLL_SLACK = 1.5
# A provider's stated duration may exceed the sent time of the poll that saw the end by the
# time that poll took to reach it; past this it is a broken or foreign value and ignored.
STATED_LATE = 0.5
NARROW = 0.5  # polls this close around an end place it at their midpoint


@dataclass(frozen=True)
class Finish:
    """What one finished run's polls and provider said about when it ended, in seconds
    after its submit was sent: the last poll that still saw it unfinished was sent at `before`
    (0: none), the one that saw it ended at `seen`. The provider's own durations, on its
    clock: `stated` from its creation of the job to its end (the job's age at its end, less
    the submit's way there), `least` a part of the run only (a model's inference, without the
    queue): it ended no sooner. None: not stated."""

    seen: float
    before: float = 0.0
    stated: float | None = None
    least: float | None = None

    def at(self) -> float:
        """When a run like it most likely ends: the provider's `stated` duration (exact, on
        its clock) unless it is broken (more than the polls allow: a foreign or garbled
        value); else the polls alone, narrowed by `least`: the midpoint of two close ones,
        else the sighting. A stated duration shorter than a poll that still saw the job
        unfinished is not broken: that job's submit reached the provider late (seen: 2.4 s
        at 128 users at once), which the next job's need not."""
        if self.exact:
            assert self.stated is not None
            return min(self.stated, self.seen)
        low = self._low()
        if 0.0 < self.seen - low <= NARROW:
            return (low + self.seen) / 2
        return self.seen

    def _low(self) -> float:
        if self.least is not None and self.least <= self.seen + STATED_LATE:
            return max(self.before, min(self.least, self.seen))
        return self.before

    @property
    def exact(self) -> bool:
        """Whether the provider's stated duration places the end (else the polls do)."""
        return self.stated is not None and 0.0 <= self.stated <= self.seen + STATED_LATE


@dataclass(frozen=True)
class Eta:
    """What a model's latest runs say about the next one, in seconds from submit."""

    typical: float  # their lower median as the engine saw them end: the ETA the page shows
    earliest: float  # the quickest of their ends: the first dense poll lands just after it
    # Whether the provider stated that quickest end (RunComfy's durations): the first dense
    # poll then aims just after it. Placed by polls alone, the end is known only within a
    # poll step, and one poll LEAD before it keeps the estimate from creeping later (a
    # schedule that polls only after its estimate never learns that runs end sooner).
    stated: bool = False


# A poll whose request left longer than this after it was called (its turn for a connection
# and each step of writing it wait on the engine's loop: up to 0.4 s with 128 jobs at once)
# asked the provider later than it was timed. Its sighting would put the run's end that much
# too early, and the next jobs' dense polls would all come before their end and spend the
# request budget waiting (0.5 s late at p90 after a crowd: bench/crowd.FINDINGS).
HELD_SIGHTING = 0.1


def sighting(seen: float, before: float, status: ProviderStatus, held: float) -> Finish | None:
    """What the poll that saw a run end, sent `seen` seconds after the submit (the last
    that saw it unfinished at `before`), says of its end. Its request left `held` seconds
    after it was sent; past HELD_SIGHTING (a busy loop, or a new connection's handshake, or a
    poll of two requests) its time is not when it asked: a provider's stated duration still
    places the end (the sighting then counts from when the request left), the polls alone
    do not (None)."""
    if held <= HELD_SIGHTING:
        return Finish(seen, before, status.run_seconds, status.inference_seconds)
    if status.run_seconds is not None:
        return Finish(seen + held, before, status.run_seconds, status.inference_seconds)
    return None


def estimate_seconds(durations: Sequence[float]) -> float | None:
    """The expected run time from a model's latest runs: their lower median, so one slow
    run among few does not set it (the median of 12 s and 190 s is 101 s; this says 12 s).
    None without history."""
    return statistics.median_low(durations) if durations else None


def estimate(durations: Sequence[float], marks: Sequence[Finish | float] = ()) -> Eta | None:
    """The poll schedule's view of a model's latest runs (None without history).

    `durations` end when the engine saw each finish (the store's, so they survive a
    restart); `marks` what the polls and the provider said about the runs the engine watched
    (a float: a sighting alone), which leaves out how long busy loops took to answer and, with
    the provider's durations, how far the sighting poll came after the end. The earliest
    matters because the durations run late when many jobs ran at once, and a schedule aimed at
    their median alone would aim later each time (seen: 2 s late for 4 s jobs after a crowd of
    128)."""
    typical = estimate_seconds(durations)
    if typical is None:
        return None
    ends = [(m.at(), m.exact) if isinstance(m, Finish) else (m, False) for m in marks]
    earliest, stated = min([(d, False) for d in durations] + ends)
    return Eta(typical, earliest, stated)


def _anchor(eta: Eta) -> float:
    return min(eta.earliest, eta.typical) + ANCHOR


def _dense_start(eta: Eta) -> float:
    return _anchor(eta) if eta.stated else _anchor(eta) - LEAD


def expects_end(eta: Eta | None, since_submit: float) -> bool:
    """Whether the schedule expects a job of this age may have ended (its dense polls have
    begun): the poll may ask where an end is read (Provider.poll's `ending`)."""
    return eta is not None and since_submit >= _dense_start(eta) - 0.01


def next_poll_delay(
    state: str,
    polls: int,
    since_submit: float,
    eta: Eta | float | None,
    retry_after: float | None = None,
) -> float:
    """Seconds until the next poll.

    `polls` counts status polls so far, `since_submit` is the job's age, `eta` what the
    model's latest runs say (a float: typical and earliest alike; None: no history yet),
    `retry_after` a server's explicit request, which always wins.
    """
    if retry_after is not None:
        return max(retry_after, MIN_DELAY)
    if eta is None:
        if state == "queued":
            # Quick at first (a short queue clears fast), then back off to the cap.
            return min(MAX_DELAY, 0.5 + 0.5 * polls)
        if since_submit < 60:
            return 1.0
        return 2.0 if since_submit < 300 else MAX_DELAY
    if not isinstance(eta, Eta):
        eta = Eta(eta, eta)
    # The dense polls keep to a grid anchored just after the earliest finish, so a slow
    # answer delays one poll, not every one after it.
    anchor = _anchor(eta)
    start = _dense_start(eta)
    if since_submit < start - 1e-6:
        # Far from the finish: halve the distance (few requests); near it: land on it.
        gap = start - since_submit
        want = gap if gap <= LAND else min(MAX_DELAY, max(1.0, gap / 2))
    elif since_submit < eta.typical + DENSE_AFTER:
        steps = [anchor + step for step in (0.0, *LADDER)]
        grid = next((t for t in steps if since_submit < t - 1e-6), None)
        if grid is None:
            last = steps[-1]
            grid = last + (math.floor((since_submit - last) / DENSE_STEP + 1e-6) + 1) * DENSE_STEP
        want = max(0.03, grid - since_submit)
    else:
        # Overdue: the model is slower than usual today. Back off with the overdue time, so
        # a late job costs a few requests, not a burst of quick polls.
        want = min(MAX_DELAY, 0.5 + (since_submit - eta.typical - DENSE_AFTER) / 2)
    # The request budget: the next poll (number polls + 1) waits until the job is old enough.
    return max(want, polls + 1 - POLL_SLACK - since_submit)


# The one retry layer of a poll (each poll is a single request, providers/http.SINGLE_TRY):
# after a transient fault (429, 5xx, network, an unreadable reply) the watcher waits 1, 2,
# 4 … 30 s (jittered; a Retry-After wins, up to 120 s) and polls again, and after this many
# missed polls in a row, about a quarter of an hour of a provider not answering, it fails
# the job with the fault's kind, keeping the locator so 'Check again' resumes it.
POLL_RETRY = RetryPolicy(attempts=40, base=1.0, cap=30.0)


class FinishMarks:
    """Per model, what the polls and the provider said about its latest runs' ends (the
    `marks` of `estimate`). In memory only: after a restart the store's durations serve."""

    def __init__(self, size: int) -> None:
        self._marks: dict[str, collections.deque[Finish]] = {}
        self._size = size

    def _of(self, model: str) -> collections.deque[Finish]:
        return self._marks.setdefault(model, collections.deque(maxlen=self._size))

    def estimate(self, model: str, durations: Sequence[float]) -> Eta | None:
        return estimate(durations, self._of(model))

    def recorder(self, model: str) -> Callable[[Finish], None]:
        """What a watcher of a job of `model` calls with what it saw of the job's end."""
        return self._of(model).append


def first_poll_delay(eta: Eta | None) -> float:
    """Seconds from submit to the first poll: at once without history (a job may end or
    move up the queue at any moment), else after a second, when a job that queues has
    often started: the poll at 0 s says only 'queued', which the submit already said, and
    costs a request the dense polls near the finish can use."""
    return 0.0 if eta is None else min(1.0, max(0.0, eta.earliest - LEAD))


def transient_backoff(
    failures: int, retry_after: float | None = None, policy: RetryPolicy = POLL_RETRY
) -> float:
    """Wait after the `failures`-th missed poll in a row (a Retry-After always wins)."""
    if retry_after is not None:
        return policy.delay(failures, max(retry_after, MIN_DELAY))
    return policy.delay(failures)
