"""The job engine: submit -> watch -> finish, durable across restarts.

One Engine per process, living on one asyncio loop. Every job has a row in the store
before the provider hears of it, and a watcher task while it is active. Watchers belong
to the engine, not to a browser tab: closing a tab loses nothing, and `start()` resumes
every unfinished job from the store after a restart. A submit is never sent twice.

This module ties the parts together and answers the UI's questions; each part is its own
module: submitting with its money (jobs/submitter.py: limits, ledger, prices, rate-limit
lines), recording a change (jobs/recorder.py), watching (jobs/watcher.py), finishing and
media (jobs/finishing.py), the update streams (jobs/updates.py), the rules
(jobs/rules.py) and the history operations (jobs/history.py). Nothing blocks the loop:
every fsync, file and media operation runs in a worker thread, and so does every store and
ledger write where the journal makes each commit sync (jobs/write_lanes.py), in order per job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import jobs.history as history_ops
from jobs import job_words, key_status, rules
from jobs import spend as spend_report
from jobs.db_journal import choose_journal
from jobs.desk import Desk
from jobs.ledger import Ledger
from jobs.limits import Budget, Limits, QuotaError, Reservation
from jobs.polling import FinishMarks, estimate_seconds
from jobs.pricing import Pricer
from jobs.rate_gate import RateGates
from jobs.recorder import Recorder
from jobs.records import GenerationRequest, GroupSlot, HistoryPage, HistoryQuery, JobRecord
from jobs.settings import Settings
from jobs.store import JobStore
from jobs.submitter import Submitter
from jobs.updates import Listener, Updates, last_record, record_stream, until_terminal
from jobs.watcher import watch_job
from jobs.write_lanes import WriteLanes
from providers import catalog
from providers.base import Provider, ProviderError, Secret, ValidationError
from providers.money import KeyCheck, Price
from providers.scrub import Scrubber

__all__ = ["Engine", "QuotaError", "until_terminal"]

log = logging.getLogger("studio.engine")

# The ETA comes from this many of the model's latest runs (polling.estimate_seconds).
ETA_SAMPLES = 20


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
        # Each job's writes in order; in worker threads where every commit syncs (DELETE).
        self._lanes = WriteLanes(off_loop=journal.journal == "delete")
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._finishes = FinishMarks(ETA_SAMPLES)  # the poll schedule's earliest finish per model
        self._updates = Updates()
        # Keys typed in a browser session, kept only in memory and only while the job runs.
        self._session_keys: dict[str, Secret] = {}
        # Every configured and session key, masked in every form from whatever is stored.
        self.scrubber = Scrubber(settings.keys.values())
        # Money: the spend ledger and the limits reserved in it, prices, rate-limit lines.
        self._ledger = Ledger(settings.ledger_path, journal.journal)
        self._limits = Limits(settings, self._ledger, clock)
        self._pricer = Pricer(self.registry, self._providers)
        self._gates = RateGates(settings.provider_caps)
        self._recorder = Recorder(
            self._store, self._updates, self.scrubber, clock, self._ended, self._lanes
        )
        self._submitter = Submitter(
            settings,
            self._providers,
            self._store,
            self._recorder,
            (self._ledger, self._limits, self._pricer, self._gates),
            self._lanes,
            scrubber=self.scrubber,
            session_keys=self._session_keys,
            ready=self.provider_ready,
            watch=self._watch,
            clock=clock,
        )
        self._save = self._recorder.save
        self._desk = Desk(
            settings,
            self.registry,
            self._store,
            self._save,
            self._updates.publish,
            clock,
            self._recorder.current,
            self._provider_failed,
        )
        self._started = False

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store and resume every unfinished job that has a request id."""
        await asyncio.to_thread(self._open)
        self._started = True
        for record in self._store.unfinished():
            if record.state == "submitting" or not record.request_id:
                # The process died between writing the row and hearing back from the
                # provider: the job may exist (and be billed). Never resubmit.
                await self._save(
                    record.id,
                    state="failed",
                    error_kind="submit_unknown",
                    error_message=ProviderError("submit_unknown", job_words.say("stopped_sending")).message,
                    finished_at=self._clock(),
                )
                continue
            self._recorder.resumed(record)
            self._watch(record.id)
        log.info("engine started; resumed %d job(s)", len(self._watchers))

    def _open(self) -> None:
        for folder in (*self.settings.media_dirs, self.settings.data_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._store.open()
        self._ledger.open()

    async def close(self) -> None:
        """Stop watchers (their jobs stay resumable) and release connections."""
        await self._submitter.close()
        watchers = list(self._watchers.values())
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        self._watchers.clear()
        await self._lanes.drain()  # every write asked for lands before the files close
        for provider in self._providers.values():
            await provider.aclose()
        if self._started:
            self._store.close()
            self._ledger.close()
            self._started = False

    # --- queries -----------------------------------------------------------------------

    def provider_ready(self, provider: str, keys: Mapping[str, Secret] | None = None) -> str | None:
        """None when `provider` can take a job, else the reason in words."""
        return key_status.provider_ready(self.registry, self._providers, provider, keys)

    def get(self, owner: str, job_id: str) -> JobRecord | None:
        return self._store.get(job_id, owner=owner)

    def active_jobs(self, owner: str) -> list[JobRecord]:
        return self._store.active(owner)

    def history(self, owner: str, query: HistoryQuery | None = None) -> HistoryPage:
        return self._store.list(owner, query or HistoryQuery())

    def eta_seconds(self, model: str) -> float | None:
        return estimate_seconds(self._store.run_durations(model, ETA_SAMPLES))

    # --- submit ------------------------------------------------------------------------

    async def submit(
        self,
        owner: str,
        request: GenerationRequest,
        keys: Mapping[str, Secret] | None = None,
        *,
        quota_key: str | None = None,
        slot: GroupSlot | None = None,
    ) -> JobRecord:
        """Validate, prepare the image, price and reserve, write the row, submit to the
        provider, start watching (jobs/submitter.py).

        `quota_key` names who pays the hourly limit besides the owner, for visitors whose
        owner id is cheap to renew (a public demo's browser or API session): e.g. their
        address. It is kept in memory only.

        `slot`: a comparison member (jobs/groups.py), whose price the group has reserved
        under `slot.job_id`. A provider's definite refusal then keeps its row, failed,
        instead of raising, so the group shows why that member did not run.

        Raises ValidationError (with .field) before anything is sent, QuotaError, or
        ProviderError when the provider definitely refused (then no row is left behind).
        Returns the record in state 'queued', or 'failed' with error_kind 'submit_unknown'
        (or 'submitting' with a note while it waits its turn at a rate-limited provider).
        """
        return await self._submitter.submit(owner, request, keys, quota_key, slot)

    # --- money -----------------------------------------------------------------------

    async def price(
        self, model: str, options: Mapping[str, object], keys: Mapping[str, Secret] | None = None
    ) -> Price:
        """The price of exactly this run (quote, catalog or estimate). Raises ValidationError."""
        spec = self.registry.model(model)
        valid = catalog.validate_options(spec, options)
        return await self._pricer.price(spec, valid, (keys or {}).get(spec.provider) or None)

    async def reserve_group(self, owner: str, quota_key: str | None, items: Sequence[Reservation]) -> None:
        """Reserve a comparison's members in one transaction (all or none; QuotaError), made
        durable off the loop before any member is sent."""
        reserve = functools.partial(self._limits.reserve_many, owner=owner, quota_key=quota_key, items=items)
        await self._lanes.run(None, reserve)
        await asyncio.to_thread(self._ledger.flush)

    def release(self, job_id: str) -> None:
        """Free the reservation of a job that was never sent (a comparison member that did
        not get as far as its submit), in its turn."""
        self._lanes.post(job_id, functools.partial(self._ledger.release, job_id))

    def now(self) -> float:
        """The engine's clock (tests give it a fake one)."""
        return self._clock()

    @property
    def store(self) -> JobStore:
        """The job store, for the tables kept beside the jobs (jobs/group_store.py)."""
        return self._store

    def budget(self, owner: str, quota_key: str | None = None) -> Budget:
        return self._limits.budget(owner, quota_key)

    def spend(self, owner: str | None) -> dict[str, object]:
        """The spend figures of `owner` (None: everyone) from the ledger."""
        return spend_report.summarize(self._ledger.entries(owner), self._clock())

    async def check_keys(self, keys: Mapping[str, Secret] | None = None) -> list[KeyCheck]:
        """Ask each hosted provider whose key is typed in `keys` or set on the server whether
        it works, with a request that bills nothing (jobs/key_status.py)."""
        return await key_status.check_keys(self.registry, self._providers, keys)

    # --- cancel / recheck --------------------------------------------------------------

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        """Cancel at the provider. When it can no longer be cancelled, the record's `note`
        says it will run to the end and be billed; it still lands in history."""
        record = self._require(owner, job_id)
        if record.terminal:
            return record
        if record.state == "submitting" and self._submitter.cancel_waiting(job_id):
            # Still waiting its turn: it was never sent, so nothing is billed.
            return await self._save(
                job_id,
                state="cancelled",
                error_kind="cancelled",
                error_message=job_words.say("cancelled_unsent"),
                finished_at=self._clock(),
                note=None,
            )
        locator = record.job_locator
        if record.state == "submitting" or locator is None:
            return await self._save(record.id, note=job_words.say("still_sending"))
        adapter = self._providers[record.provider]
        info = self.registry.info(record.provider)
        if info.cancel == "none":
            return await self._save(job_id, note=rules.cannot_cancel_note(info.label, info.cancel, info.offline))
        outcome = await adapter.cancel(locator, key=self._session_keys.get(job_id))
        if outcome == "cancelled":
            self._stop_watching(job_id)
            refund = "Cancelled before it started: the provider does not bill it."
            await self._lanes.run(job_id, functools.partial(self._ledger.refund, job_id, self._clock(), refund))
            return await self._save(
                job_id,
                state="cancelled",
                queue_position=None,
                error_kind="cancelled",
                error_message=job_words.say("cancelled_queued"),
                finished_at=self._clock(),
                note=None,
            )
        return await self._save(job_id, note=rules.cannot_cancel_note(info.label, info.cancel, info.offline))

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
            record = await self._save(
                job_id, state="queued", error_kind=None, error_message=None, finished_at=None, note=None
            )
        elif key and record.note_code == "key_wait":
            record = await self._save(job_id, note=None)  # the key is here: no longer waiting for it
        self._watch(job_id)
        return record

    def _require(self, owner: str, job_id: str) -> JobRecord:
        record = self._store.get(job_id, owner=owner)
        if record is None:
            raise ValidationError("job_id", f"Job: no job '{job_id}' in your history.")
        return record

    # --- history -----------------------------------------------------------------------

    async def delete(self, owner: str, job_id: str) -> bool:
        """Remove a finished job and its files (in a worker thread: files and an fsync).
        Active jobs are refused (cancel first)."""
        record = self._store.get(job_id, owner=owner)
        if record is None:
            return False
        if record.active:
            raise ValidationError("job_id", "Job: still running; cancel it or wait for it to finish first.")
        return await asyncio.to_thread(history_ops.delete_job, self._store, self.settings, owner, job_id)

    async def export(self, owner: str, job_ids: Sequence[str] | None = None) -> Path:
        """A zip of the jobs' videos, posters and a metadata JSON per job (built in a worker
        thread; see history.export_to_temp for where it lives and for how long)."""
        return await asyncio.to_thread(
            history_ops.export_to_temp, self._store, self.settings, owner, job_ids, self._clock()
        )

    # --- updates -----------------------------------------------------------------------

    def subscribe(self, owner: str, job_id: str, listener: Listener) -> Callable[[], None] | None:
        """Call `listener` now with the current record and then with every change.
        Returns the unsubscribe function, or None when the job is not the owner's."""
        record = self._store.get(job_id, owner=owner)
        if record is None:
            return None
        unsubscribe = self._updates.add(job_id, listener)
        listener(record)
        return unsubscribe

    def updates(self, owner: str, job_id: str) -> AsyncIterator[JobRecord]:
        """The current record at once, then every change, ending after the terminal one."""
        return record_stream(functools.partial(self.subscribe, owner, job_id))

    async def wait(self, owner: str, job_id: str, timeout: float | None = None) -> JobRecord:
        return await asyncio.wait_for(last_record(self._require(owner, job_id), self.updates(owner, job_id)), timeout)

    def _provider_failed(self, job_id: str) -> None:
        record = self._recorder.current(job_id)
        rule = self.registry.info(record.provider).refunds_failed if record else ""
        if rule:  # only where the provider documents a refund for a failed job
            self._lanes.post(job_id, functools.partial(self._ledger.refund, job_id, self._clock(), rule))

    # --- watching ----------------------------------------------------------------------

    def _watch(self, job_id: str) -> None:
        task = self._watchers.get(job_id)
        if task is not None and not task.done():
            return
        task = asyncio.get_running_loop().create_task(self._watching(job_id), name=f"watch-{job_id}")
        self._watchers[job_id] = task
        task.add_done_callback(functools.partial(self._forget, job_id))

    async def _watching(self, job_id: str) -> None:
        record = self._recorder.current(job_id)
        if record is None:
            return
        # The model's past runs: a read, made off the loop where a slow write may hold the store.
        durations = await self._lanes.run(None, functools.partial(self._store.run_durations, record.model, ETA_SAMPLES))
        eta = self._finishes.estimate(record.model, durations)
        adapter = self._providers.get(record.provider)
        await watch_job(
            self._desk, job_id, adapter, self._session_keys, eta, self._finishes.recorder(record.model)
        )

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._watchers.get(job_id) is task:
            del self._watchers[job_id]

    def _ended(self, job_id: str) -> None:
        """A job's terminal state has landed: free its slot at its provider, and forget the
        key typed for it ("Check again" is given the key anew)."""
        self._gates.finished(job_id)
        self._session_keys.pop(job_id, None)

    def _stop_watching(self, job_id: str) -> None:
        task = self._watchers.pop(job_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
