"""The job engine: submit -> watch -> download -> finish, durable across restarts.

One Engine per process, living on one asyncio loop. Every job has a row in the store
before the provider hears of it, and a watcher task while it is active. Watchers belong
to the engine, not to a browser tab: closing a tab loses nothing, and `start()` resumes
every unfinished job from the store after a restart. A submit is never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import jobs.history as history_ops
import jobs.media as media
from jobs import rules
from jobs import spend as spend_report
from jobs.db_journal import choose_journal
from jobs.ledger import Ledger
from jobs.limits import Budget, Limits, QuotaError
from jobs.polling import next_poll_delay, transient_backoff
from jobs.pricing import Pricer, key_id
from jobs.rate_gate import RateGates
from jobs.records import TERMINAL_STATES, GenerationRequest, HistoryPage, HistoryQuery, JobRecord
from jobs.settings import Settings
from jobs.store import JobStore
from providers import catalog
from providers.base import (
    JobLocator,
    Provider,
    ProviderError,
    ProviderStatus,
    Secret,
    SubmitRequest,
    ValidationError,
)
from providers.money import KeyCheck, Price
from providers.scrub import Scrubber

__all__ = ["Engine", "QuotaError", "until_terminal"]

log = logging.getLogger("studio.engine")

# After this many failed polls in a row the job's note says the provider is failing. Each
# poll already retried its request about 7 s (providers.http.RetryPolicy): one is enough.
FAILING_NOTE_AFTER = 1
# The ETA: the lower median of the model's latest runs, so one slow run among few does not
# set the estimate (the median of 12 s and 190 s is 101 s; the lower median is 12 s).
ETA_SAMPLES = 20


def cannot_cancel_note(label: str, cancel: str, offline: bool) -> str:
    """Why a job runs on after Cancel, from its provider's cancel rule (registry `cancel`)
    and whether it bills (an offline provider does not)."""
    ends = (
        "it will run to the end (free: the simulator bills nothing)"
        if offline
        else "it will run to the end and be billed"
    )
    if cancel == "none":
        why = f"{label} has no way to cancel a job once it is sent (no cancel was sent)"
    elif cancel == "queued":
        why = f"{label} cancels only jobs still waiting in its queue, and this one has started"
    else:
        why = f"{label} says this job can no longer be cancelled"
    return f"Not cancelled: {why}; {ends}. It will still be saved to your history."


EXPORT_TTL_SECONDS = 3600
# How often a finished download is retried after transient failures before giving up.
DOWNLOAD_ROUNDS = 4

Listener = Callable[[JobRecord], None]


def failing_note(label: str, error: ProviderError) -> str:
    """What a person reads while the provider keeps failing to answer about a job."""
    what = f"HTTP {error.status_code}" if error.status_code else error.kind.replace("_", " ")
    return (
        f"{label} is failing to answer ({what}); the studio keeps asking. The job is not lost "
        "and will not be sent again."
    )


async def until_terminal(queue: asyncio.Queue[JobRecord]) -> AsyncIterator[JobRecord]:
    """The records put on `queue`, one by one, ending after the first terminal one."""
    while True:
        record = await queue.get()
        yield record
        if record.terminal:
            return


class Engine:
    """Owns every job's lifecycle. All public methods are owner-scoped: a job of another
    owner is reported as not found. Methods must be called on the engine's loop."""

    def __init__(
        self,
        settings: Settings,
        providers: Mapping[str, Provider],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = settings.registry
        self._providers = dict(providers)
        self._clock = clock
        journal = choose_journal(settings.data_dir, settings.db_journal)
        log.info("database journal: %s (%s)", journal.journal.upper(), journal.reason)
        self._store = JobStore(settings.db_path, journal.journal)
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._listeners: dict[str, set[Listener]] = {}
        # Keys typed in a browser session, kept only in memory and only while the job runs.
        self._session_keys: dict[str, Secret] = {}
        # Money: the spend ledger and the limits reserved in it, prices, rate-limit lines.
        self._ledger = Ledger(settings.ledger_path, journal.journal)
        self._limits = Limits(settings, self._ledger, clock)
        self._pricer = Pricer(self.registry, self._providers)
        self._gates = RateGates(settings.provider_caps)
        self._sending: dict[str, asyncio.Task[None]] = {}  # jobs waiting their turn to be sent
        self._started = False
        # Every configured and session key, masked in every form from whatever is stored.
        self.scrubber = Scrubber(settings.keys.values())

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store and resume every unfinished job that has a request id."""
        for folder in (*self.settings.media_dirs, self.settings.data_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._store.open()
        self._ledger.open()
        self._started = True
        for record in self._store.unfinished():
            if record.state == "submitting" or not record.request_id:
                # The process died between writing the row and hearing back from the
                # provider: the job may exist (and be billed). Never resubmit.
                self._save(
                    record.id,
                    state="failed",
                    error_kind="submit_unknown",
                    error_message=ProviderError(
                        "submit_unknown", "The studio stopped while this job was being sent."
                    ).message,
                    finished_at=self._clock(),
                )
                continue
            self._watch(record.id)
        log.info("engine started; resumed %d job(s)", len(self._watchers))

    async def close(self) -> None:
        """Stop watchers (their jobs stay resumable) and release connections."""
        watchers = [*self._watchers.values(), *self._sending.values()]
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        self._watchers.clear()
        for provider in self._providers.values():
            await provider.aclose()
        if self._started:
            self._store.close()
            self._ledger.close()
            self._started = False

    # --- queries -----------------------------------------------------------------------

    def provider_ready(self, provider: str, keys: Mapping[str, Secret] | None = None) -> str | None:
        """None when `provider` can take a job, else the reason in words."""
        adapter = self._providers.get(provider)
        if adapter is None:
            return f"{self.registry.label(provider)} is not configured."
        if adapter.has_key() or (keys and keys.get(provider)):
            return None
        info = self.registry.get(provider)
        env = info.key_env[0] if info and info.key_env else "an API key"
        return f"Needs {env} in the environment or a key in the API keys tab."

    def get(self, owner: str, job_id: str) -> JobRecord | None:
        return self._store.get(job_id, owner=owner)

    def active_jobs(self, owner: str) -> list[JobRecord]:
        return self._store.active(owner)

    def history(self, owner: str, query: HistoryQuery | None = None) -> HistoryPage:
        return self._store.list(owner, query or HistoryQuery())

    def eta_seconds(self, model: str) -> float | None:
        durations = self._store.run_durations(model, ETA_SAMPLES)
        return statistics.median_low(durations) if durations else None

    # --- submit ------------------------------------------------------------------------

    async def submit(
        self,
        owner: str,
        request: GenerationRequest,
        keys: Mapping[str, Secret] | None = None,
        *,
        quota_key: str | None = None,
    ) -> JobRecord:
        """Validate, prepare the image, write the row, submit to the provider, start watching.

        `quota_key` names who pays the hourly limit besides the owner, for visitors whose
        owner id is cheap to renew (a public demo's browser or API session): e.g. their
        address. It is kept in memory only.

        Raises ValidationError (with .field) before anything is sent, QuotaError, or
        ProviderError when the provider definitely refused (then no row is left behind).
        Returns the record in state 'queued', or 'failed' with error_kind 'submit_unknown'.
        """
        checked = rules.check_request(self.registry, request)
        spec, prompt, options = checked.spec, checked.prompt, dict(checked.options)
        image = await self._prepare_image(spec, request)

        adapter = self._providers.get(spec.provider)
        session_key = (keys or {}).get(spec.provider) or None
        for key in (keys or {}).values():
            self.scrubber.add(key)
        reason = self.provider_ready(spec.provider, keys)
        if adapter is None or reason:
            raise ProviderError("auth", f"{spec.provider_label}: {reason}", field="model")
        price = await self._pricer.price(spec, options, session_key)

        if options.get("seed") == catalog.RANDOM_SEED:
            # Pick the random seed here so the job records the seed actually used.
            options["seed"] = random.SystemRandom().randint(0, catalog.SEED_MAX)
        now = self._clock()
        job_id = secrets.token_urlsafe(12)
        try:  # checks every limit and reserves this job's price in one transaction
            self._limits.reserve(
                job_id=job_id, owner=owner, quota_key=quota_key, provider=spec.provider, model=spec.id, price=price
            )
        except QuotaError:
            if image:
                image.unlink(missing_ok=True)
            raise
        record = JobRecord(
            id=job_id,
            owner=owner,
            kind=spec.kind,
            model=spec.id,
            provider=spec.provider,
            prompt=prompt,
            options=dict(options),
            input_image=str(image) if image else None,
            seed=int(options["seed"]) if "seed" in options else None,
            created_at=now,
            simulated=self.registry.info(spec.provider).offline,
        )
        try:  # both fsyncs off the event loop, side by side: row and reservation durable first
            await asyncio.gather(
                asyncio.to_thread(self._store.insert, record), asyncio.to_thread(self._ledger.flush)
            )
        except BaseException:
            self._ledger.release(record.id)
            raise
        submit_request = SubmitRequest(spec=spec, prompt=prompt, options=options, image=image)
        line = key_id(session_key)
        if self._gates.is_open(spec.provider, line):
            try:
                locator = JobLocator.of(await adapter.submit(submit_request, key=session_key))
            except ProviderError as exc:
                if exc.kind != "rate_limited":
                    return self._submit_failed(record, exc, image, refuse=True)
                self._gates.limited(spec.provider, line, exc.retry_after)
            except Exception as exc:
                return self._submit_crashed(record, exc)
            else:
                return self._accepted(record.id, locator, session_key)
        # Wait in this provider's line in the background, so the page shows the wait.
        started = time.monotonic()
        self._save(record.id, note=f"Waiting to send to {self.registry.label(spec.provider)}…")
        task = asyncio.get_running_loop().create_task(
            self._send_in_turn(record, adapter, submit_request, session_key, started), name=f"send-{record.id}"
        )
        self._sending[record.id] = task
        task.add_done_callback(functools.partial(self._sent_or_dropped, record.id))
        await asyncio.sleep(0)  # let it post its first "sending again in N s"
        return self._store.get(record.id) or record

    async def _send_in_turn(
        self,
        record: JobRecord,
        adapter: Provider,
        request: SubmitRequest,
        session_key: Secret | None,
        started: float,
    ) -> None:
        """Send a job whose provider is limiting requests, in its turn (jobs.rate_gate)."""
        try:
            locator = await self._gates.send_in_turn(
                adapter.name,
                self.registry.label(request.spec.provider),
                key_id(session_key),
                functools.partial(self._submit_once, adapter, request, session_key),
                functools.partial(self._note, record.id),
                started=started,
            )
        except ProviderError as exc:  # (a cancel or shutdown raises CancelledError: row kept)
            self._submit_failed(record, exc, request.image, refuse=False)
            return
        except Exception as exc:
            self._submit_crashed(record, exc)
            return
        self._accepted(record.id, locator, session_key)

    @staticmethod
    async def _submit_once(adapter: Provider, request: SubmitRequest, key: Secret | None) -> JobLocator:
        return JobLocator.of(await adapter.submit(request, key=key))

    def _sent_or_dropped(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._sending.get(job_id) is task:
            del self._sending[job_id]

    def _note(self, job_id: str, words: str) -> None:
        self._save(job_id, note=words)

    def _accepted(self, job_id: str, locator: JobLocator, session_key: Secret | None) -> JobRecord:
        self._ledger.charge(job_id, self._clock())
        record = self._store.get(job_id)
        if record is not None:
            self._gates.sent(record.provider, job_id)
        if session_key:
            self._session_keys[job_id] = session_key
        record = self._save(
            job_id,
            request_id=locator.request_id,
            locator=dict(locator.fields),
            state="queued",
            submitted_at=self._clock(),
            note=None,
        )
        self._watch(job_id)
        return record

    def _submit_failed(self, record: JobRecord, exc: ProviderError, image: Path | None, *, refuse: bool) -> JobRecord:
        """An ambiguous outcome keeps the row and the reservation; a definite refusal frees
        both (raised when the caller is waiting, else the row shows the failure)."""
        now = self._clock()
        if exc.kind == "submit_unknown":
            self._ledger.keep_unknown(record.id, now, exc.message)
            return self._save(
                record.id, state="failed", error_kind=exc.kind, error_message=exc.message, finished_at=now, note=None
            )
        self._ledger.release(record.id)
        if image:
            image.unlink(missing_ok=True)
        if refuse:
            self._store.delete(record.id, record.owner)
            exc.message = self.scrubber.scrub(exc.message)
            exc.args = (exc.message,)
            raise exc
        return self._save(
            record.id, state="failed", error_kind=exc.kind, error_message=exc.message, finished_at=now, note=None
        )

    def _submit_crashed(self, record: JobRecord, exc: Exception) -> JobRecord:
        """An adapter bug after the POST may have billed: keep the row and the reservation."""
        log.error("unexpected error while submitting job %s: %s", record.id, type(exc).__name__, exc_info=exc)
        message = ProviderError("submit_unknown", type(exc).__name__).message
        self._ledger.keep_unknown(record.id, self._clock(), message)
        return self._save(
            record.id, state="failed", error_kind="submit_unknown", error_message=message, finished_at=self._clock()
        )

    async def _prepare_image(self, spec: catalog.ModelSpec, request: GenerationRequest) -> Path | None:
        """The input image checked and, if asked, fitted into inputs/ (rules.check_request
        has already refused a missing or unwanted one)."""
        if spec.kind == "t2v" or not request.image:
            return None
        source = Path(request.image)
        if not source.is_file():
            raise ValidationError("image", "Image: the uploaded file is missing; upload it again.")
        fitted = await asyncio.to_thread(
            media.prepare_input,
            source,
            spec.image_rules or catalog.IMAGE_RULES,
            self.settings.inputs_dir,
            fit=request.fit_image,
        )
        return fitted.path

    # --- money -----------------------------------------------------------------------

    async def price(
        self, model: str, options: Mapping[str, object], keys: Mapping[str, Secret] | None = None
    ) -> Price:
        """The price of exactly this run (quote, catalog or estimate). Raises ValidationError."""
        spec = self.registry.model(model)
        valid = catalog.validate_options(spec, options)
        return await self._pricer.price(spec, valid, (keys or {}).get(spec.provider) or None)

    def budget(self, owner: str, quota_key: str | None = None) -> Budget:
        return self._limits.budget(owner, quota_key)

    def spend(self, owner: str | None) -> dict[str, object]:
        """The spend figures of `owner` (None: everyone) from the ledger."""
        return spend_report.summarize(self._ledger.entries(owner), self._clock())

    async def check_keys(self, keys: Mapping[str, Secret] | None = None) -> list[KeyCheck]:
        """Ask each hosted provider, with a request that bills nothing, whether its key
        (typed in `keys`, else the server's) works. Providers without a key are left out."""
        checks = []
        for info in self.registry.hosted():
            adapter = self._providers.get(info.name)
            check = getattr(adapter, "check_key", None) if info.key_check else None
            key = (keys or {}).get(info.name) or None
            if adapter is None or check is None or not (key or adapter.has_key()):
                continue
            checks.append(check(key))
        return list(await asyncio.gather(*checks))

    # --- cancel / recheck --------------------------------------------------------------

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        """Cancel at the provider. When it can no longer be cancelled, the record's `note`
        says it will run to the end and be billed; it still lands in history."""
        record = self._require(owner, job_id)
        if record.terminal:
            return record
        sending = self._sending.pop(job_id, None)
        if sending is not None and record.state == "submitting":
            sending.cancel()  # still waiting its turn: it was never sent, so nothing is billed
            self._ledger.release(job_id)
            return self._save(
                job_id,
                state="cancelled",
                error_kind="cancelled",
                error_message="Cancelled while waiting to be sent; nothing was sent or billed.",
                finished_at=self._clock(),
                note=None,
            )
        locator = record.job_locator
        if record.state == "submitting" or locator is None:
            return self._save(record.id, note="This job is still being sent; cancel it again in a moment.")
        adapter = self._providers[record.provider]
        info = self.registry.info(record.provider)
        if info.cancel == "none":
            return self._save(job_id, note=cannot_cancel_note(info.label, info.cancel, info.offline))
        outcome = await adapter.cancel(locator, key=self._session_keys.get(job_id))
        if outcome == "cancelled":
            self._stop_watching(job_id)
            self._ledger.refund(job_id, self._clock(), "Cancelled before it started: the provider does not bill it.")
            return self._save(
                job_id,
                state="cancelled",
                queue_position=None,
                error_kind="cancelled",
                error_message="Cancelled before it started; the provider does not bill a cancelled job.",
                finished_at=self._clock(),
                note=None,
            )
        return self._save(job_id, note=cannot_cancel_note(info.label, info.cancel, info.offline))

    async def recheck(self, owner: str, job_id: str, keys: Mapping[str, Secret] | None = None) -> JobRecord:
        """Watch a job again: one that timed out, failed to download, or waits for a key.
        Its request id was kept, so nothing is resubmitted."""
        record = self._require(owner, job_id)
        if not rules.can_watch_again(record):
            return record
        key = (keys or {}).get(record.provider)
        self.scrubber.add(key)
        if key:
            self._session_keys[job_id] = key
        if record.terminal:
            record = self._save(
                job_id, state="queued", error_kind=None, error_message=None, finished_at=None, note=None
            )
        self._watch(job_id)
        return record

    def _require(self, owner: str, job_id: str) -> JobRecord:
        record = self._store.get(job_id, owner=owner)
        if record is None:
            raise ValidationError("job_id", f"Job: no job '{job_id}' in your history.")
        return record

    # --- history -----------------------------------------------------------------------

    def delete(self, owner: str, job_id: str) -> bool:
        """Remove a finished job and its files. Active jobs are refused (cancel first)."""
        record = self._store.get(job_id, owner=owner)
        if record is None:
            return False
        if record.active:
            raise ValidationError("job_id", "Job: still running; cancel it or wait for it to finish first.")
        return history_ops.delete_job(self._store, self.settings, owner, job_id)

    def export(self, owner: str, job_ids: Sequence[str] | None = None) -> Path:
        """A zip of the jobs' videos, posters and a metadata JSON per job, in a temp folder
        whose files older than EXPORT_TTL_SECONDS are removed (the web layer serves its copy)."""
        dest = Path(tempfile.gettempdir()) / "dreamina-studio-exports"
        cutoff = self._clock() - EXPORT_TTL_SECONDS
        if dest.is_dir():
            for old in dest.iterdir():
                with contextlib.suppress(OSError):
                    if old.stat().st_mtime < cutoff:
                        old.unlink()
        return history_ops.export_jobs(self._store, self.settings, owner, job_ids, dest)

    # --- updates -----------------------------------------------------------------------

    def subscribe(self, owner: str, job_id: str, listener: Listener) -> Callable[[], None] | None:
        """Call `listener` now with the current record and then with every change.
        Returns the unsubscribe function, or None when the job is not the owner's."""
        record = self._store.get(job_id, owner=owner)
        if record is None:
            return None
        listeners = self._listeners.setdefault(job_id, set())
        listeners.add(listener)
        listener(record)

        def unsubscribe() -> None:
            current = self._listeners.get(job_id)
            if current is not None:
                current.discard(listener)
                if not current:
                    self._listeners.pop(job_id, None)

        return unsubscribe

    async def updates(self, owner: str, job_id: str) -> AsyncIterator[JobRecord]:
        """The current record at once, then every change, ending after the terminal one."""
        queue: asyncio.Queue[JobRecord] = asyncio.Queue()
        unsubscribe = self.subscribe(owner, job_id, queue.put_nowait)
        if unsubscribe is None:
            return
        try:
            async for record in until_terminal(queue):
                yield record
        finally:
            unsubscribe()

    async def wait(self, owner: str, job_id: str, timeout: float | None = None) -> JobRecord:
        async def last() -> JobRecord:
            final = self._require(owner, job_id)
            async for record in self.updates(owner, job_id):
                final = record
            return final

        return await asyncio.wait_for(last(), timeout)

    def _save(self, job_id: str, **changes: object) -> JobRecord:
        if changes.get("state") in TERMINAL_STATES and "note" not in changes:
            changes["note"] = None  # a note about a running job (cancel, provider failing) is over
        for name in ("error_message", "note"):
            if isinstance(changes.get(name), str):
                changes[name] = self.scrubber.scrub(str(changes[name]))
        record = self._store.update(job_id, **changes)
        if record.terminal:
            self._gates.finished(job_id)
        self._publish(record)
        return record

    def _publish(self, record: JobRecord) -> None:
        for listener in list(self._listeners.get(record.id, ())):
            try:
                listener(record)
            except Exception:  # a broken subscriber must not stop the job
                log.exception("update listener failed for job %s", record.id)

    # --- watching ----------------------------------------------------------------------

    def _watch(self, job_id: str) -> None:
        task = self._watchers.get(job_id)
        if task is not None and not task.done():
            return
        task = asyncio.get_running_loop().create_task(self._watch_job(job_id), name=f"watch-{job_id}")
        self._watchers[job_id] = task
        task.add_done_callback(functools.partial(self._forget, job_id))

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._watchers.get(job_id) is task:
            del self._watchers[job_id]
        record = self._store.get(job_id) if self._started else None
        if record is not None and record.terminal:
            self._session_keys.pop(job_id, None)

    def _stop_watching(self, job_id: str) -> None:
        task = self._watchers.pop(job_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch_job(self, job_id: str) -> None:
        record = self._store.get(job_id)
        locator = record.job_locator if record is not None else None
        if record is None or locator is None:
            return
        adapter = self._providers.get(record.provider)
        if adapter is None:
            self._save(job_id, note=f"Provider {record.provider} is not configured; the job is kept.")
            return
        deadline = (record.submitted_at or record.created_at) + self.settings.job_deadline_seconds
        eta = self.eta_seconds(record.model)
        polls = failures = 0
        retry_after: float | None = None
        while True:
            now = self._clock()
            if now >= deadline:
                self._save(
                    job_id,
                    state="failed",
                    error_kind="timeout",
                    error_message=ProviderError(
                        "timeout",
                        f"Still unfinished after {self.settings.job_deadline_seconds / 60:.0f} minutes.",
                    ).message,
                    finished_at=now,
                )
                return
            try:
                status = await adapter.poll(locator, key=self._session_keys.get(job_id))
                polls += 1
                if failures >= FAILING_NOTE_AFTER:
                    self._save(job_id, note=None)  # the provider answers again
                failures = 0
                retry_after = status.retry_after
            except ProviderError as exc:
                if exc.retryable:
                    failures += 1
                    if failures == FAILING_NOTE_AFTER:
                        self._save(job_id, note=failing_note(self.registry.label(record.provider), exc))
                    await asyncio.sleep(transient_backoff(failures, exc.retry_after))
                    continue
                if exc.kind == "auth" and job_id not in self._session_keys and not adapter.has_key():
                    # Submitted with a key typed in a browser that is gone (restart): keep the
                    # paid job and wait for the key instead of failing it.
                    self._save(
                        job_id,
                        note=f"Waiting for a {self.registry.label(record.provider)} key to check this job: "
                        "enter it in the API keys tab and press 'Check again'.",
                    )
                    return
                self._fail(job_id, exc)
                return
            except Exception:
                log.exception("unexpected error polling job %s", job_id)
                failures += 1
                await asyncio.sleep(transient_backoff(failures))
                continue

            record = self._apply_status(job_id, status)
            if status.state == "succeeded":
                await self._save_output(job_id, status)
                return
            if record.terminal:
                return
            since = self._clock() - (record.submitted_at or record.created_at)
            await asyncio.sleep(next_poll_delay(status.state, polls, since, eta, retry_after))

    def _apply_status(self, job_id: str, status: ProviderStatus) -> JobRecord:
        record = self._store.get(job_id)
        assert record is not None
        changes: dict[str, object] = {}
        now = self._clock()
        if status.state == "queued":
            if record.state != "queued" or record.queue_position != status.queue_position:
                changes.update(state="queued", queue_position=status.queue_position)
        elif status.state == "running":
            if record.state != "running":
                changes.update(state="running", queue_position=None, started_at=record.started_at or now)
        elif status.state == "failed":
            refund_rule = self.registry.info(record.provider).refunds_failed
            if refund_rule:  # only where the provider documents a refund for a failed job
                self._ledger.refund(job_id, now, refund_rule)
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
                error_message="Cancelled at the provider.",
                finished_at=now,
            )
        if not changes:
            return record
        return self._save(job_id, **changes)

    def _fail(self, job_id: str, error: ProviderError) -> JobRecord:
        return self._save(
            job_id,
            state="failed",
            queue_position=None,
            error_kind=error.kind,
            error_message=error.message,
            finished_at=self._clock(),
        )

    async def _save_output(self, job_id: str, status: ProviderStatus) -> None:
        """Download the finished video to our disk, probe it, make its poster."""
        record = self._store.get(job_id)
        assert record is not None
        now = self._clock()
        # The local file name is fixed before the download starts, so a download cut off by
        # a crash resumes into the same partial file after a restart.
        video_path = (
            Path(record.video_path)
            if record.video_path
            else (self.settings.videos_dir / media.unguessable_name(".mp4"))
        )
        record = self._save(
            job_id,
            state="downloading",
            queue_position=None,
            remote_url=status.video_url,
            video_path=str(video_path),
            nsfw=status.nsfw,
            provider_seconds=status.inference_seconds,
            started_at=record.started_at or record.submitted_at,
            finished_at=now,
        )
        if not status.video_url:
            self._fail(job_id, ProviderError("job_failed", "The provider finished without a video."))
            return
        for round_number in range(1, DOWNLOAD_ROUNDS + 1):
            try:
                await media.download(status.video_url, video_path, max_bytes=self.settings.download_max_bytes)
                break
            except ProviderError as exc:
                if exc.retryable and round_number < DOWNLOAD_ROUNDS:
                    await asyncio.sleep(transient_backoff(round_number + 2, exc.retry_after))
                    continue
                self._fail(job_id, exc)
                return
        try:
            info = await asyncio.to_thread(media.ensure_browser_playable, video_path)
            poster = self.settings.posters_dir / media.unguessable_name(".webp")
            await asyncio.to_thread(media.make_poster, video_path, poster)
        except Exception as exc:
            log.exception("could not read the video of job %s", job_id)
            self._fail(
                job_id, ProviderError("job_failed", f"The downloaded video could not be read ({exc}).")
            )
            return
        self._save(
            job_id,
            state="succeeded",
            poster_path=str(poster),
            video_duration=info.duration,
            video_width=info.width,
            video_height=info.height,
            video_bytes=info.bytes,
            video_codec=info.codec,
            saved_at=self._clock(),
            error_kind=None,
            error_message=None,
        )
        if self.settings.max_data_bytes:
            trimmed = await asyncio.to_thread(
                history_ops.enforce_size_cap, self._store, self.settings, {job_id}
            )
            for other in trimmed:  # their rows changed too: tell anyone watching them
                record = self._store.get(other)
                if record is not None:
                    self._publish(record)
