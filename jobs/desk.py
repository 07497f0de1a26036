"""What the watcher and the finisher need of the engine, and nothing more: the settings,
the registry, the store, and the engine's own way to save (log, publish) a change and to
read an active job without waiting on the store (jobs/recorder.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from jobs.records import JobRecord
from jobs.settings import Settings
from jobs.store import JobStore
from providers.base import ProviderError
from providers.registry import Registry


@dataclass(frozen=True)
class Desk:
    settings: Settings
    registry: Registry
    store: JobStore
    save: Callable[..., Awaitable[JobRecord]]  # save(job_id, **changes): write in turn, log, publish
    publish: Callable[[JobRecord], None]
    clock: Callable[[], float]
    # The job's record as last saved (an active job), else as stored: read without waiting
    # on the store's lock, which a slow write in a worker thread may hold.
    record: Callable[[str], JobRecord | None]
    # Called when the provider reports the job failed (the spend ledger refunds it where
    # the provider documents refunds for that).
    provider_failed: Callable[[str], None] = lambda job_id: None
    async def fail(self, job_id: str, error: ProviderError) -> JobRecord:
        return await self.save(
            job_id,
            state="failed",
            queue_position=None,
            error_kind=error.kind,
            error_message=error.message,
            finished_at=self.clock(),
        )
