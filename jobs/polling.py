"""When to poll next: quick at first, slower while queued, dense near the expected finish.

The schedule keeps two promises at once: the user sees a finished video within a fraction
of a second of the provider finishing, and a job costs about one provider request per
second of its run (the benchmark checks requests per job <= job seconds + 5).
"""

from __future__ import annotations

MIN_DELAY = 0.25
MAX_DELAY = 5.0


def next_poll_delay(
    state: str,
    polls: int,
    since_submit: float,
    eta: float | None,
    retry_after: float | None = None,
) -> float:
    """Seconds until the next poll.

    `polls` counts polls so far, `since_submit` is the job's age, `eta` the median run
    time of this model (None when there is no history yet), `retry_after` a server's
    explicit request, which always wins.
    """
    if retry_after is not None:
        return max(retry_after, MIN_DELAY)
    if state == "queued":
        # Quick at first (a short queue clears fast), then back off to the cap.
        return min(MAX_DELAY, 0.5 + 0.5 * polls)
    if eta is not None:
        remaining = eta - since_submit
        if remaining > 2.0:
            # Halve the distance to the expected finish: few requests far from it.
            return min(MAX_DELAY, max(0.5, remaining / 2))
        if remaining > 1.0:
            # Half-second steps until a second before the expected finish: a job that ends a
            # little early is still seen within half a second, and the ETA (measured to when
            # the engine saw the finish) runs a little long, so 0.25 s steps from two seconds
            # out cost four requests a job for nothing (bench/overhead.py counts them).
            return 0.5
        if remaining > 0.0:
            return MIN_DELAY
        # Overdue: the model is slower than usual today. Back off with the overdue time, so
        # a late job costs a few requests, not a burst of quarter-second polls.
        return min(MAX_DELAY, 0.5 + (-remaining) / 2)
    if since_submit < 60:
        return 1.0
    if since_submit < 300:
        return 2.0
    return MAX_DELAY


def transient_backoff(failures: int, retry_after: float | None = None) -> float:
    """Wait after a poll failed with a transient error (rate limit, 5xx, network)."""
    if retry_after is not None:
        return min(max(retry_after, MIN_DELAY), 120.0)
    return min(30.0, 1.0 * 2 ** min(failures - 1, 5))
