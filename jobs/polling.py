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

from providers.http import RetryPolicy

MIN_DELAY = 0.25  # the shortest wait a server's Retry-After can ask for
MAX_DELAY = 5.0
DENSE_STEP = 0.2  # between polls around the expected finish
# The earliest recent finish was seen by a poll sent at most a little after it: one poll
# lands just after it (ANCHOR), one a step before (LEAD), then every DENSE_STEP.
ANCHOR = 0.05
LEAD = DENSE_STEP
DENSE_AFTER = 0.4  # and stops this long after the typical run's finish
# Status polls a job may have made by age t seconds: t + POLL_SLACK (the budget above, less
# the submit, the result and the download, with half a request to spare).
POLL_SLACK = 1.5


@dataclass(frozen=True)
class Eta:
    """What a model's latest runs say about the next one, in seconds from submit to the
    engine seeing the finish."""

    typical: float  # their lower median: what the page shows as the ETA
    earliest: float  # the quickest of them: dense polling starts just before it


def estimate_seconds(durations: Sequence[float]) -> float | None:
    """The expected run time from a model's latest runs: their lower median, so one slow
    run among few does not set it (the median of 12 s and 190 s is 101 s; this says 12 s).
    None without history."""
    return statistics.median_low(durations) if durations else None


def estimate(durations: Sequence[float], marks: Sequence[float] = ()) -> Eta | None:
    """The poll schedule's view of a model's latest runs (None without history).

    `durations` end when the engine saw each finish (the store's); `marks` when the poll
    that saw it was sent (kept by the engine for the runs it watched), which leaves out how
    long busy loops took to answer. The earliest matters because the durations run late
    when many jobs ran at once, and a schedule aimed at their median alone would aim later
    each time (seen: 2 s late for 4 s jobs after a crowd of 128)."""
    typical = estimate_seconds(durations)
    if typical is None:
        return None
    return Eta(typical, min((*durations, *marks)))


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
    anchor = min(eta.earliest, eta.typical) + ANCHOR
    start = anchor - LEAD
    if since_submit < start - 1e-6:
        # Far from the window: halve the distance (few requests); near it: land on it.
        gap = start - since_submit
        want = gap if gap <= 3.0 else min(MAX_DELAY, max(1.0, gap / 2))
    elif since_submit < eta.typical + DENSE_AFTER:
        steps = math.floor((since_submit - anchor) / DENSE_STEP + 1e-6) + 1
        want = max(0.05, anchor + steps * DENSE_STEP - since_submit)
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
    """Per model, how long after submit the polls that saw its latest runs finish were sent
    (the `marks` of `estimate`). In memory only: after a restart the store's durations serve."""

    def __init__(self, size: int) -> None:
        self._marks: dict[str, collections.deque[float]] = {}
        self._size = size

    def _of(self, model: str) -> collections.deque[float]:
        return self._marks.setdefault(model, collections.deque(maxlen=self._size))

    def estimate(self, model: str, durations: Sequence[float]) -> Eta | None:
        return estimate(durations, self._of(model))

    def recorder(self, model: str) -> Callable[[float], None]:
        """What a watcher of a job of `model` calls with the mark of its finish."""
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
