"""The studio as the web layer sees it: the Engine on its own event-loop thread.

The engine's watchers must outlive any one web request and start before the first one
(to resume jobs after a restart), so the engine gets a loop of its own. Every method here
is safe to await from any other loop (Gradio's), or to call from plain threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from jobs import group_files, group_views, groups, media
from jobs.engine import Engine
from jobs.group_store import GroupRecord
from jobs.limits import Budget
from jobs.records import GenerationRequest, HistoryPage, HistoryQuery, JobRecord
from jobs.settings import Settings
from providers import catalog
from providers.base import Provider, Secret
from providers.money import KeyCheck, Price
from providers.registry import Registry

T = TypeVar("T")
log = logging.getLogger("studio.keys")


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Every provider in the settings' registry, built from its settings (keys may be absent)."""
    return {info.name: info.build(settings.provider_config(info.name)) for info in settings.registry}


async def log_server_key_checks(engine: Engine) -> None:
    """Check the server's own keys once at start-up, billing nothing, and log the verdict
    (the provider and the words, never the key)."""
    try:
        for check in await engine.check_keys():
            level = logging.WARNING if check.works is False else logging.INFO
            log.log(level, "server key check: %s", check.message)
    except Exception:  # a check must never stop the studio
        log.exception("server key check failed")


class Studio:
    """Runs the Engine on a dedicated daemon thread; the web layer awaits these methods."""

    def __init__(self, settings: Settings, providers: Mapping[str, Provider] | None = None) -> None:
        self.settings = settings
        self._providers = providers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the engine thread and resume unfinished jobs; returns once it is ready."""
        if self._thread is not None:
            return
        ready: Future[None] = Future()
        self._loop = asyncio.new_event_loop()

        async def boot() -> None:
            providers = self._providers if self._providers is not None else build_providers(self.settings)
            self._engine = Engine(self.settings, providers)
            await self._engine.start()
            asyncio.get_running_loop().create_task(log_server_key_checks(self._engine))

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(boot())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="studio-engine", daemon=True)
        self._thread.start()
        ready.result()

    def stop(self) -> None:
        if self._loop is None or self._engine is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._engine.close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    @property
    def registry(self) -> Registry:
        """Every provider and model this studio offers."""
        return self.settings.registry

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Studio.start() has not been called")
        return self._engine

    async def _run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), self._loop))

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return await self._run(wrapper)

    def run_sync(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run engine work from a plain (non-async) thread."""
        assert self._loop is not None

        async def wrapper() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result()

    # --- the API the web layer uses ----------------------------------------------------

    def provider_ready(self, provider: str, keys: Mapping[str, Secret] | None = None) -> str | None:
        return self.engine.provider_ready(provider, keys)

    def preflight(self, model_id: str, image_path: str) -> media.PreflightReport:
        spec = self.registry.model(model_id)
        return media.preflight(Path(image_path), spec.image_rules or catalog.IMAGE_RULES)

    def fit_plan(self, model_id: str, image_path: str) -> tuple[str, ...]:
        """What 'Fit image' will change in this image for this model (blocking: call from a
        worker thread)."""
        spec = self.registry.model(model_id)
        return media.planned_changes(Path(image_path), spec.image_rules or catalog.IMAGE_RULES)

    async def submit(
        self,
        owner: str,
        request: GenerationRequest,
        keys: Mapping[str, Secret] | None = None,
        *,
        quota_key: str | None = None,
    ) -> JobRecord:
        return await self._run(lambda: self.engine.submit(owner, request, keys, quota_key=quota_key))

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        return await self._run(lambda: self.engine.cancel(owner, job_id))

    async def recheck(self, owner: str, job_id: str, keys: Mapping[str, Secret] | None = None) -> JobRecord:
        return await self._run(lambda: self.engine.recheck(owner, job_id, keys))

    async def get(self, owner: str, job_id: str) -> JobRecord | None:
        return await self._call(self.engine.get, owner, job_id)

    async def active_jobs(self, owner: str) -> list[JobRecord]:
        return await self._call(self.engine.active_jobs, owner)

    async def history(self, owner: str, query: HistoryQuery | None = None) -> HistoryPage:
        return await self._call(self.engine.history, owner, query)

    async def delete(self, owner: str, job_id: str) -> bool:
        return await self._run(lambda: self.engine.delete(owner, job_id))

    async def export(self, owner: str, job_ids: list[str] | None = None) -> Path:
        return await self._run(lambda: self.engine.export(owner, job_ids))

    # --- money -----------------------------------------------------------------------

    async def price(
        self, model: str, options: Mapping[str, object], keys: Mapping[str, Secret] | None = None
    ) -> Price:
        return await self._run(lambda: self.engine.price(model, options, keys))

    async def budget(self, owner: str, quota_key: str | None = None) -> Budget:
        return await self._call(self.engine.budget, owner, quota_key)

    async def spend(self, owner: str | None) -> dict[str, object]:
        """`owner`'s spend figures; None: everyone's (a local run's single person)."""
        return await self._call(self.engine.spend, owner)

    async def check_keys(self, keys: Mapping[str, Secret] | None = None) -> list[KeyCheck]:
        return await self._run(lambda: self.engine.check_keys(keys))

    async def eta_seconds(self, model: str) -> float | None:
        return await self._call(self.engine.eta_seconds, model)

    def updates(self, owner: str, job_id: str) -> AsyncIterator[JobRecord]:
        """The current record, then each change, ending after the terminal one (Engine.updates)
        — delivered from the engine's thread into the caller's loop."""
        return self._stream(lambda: self.engine.updates(owner, job_id))

    async def wait(self, owner: str, job_id: str, timeout: float | None = None) -> JobRecord:
        return await self._run(lambda: self.engine.wait(owner, job_id, timeout))

    # --- comparisons (jobs/groups.py, group_views.py, group_files.py) --------------------

    async def compare(
        self,
        owner: str,
        request: groups.CompareRequest,
        keys: Mapping[str, Secret] | None = None,
        *,
        quota_key: str | None = None,
    ) -> group_views.GroupView:
        return await self._run(lambda: groups.start(self.engine, owner, request, keys, quota_key=quota_key))

    async def group_quote(
        self, request: groups.CompareRequest, keys: Mapping[str, Secret] | None = None
    ) -> groups.GroupQuote:
        return await self._run(lambda: groups.quote(self.engine, request, keys))

    async def group(self, owner: str, group_id: str) -> group_views.GroupView | None:
        return await self._run(lambda: group_views.view(self.engine, owner, group_id))

    async def group_history(
        self, owner: str, limit: int = 24, cursor: str | None = None
    ) -> list[group_views.GroupView]:
        return await self._run(lambda: group_views.history(self.engine, owner, limit, cursor))

    async def retry_member(
        self,
        owner: str,
        group_id: str,
        job_id: str,
        keys: Mapping[str, Secret] | None = None,
        *,
        quota_key: str | None = None,
    ) -> group_views.GroupView:
        return await self._run(
            lambda: groups.retry(self.engine, owner, group_id, job_id, keys, quota_key=quota_key)
        )

    async def pick(self, owner: str, group_id: str, job_id: str | None) -> GroupRecord:
        return await self._call(group_views.pick, self.engine, owner, group_id, job_id)

    async def blind_letters(self, owner: str, records: list[JobRecord]) -> dict[str, str]:
        """Job id -> cell letter of each record a blind comparison still hides."""
        if not any(record.group_id for record in records):
            return {}
        return await self._call(group_views.blind_letters, self.engine, owner, records)

    async def tally(self, owner: str) -> list[group_views.TallyRow]:
        return await self._call(group_views.tally, self.engine, owner)

    async def export_group(self, owner: str, group_id: str) -> Path:
        """A zip of the group's members (jobs.history's export)."""
        return await self._run(lambda: group_files.export_zip(self.engine, owner, group_id))

    async def delete_group(self, owner: str, group_id: str) -> bool:
        return await self._run(lambda: group_files.delete(self.engine, owner, group_id))

    async def export_side_by_side(
        self, owner: str, group_id: str, progress: Callable[[float], None] | None = None
    ) -> Path:
        """Render (in a worker thread) or reuse the group's side-by-side MP4; `progress` is
        called from that thread."""
        return await self._run(lambda: group_files.export_side_by_side(self.engine, owner, group_id, progress))

    def group_updates(self, owner: str, group_id: str) -> AsyncIterator[JobRecord]:
        """Every member's record, then each change, until all have finished — delivered
        from the engine's thread into the caller's loop. A refusal (no such group) is raised."""
        return self._stream(lambda: group_views.updates(self.engine, owner, group_id))

    async def _stream(self, make: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Run the engine's iterator `make()` on the engine's loop and yield its items in the
        caller's loop; its error is raised here; leaving early stops it there."""
        caller = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[T] | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for item in make():
                    caller.call_soon_threadsafe(queue.put_nowait, (item,))
            finally:
                caller.call_soon_threadsafe(queue.put_nowait, None)

        assert self._loop is not None
        task = asyncio.run_coroutine_threadsafe(pump(), self._loop)
        try:
            while (boxed := await queue.get()) is not None:
                yield boxed[0]
            await asyncio.wrap_future(task)  # its error, if any, raised here
        finally:
            task.cancel()
