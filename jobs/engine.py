"""The job engine: submit -> watch -> download -> finish, durable across restarts.

(Stub: the public API is fixed here; the implementation lands in the next commit.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from jobs.records import GenerationRequest, HistoryPage, HistoryQuery, JobRecord
from jobs.settings import Settings
from providers.base import Provider, Secret, StudioError


class QuotaError(StudioError):
    """The owner has used up STUDIO_MAX_JOBS_PER_HOUR."""


class Engine:
    """Owns every job's lifecycle. One per process; all methods are owner-scoped: a job of
    another owner is reported as not found."""

    def __init__(self, settings: Settings, providers: Mapping[str, Provider]) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Open the store and resume every unfinished job that has a request id."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop watchers (jobs stay resumable) and close providers and the store."""
        raise NotImplementedError

    def provider_ready(self, provider: str, keys: Mapping[str, Secret] | None = None) -> str | None:
        """None when `provider` can take a job (a key in the environment or in `keys`),
        else the reason in words, e.g. 'Needs RUNCOMFY_API_TOKEN or a key in Settings.'"""
        raise NotImplementedError

    async def submit(
        self, owner: str, request: GenerationRequest, keys: Mapping[str, Secret] | None = None
    ) -> JobRecord:
        """Validate, prepare the image, write the row, submit to the provider, start watching.

        Raises ValidationError (with .field) before anything is sent, QuotaError, or
        ProviderError when the provider definitely refused (then no row is left behind).
        Returns the record in state 'queued' (or 'failed' with error_kind 'submit_unknown').
        """
        raise NotImplementedError

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        """Cancel at the provider. When it can no longer be cancelled, the record's `note`
        says it will run to the end and be billed; it still lands in history."""
        raise NotImplementedError

    async def recheck(self, owner: str, job_id: str) -> JobRecord:
        """Watch a timed-out job again (its request id was kept)."""
        raise NotImplementedError

    def get(self, owner: str, job_id: str) -> JobRecord | None:
        raise NotImplementedError

    def active_jobs(self, owner: str) -> list[JobRecord]:
        """The owner's unfinished jobs, oldest first: what a refreshed page re-attaches to."""
        raise NotImplementedError

    def updates(self, owner: str, job_id: str) -> AsyncIterator[JobRecord]:
        """The current record at once, then every change as it happens, ending after the
        terminal one. Empty if the job is not the owner's."""
        raise NotImplementedError

    async def wait(self, owner: str, job_id: str, timeout: float | None = None) -> JobRecord:
        raise NotImplementedError

    def history(self, owner: str, query: HistoryQuery | None = None) -> HistoryPage:
        raise NotImplementedError

    def delete(self, owner: str, job_id: str) -> bool:
        """Remove a finished job and its files. Active jobs are refused (cancel first)."""
        raise NotImplementedError

    def export(self, owner: str, job_ids: Sequence[str] | None = None) -> Path:
        """A zip of the jobs' videos, posters and a metadata JSON per job."""
        raise NotImplementedError

    def eta_seconds(self, model: str) -> float | None:
        """Median submit-to-finish time of this model's past successful runs."""
        raise NotImplementedError
