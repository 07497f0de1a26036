"""A provider's own times, read defensively: timestamps and durations as its replies state them.

Only durations on the provider's clock are ever derived (its `finished_at` - its
`created_at`): our clock and the provider's are different machines' clocks, so a difference
across the two would carry their skew. Absent, malformed or impossible values are None,
never an exception: these figures aim the poll schedule, they never decide a job's fate.
"""

from __future__ import annotations

from datetime import datetime, timezone

# A stated run longer than this is not a video run but a broken value.
LONGEST_RUN = 7 * 24 * 3600.0


def timestamp(value: object) -> float | None:
    """An ISO 8601 time ("2025-05-19T06:09:15.948Z", with or without zone or fraction) as
    POSIX seconds; a time without a zone is taken as UTC. None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def span(start: object, end: object) -> float | None:
    """Seconds from `start` to `end`, two timestamps of one reply (the same clock); None
    when either is unreadable or the span is negative or absurdly long."""
    begin, finish = timestamp(start), timestamp(end)
    if begin is None or finish is None:
        return None
    seconds = finish - begin
    return seconds if 0.0 <= seconds <= LONGEST_RUN else None


def milliseconds(value: object) -> float | None:
    """A stated duration in milliseconds (WaveSpeed's `timings.inference`, `executionTime`)
    as seconds; None when it is not a sane number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value) / 1000
    return seconds if 0.0 <= seconds <= LONGEST_RUN else None
