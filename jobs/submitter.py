"""Sending a job to its provider, with its money: check the request, prepare its image,
price it, reserve the price against every limit, write the row, send it once (or in turn
while the provider is limiting requests), and settle the reservation by what came back.

- Accepted: the reservation is charged and the locator stored durably; watching starts.
- A definite refusal (nothing created): the row, the reservation and the fitted image go,
  and the error is raised to a caller who is waiting (else the row shows it).
- An ambiguous outcome (the job may exist and be billed): the row and the reservation stay,
  the job ends `failed / submit_unknown`, and it is never sent again.
- A 429 (a definite refusal): the job waits in its provider's line (jobs/rate_gate.py).

Every fsync (the new row, the reservation, the request id, a refused row's deletion) and
every file operation runs in a worker thread, never on the engine's loop; so do the job's
other writes where every commit syncs (jobs/write_lanes.py), in order per job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import jobs.media as media
from jobs import job_words, rules
from jobs.ledger import Ledger
from jobs.limits import Limits, QuotaError
from jobs.pricing import Pricer, key_id
from jobs.rate_gate import RateGates
from jobs.recorder import Recorder
from jobs.records import GenerationRequest, GroupSlot, JobRecord
from jobs.settings import Settings
from jobs.store import JobStore
from jobs.write_lanes import WriteLanes
from providers import catalog
from providers.base import JobLocator, Provider, ProviderError, Secret, SubmitRequest, ValidationError
from providers.scrub import Scrubber

log = logging.getLogger("studio.engine")

# Says why `provider` cannot take a job with these keys, or None (Engine.provider_ready).
ReadyCheck = Callable[[str, Mapping[str, Secret] | None], str | None]


class Submitter:
    """The submit path of one engine. Methods must be called on the engine's loop."""

    def __init__(
        self,
        settings: Settings,
        providers: Mapping[str, Provider],
        store: JobStore,
        recorder: Recorder,
        money: tuple[Ledger, Limits, Pricer, RateGates],
        lanes: WriteLanes,
        *,
        scrubber: Scrubber,
        session_keys: dict[str, Secret],
        ready: ReadyCheck,
        watch: Callable[[str], None],
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.registry = settings.registry
        self._providers = providers
        self._store = store
        self._recorder = recorder
        self._ledger, self._limits, self._pricer, self._gates = money
        self._lanes = lanes
        self._scrubber = scrubber
        self._session_keys = session_keys  # shared with the engine: a job's typed key
        self._ready = ready
        self._watch = watch
        self._clock = clock
        self._sending: dict[str, asyncio.Task[None]] = {}  # jobs waiting their turn to be sent

    async def submit(
        self,
        owner: str,
        request: GenerationRequest,
        keys: Mapping[str, Secret] | None,
        quota_key: str | None,
        slot: GroupSlot | None = None,
    ) -> JobRecord:
        """See Engine.submit."""
        checked = rules.check_request(self.registry, request)
        spec, prompt, options = checked.spec, checked.prompt, dict(checked.options)
        image = await self._prepare_image(spec, request)

        adapter = self._providers.get(spec.provider)
        session_key = (keys or {}).get(spec.provider) or None
        for key in (keys or {}).values():
            self._scrubber.add(key)
        reason = self._ready(spec.provider, keys)
        if adapter is None or reason:
            refused = ProviderError("auth", f"{spec.provider_label}: {reason}", field="model")
            if reason and reason.startswith("Needs "):  # a page says it in its language (error.provider_not_ready)
                refused.code, refused.params = "provider_not_ready", {
                    "provider": spec.provider_label, "env": reason.split()[1],
                }
            raise refused
        price = await self._pricer.price(spec, options, session_key)

        if options.get("seed") == catalog.RANDOM_SEED:
            # Pick the random seed here so the job records the seed actually used.
            options["seed"] = random.SystemRandom().randint(0, catalog.SEED_MAX)
        job_id = slot.job_id if slot else secrets.token_urlsafe(12)
        try:  # checks every limit and reserves this job's price in one transaction (no fsync in WAL)
            if slot is None:  # a comparison's members are reserved together (Engine.reserve_group)
                reserve = functools.partial(
                    self._limits.reserve,
                    job_id=job_id,
                    owner=owner,
                    quota_key=quota_key,
                    provider=spec.provider,
                    model=spec.id,
                    price=price,
                )
                await self._lanes.run(job_id, reserve)
        except QuotaError:
            if image:
                await asyncio.to_thread(image.unlink, missing_ok=True)
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
            created_at=self._clock(),
            simulated=self.registry.info(spec.provider).offline,
            group_id=slot.group_id if slot else None,
        )
        try:  # both fsyncs off the event loop, side by side: row and reservation durable first
            await asyncio.gather(
                asyncio.to_thread(self._store.insert, record), asyncio.to_thread(self._ledger.flush)
            )
        except BaseException:
            self._lanes.post(record.id, functools.partial(self._ledger.release, record.id))
            raise
        self._recorder.added(record)
        submit_request = SubmitRequest(spec=spec, prompt=prompt, options=options, image=image)
        line = key_id(session_key)
        if self._gates.is_open(spec.provider, line):
            try:
                sent = self._clock()
                locator = JobLocator.of(await adapter.submit(submit_request, key=session_key))
            except ProviderError as exc:
                if exc.kind != "rate_limited":
                    return await asyncio.shield(self._failed(record, exc, image, refuse=slot is None))
                self._gates.limited(spec.provider, line, exc.retry_after)
            except Exception as exc:
                return await asyncio.shield(self._crashed(record, exc))
            else:
                # Shielded: a caller that goes away now must not stop the settling and the
                # watching of a job the provider has (and bills).
                return await asyncio.shield(self._accepted(record.id, locator, session_key, sent))
        # Wait in this provider's line in the background, so the page shows the wait.
        started = time.monotonic()
        waiting = job_words.say("waiting_to_send", provider=self.registry.label(spec.provider))
        await self._recorder.save(record.id, note=waiting)
        task = asyncio.get_running_loop().create_task(
            self._send_in_turn(record, adapter, submit_request, session_key, started), name=f"send-{record.id}"
        )
        self._sending[record.id] = task
        task.add_done_callback(functools.partial(self._sent_or_dropped, record.id))
        await asyncio.sleep(0)  # let it post its first "sending again in N s"
        return self._recorder.current(record.id) or record

    def cancel_waiting(self, job_id: str) -> bool:
        """Stop a job still waiting its turn: it was never sent, so its reservation goes.
        False when the job is not waiting (it has been sent, or never waited)."""
        task = self._sending.pop(job_id, None)
        if task is None:
            return False
        task.cancel()
        self._lanes.post(job_id, functools.partial(self._ledger.release, job_id))
        return True

    async def close(self) -> None:
        """Stop every job waiting its turn; their rows stay (`submitting`, ended on start)."""
        tasks = list(self._sending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sending.clear()

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
            self._sending.pop(record.id, None)
            await self._failed(record, exc, request.image, refuse=False)
            return
        except Exception as exc:
            self._sending.pop(record.id, None)
            await self._crashed(record, exc)
            return
        # Sent: from here a cancel must reach the provider, not drop the (billed) job.
        self._sending.pop(record.id, None)
        await self._accepted(record.id, locator, session_key)

    @staticmethod
    async def _submit_once(adapter: Provider, request: SubmitRequest, key: Secret | None) -> JobLocator:
        return JobLocator.of(await adapter.submit(request, key=key))

    def _sent_or_dropped(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._sending.get(job_id) is task:
            del self._sending[job_id]

    def _note(self, job_id: str, words: str) -> None:
        self._recorder.post(job_id, note=words)

    async def _accepted(
        self, job_id: str, locator: JobLocator, session_key: Secret | None, sent: float | None = None
    ) -> JobRecord:
        """The provider has the job: charge the reservation, store the locator durably (a
        lost request id is a billed job nobody knows about), start watching."""
        record = self._recorder.current(job_id)
        if record is not None:
            self._gates.sent(record.provider, job_id)
        if session_key:
            self._session_keys[job_id] = session_key
        now = self._clock()
        saved = await self._recorder.save_durably(
            job_id,
            {
                "request_id": locator.request_id,
                "locator": dict(locator.fields),
                "state": "queued",
                # When the submit was sent: the job's clock (its poll schedule, its ETA) starts
                # with the provider's, not when a busy loop read the reply (up to 1.5 s later
                # with 32 jobs at once, and the job was polled that much too late).
                "submitted_at": now if sent is None else sent,
                "note": None,
            },
            first=functools.partial(self._ledger.charge, job_id, now),  # one worker hop for both
        )
        self._watch(job_id)
        return saved

    async def _failed(self, record: JobRecord, exc: ProviderError, image: Path | None, *, refuse: bool) -> JobRecord:
        """An ambiguous outcome keeps the row and the reservation; a definite refusal frees
        both (raised when the caller is waiting, else the row shows the failure)."""
        now = self._clock()
        if exc.kind == "submit_unknown":
            await asyncio.to_thread(self._ledger.keep_unknown, record.id, now, exc.message)
            return await self._recorder.save(
                record.id, state="failed", error_kind=exc.kind, error_message=exc.message, finished_at=now, note=None
            )
        await asyncio.to_thread(self._release, record, image, delete_row=refuse)
        if refuse:
            self._recorder.forget(record.id)
            exc.message = self._scrubber.scrub(exc.message)
            exc.args = (exc.message,)
            raise exc
        return await self._recorder.save(
            record.id, state="failed", error_kind=exc.kind, error_message=exc.message, finished_at=now, note=None
        )

    def _release(self, record: JobRecord, image: Path | None, *, delete_row: bool) -> None:
        """Blocking (a worker thread): nothing was created, so nothing of the job is kept
        but, unless `delete_row`, its row to show the refusal."""
        self._ledger.release(record.id)
        if image:
            image.unlink(missing_ok=True)
        if delete_row:
            self._store.delete(record.id, record.owner)  # fsynced

    async def _crashed(self, record: JobRecord, exc: Exception) -> JobRecord:
        """An adapter bug after the POST may have billed: keep the row and the reservation."""
        log.error("unexpected error while submitting job %s: %s", record.id, type(exc).__name__, exc_info=exc)
        message = ProviderError("submit_unknown", type(exc).__name__).message
        await asyncio.to_thread(self._ledger.keep_unknown, record.id, self._clock(), message)
        return await self._recorder.save(
            record.id, state="failed", error_kind="submit_unknown", error_message=message, finished_at=self._clock()
        )

    async def _prepare_image(self, spec: catalog.ModelSpec, request: GenerationRequest) -> Path | None:
        """The input image checked and, if asked, fitted into inputs/ (rules.check_request
        has already refused a missing or unwanted one)."""
        if spec.kind == "t2v" or not request.image:
            return None
        source = Path(request.image)
        if not await asyncio.to_thread(source.is_file):
            raise ValidationError("image", "Image: the uploaded file is missing; upload it again.")
        fitted = await asyncio.to_thread(
            media.prepare_input,
            source,
            spec.image_rules or catalog.IMAGE_RULES,
            self.settings.inputs_dir,
            fit=request.fit_image,
        )
        return fitted.path
