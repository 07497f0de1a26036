"""Watching one job: poll the provider on the schedule in jobs/polling.py, record what it
says, hand a finished job to jobs/finishing.py, and stop at the deadline.

Retries: a poll is a single provider request (the studio builds its adapters with
providers/http.SINGLE_TRY for polls); this watcher is its only retry layer. A poll that
fails with a transient fault is a missed poll: the watcher waits the backoff of
`settings.poll_retry` (jobs/polling.POLL_RETRY, logged as one `studio.retry` line) and polls
again, and after `poll_retry.attempts` missed polls in a row it stops and fails the job with
the fault's kind, keeping the locator, so 'Check again' resumes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from jobs import job_words, oplog
from jobs.desk import Desk
from jobs.finishing import save_output
from jobs.polling import (
    Eta,
    Finish,
    expects_end,
    first_poll_delay,
    next_poll_delay,
    sighting,
    transient_backoff,
)
from jobs.records import JobRecord
from providers.base import Provider, ProviderError, ProviderStatus, Secret
from providers.http import left_after

log = logging.getLogger("studio.engine")

# After this many missed polls in a row (about 3 s at POLL_RETRY's 1 s and 2 s backoff) the
# job's note says the provider is failing: one blip says nothing.
FAILING_NOTE_AFTER = 3


def failing_note(label: str, error: ProviderError) -> str:
    """What a person reads while the provider keeps failing to answer about a job."""
    what = f"HTTP {error.status_code}" if error.status_code else error.kind.replace("_", " ")
    return job_words.say("failing", provider=label, what=what)


async def watch_job(
    desk: Desk,
    job_id: str,
    adapter: Provider | None,
    session_keys: Mapping[str, Secret],
    eta: Eta | None,
    seen_done: Callable[[Finish], None] | None = None,
) -> None:
    """Poll until the job ends (or waits for a key, or misses too many polls).
    `seen_done` is told, on success, what the polls and the provider said about when it
    ended (jobs/polling.Finish: the schedule of the model's next jobs aims at it)."""
    record = desk.record(job_id)
    locator = record.job_locator if record is not None else None
    if record is None or locator is None:
        return
    if adapter is None:
        await desk.save(job_id, note=job_words.say("not_configured", provider=record.provider))
        return
    submitted = record.submitted_at or record.created_at  # the job's clock starts when it was sent
    deadline = submitted + desk.settings.job_deadline_seconds
    polls = missed = 0
    unfinished = 0.0  # when the last poll that saw the job unfinished was sent, after submit
    retry_after: float | None = None
    retry = desk.settings.poll_retry
    first = first_poll_delay(eta) - (desk.clock() - submitted)
    if first > 0:  # a resumed job is usually past it
        await asyncio.sleep(first)
    while True:
        now = desk.clock()
        if now >= deadline:
            minutes = desk.settings.job_deadline_seconds / 60
            await desk.fail(job_id, ProviderError("timeout", job_words.say("timed_out", minutes=f"{minutes:.0f}")))
            return
        try:
            sent, called = desk.clock(), time.monotonic()
            ending = expects_end(eta, sent - submitted)
            status = await adapter.poll(locator, key=session_keys.get(job_id), ending=ending)
            held = left_after(called)  # how long a busy loop kept the request from leaving
            polls += 1
            if missed >= FAILING_NOTE_AFTER:
                await desk.save(job_id, note=None)  # the provider answers again
            missed = 0
            retry_after = status.retry_after
        except ProviderError as exc:
            if exc.retryable:
                missed += 1
                if missed >= retry.attempts:
                    await desk.fail(job_id, exc)
                    return
                if missed == FAILING_NOTE_AFTER:
                    await desk.save(job_id, note=failing_note(desk.registry.label(record.provider), exc))
                wait = transient_backoff(missed, exc.retry_after, retry)
                why = f"HTTP {exc.status_code}" if exc.status_code else exc.kind.replace("_", " ")
                oplog.retrying(f"poll of job {job_id} (missed {missed} of {retry.attempts})", why, wait)
                await asyncio.sleep(wait)
                continue
            if exc.kind == "auth" and job_id not in session_keys and not adapter.has_key():
                # Submitted with a key typed in a browser that is gone (restart): keep the
                # paid job and wait for the key instead of failing it.
                await desk.save(
                    job_id, note=job_words.say("key_wait", provider=desk.registry.label(record.provider))
                )
                return
            await desk.fail(job_id, exc)
            return
        except Exception:
            log.exception("unexpected error polling job %s", job_id)
            missed += 1
            if missed >= retry.attempts:
                await desk.fail(
                    job_id, ProviderError("server", job_words.say("unreadable_answers"))
                )
                return
            wait = transient_backoff(missed, None, retry)
            oplog.retrying(f"poll of job {job_id}", "unexpected error", wait)
            await asyncio.sleep(wait)
            continue

        current = await apply_status(desk, job_id, status)
        if status.state == "succeeded":
            seen = sighting(sent - submitted, unfinished, status, held)
            if seen_done is not None and seen is not None:
                seen_done(seen)
            await save_output(desk, job_id, status)
            return
        if current.terminal:
            return
        unfinished = sent - submitted
        since = desk.clock() - submitted
        await asyncio.sleep(next_poll_delay(status.state, polls, since, eta, retry_after))


async def apply_status(desk: Desk, job_id: str, status: ProviderStatus) -> JobRecord:
    """Record what a poll said, writing only what changed."""
    record = desk.record(job_id)
    assert record is not None
    changes: dict[str, object] = {}
    now = desk.clock()
    if status.state == "queued":
        if record.state != "queued" or record.queue_position != status.queue_position:
            changes.update(state="queued", queue_position=status.queue_position)
    elif status.state == "running":
        if record.state != "running":
            changes.update(state="running", queue_position=None, started_at=record.started_at or now)
    elif status.state == "failed":
        desk.provider_failed(job_id)
        error = status.error or ProviderError("job_failed")
        changes.update(
            state="failed",
            queue_position=None,
            error_kind=error.kind,
            error_message=error.message,
            finished_at=now,
        )
    elif status.state == "cancelled":
        changes.update(
            state="cancelled",
            queue_position=None,
            error_kind="cancelled",
            error_message=job_words.say("cancelled_at_provider"),
            finished_at=now,
        )
    if not changes:
        return record
    return await desk.save(job_id, **changes)
