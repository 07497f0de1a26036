"""The offline simulator: a Provider that needs no key and no network, and renders real video.

It keeps the same lifecycle as the hosted APIs, so the whole app (queue positions, running,
cancel rules, download, history) works and demos without an account: a job is queued for
`queue_seconds` (its place in line counts this studio's own earlier jobs still queued, plus,
only when `queue_length` asks for them, that many made-up strangers' jobs leaving the line
evenly: a lone job on a fresh simulator is #1), then runs for `run_seconds`, then
succeeds with a `file://` URL of an H.264 MP4 (a prompt card, or a slow pan across the
image). Like RunComfy, a job can be cancelled only while queued.

State is derived from the clock and one small JSON file per job in `work_dir`, written
atomically, so a new instance on the same folder (after a restart) carries on the same jobs.
Rendering runs on worker threads, once per distinct request: outputs are cached by a content
hash of everything that decides the pixels, so the same request with the same seed reuses
its file. Like WaveSpeed's outputs, the simulator's files are kept `retention_seconds`
(7 days) and then pruned, so its folder does not grow without bound; the engine has long
since copied each video into the studio's own videos folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from providers.base import (
    CancelOutcome,
    JobLocator,
    ProviderError,
    ProviderName,
    ProviderStatus,
    Secret,
    SubmitRequest,
)
from providers.catalog import (
    IMAGE_RULES,
    RATIOS_7,
    ModelSpec,
    aspect_param,
    frames_param,
    nominal_size,
    resolution_param,
    seed_param,
)
from providers.registry import ProviderConfig, ProviderInfo
from providers.simulator_jobs import keep_image, load_job, seed_of, write_json

NAME = "simulator"
LABEL = "Simulator (offline)"

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="simulator",
        provider_label=LABEL,
        path="dreamina-3-0/text-to-video",
        label="Simulated Dreamina 3.0 · text-to-video",
        kind="t2v",
        params=(aspect_param(RATIOS_7), frames_param("frames"), resolution_param(), seed_param()),
        price_usd=0.0,
        notes="Runs offline: renders a real video of the prompt, no API key, no cost.",
    ),
    ModelSpec(
        provider="simulator",
        provider_label=LABEL,
        path="dreamina-3-0/image-to-video",
        label="Simulated Dreamina 3.0 · image-to-video",
        kind="i2v",
        params=(frames_param("frames"), resolution_param(), seed_param()),
        price_usd=0.0,
        image_wire="image",
        image_rules=IMAGE_RULES,
        notes="Runs offline: animates the image with a slow pan, no API key, no cost.",
    ),
)

# Two renders at once keep the CPU for the web server; x264 threads within each.
_RENDER_WORKERS = 2
RETENTION_SECONDS = 7 * 24 * 3600
_PRUNE_EVERY_SECONDS = 3600


class SimulatorProvider:
    """Satisfies providers.base.Provider. `clock` is injectable so tests can step time."""

    name: ProviderName = NAME

    def __init__(
        self,
        work_dir: Path,
        *,
        queue_seconds: float = 3.0,
        run_seconds: float = 6.0,
        queue_length: int = 0,
        max_side: int = 640,
        clock: Callable[[], float] = time.time,
        retention_seconds: float = RETENTION_SECONDS,
    ) -> None:
        # Absolute now (no disk access): a file:// URL cannot be made from a relative path.
        self.work_dir = Path(work_dir).absolute()
        self.queue_seconds = max(0.0, queue_seconds)
        self.run_seconds = max(0.0, run_seconds)
        self.queue_length = max(0, queue_length)
        self.max_side = max_side
        self.clock = clock
        self.retention_seconds = retention_seconds
        self._last_prune = float("-inf")
        # One in-flight render per output file, shared by every job and poll that needs it.
        # concurrent.futures (not asyncio) futures: the engine may poll from another loop.
        self._renders: dict[str, Future[Path]] = {}
        self._lock = threading.RLock()  # re-entrant: a done-callback may run inside it
        self._executor: ThreadPoolExecutor | None = None
        # Queued jobs this instance knows of: request id -> (submitted_at, queue_seconds).
        # Each job's place in line counts the ones ahead of it, so no two share a place.
        self._queued: dict[str, tuple[float, float]] = {}

    def has_key(self) -> bool:
        return True

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        """Record the job (copying its image, so later edits or deletions of the original do
        not change it) and return `sim-<32 hex digits>`."""
        spec = request.spec
        if spec.provider != NAME:
            raise ProviderError("validation", f"{spec.label} is not a simulator model.", field="model")
        if spec.kind == "i2v" and request.image is None:
            raise ProviderError("validation", "Image: choose an image to animate.", field="image")
        request_id = f"sim-{secrets.token_hex(16)}"
        now = self.clock()
        if now - self._last_prune >= _PRUNE_EVERY_SECONDS:
            self._last_prune = now
            await asyncio.to_thread(self.prune, now)
        try:
            await asyncio.to_thread(self._create, request, request_id)
        except OSError as exc:  # the record is written last: no record, no job
            raise ProviderError("server", f"The simulator could not save the job ({exc}).") from exc
        with self._lock:
            self._queued[request_id] = (self.clock(), self.queue_seconds)
        return JobLocator(request_id)

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        request_id = JobLocator.of(locator).request_id
        job = self._load(request_id)
        if job.get("cancelled_at") is not None:
            return ProviderStatus(state="cancelled")
        if job.get("error"):
            return _failed(job["error"])
        elapsed = max(0.0, self.clock() - job["submitted_at"])
        queue_seconds = job["queue_seconds"]
        if elapsed < queue_seconds:
            # Made-up strangers' jobs (only when queue_length asks for them), leaving the line
            # evenly, then this studio's own earlier ones. Jobs recorded before queue_length
            # could be 0 carry their own count.
            others = max(1, math.ceil(job.get("queue_length", 0) * (1 - elapsed / queue_seconds)))
            return ProviderStatus(state="queued", queue_position=others + self._queued_ahead(request_id, job))
        video = self._video_path(job)
        if not video.exists():
            future = self._start_render(job, video)
            if future.done() and future.exception() is not None:
                return self._fail(job, future)
        if elapsed >= queue_seconds + job["run_seconds"] and video.exists():
            return ProviderStatus(
                state="succeeded",
                video_url=video.as_uri(),
                nsfw=False,
                inference_seconds=float(job["run_seconds"]),
            )
        return ProviderStatus(state="running")

    def _queued_ahead(self, request_id: str, job: dict[str, Any]) -> int:
        """How many of this instance's known jobs submitted before `job` are still queued."""
        now = self.clock()
        with self._lock:
            self._queued[request_id] = (job["submitted_at"], job["queue_seconds"])
            for other, (submitted, wait) in list(self._queued.items()):
                if now - submitted >= wait:
                    del self._queued[other]
            mine = (job["submitted_at"], request_id)
            return sum(1 for other, (submitted, _) in self._queued.items() if (submitted, other) < mine)

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> CancelOutcome:
        """Only a queued job can be cancelled, as on RunComfy; asking again says cancelled."""
        request_id = JobLocator.of(locator).request_id
        job = self._load(request_id)
        if job.get("cancelled_at") is not None:
            return "cancelled"
        now = self.clock()
        if job.get("error") or now - job["submitted_at"] >= job["queue_seconds"]:
            return "not_cancellable"
        job["cancelled_at"] = now
        write_json(self._job_path(request_id), job)
        with self._lock:
            self._queued.pop(request_id, None)
        return "cancelled"

    async def aclose(self) -> None:
        """Let in-flight renders finish (they are short), so no thread writes after close."""
        with self._lock:
            pending = list(self._renders.values())
            executor, self._executor = self._executor, None
        for future in pending:
            with contextlib.suppress(Exception):  # a failure is recorded by the next poll
                await asyncio.wrap_future(future)
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)

    def prune(self, now: float | None = None) -> int:
        """Delete job records, input copies and rendered videos older than the retention
        period (by modification time). Returns how many files went."""
        cutoff = (self.clock() if now is None else now) - self.retention_seconds
        removed = 0
        with self._lock:
            in_flight = {self.work_dir / "videos" / f"{key}.mp4" for key in self._renders}
        for folder in ("jobs", "inputs", "videos"):
            directory = self.work_dir / folder
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                with contextlib.suppress(OSError):
                    if path.is_file() and path not in in_flight and path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        return removed

    # --- Records -------------------------------------------------------------------------

    def _job_path(self, request_id: str) -> Path:
        return self.work_dir / "jobs" / f"{request_id}.json"

    def _video_path(self, job: dict[str, Any]) -> Path:
        return self.work_dir / "videos" / f"{job['render']['key']}.mp4"

    def _load(self, request_id: str) -> dict[str, Any]:
        return load_job(self._job_path, request_id)

    def _create(self, request: SubmitRequest, request_id: str) -> None:
        """Write the job's record (and its copy of the image): everything a later poll, in
        this process or the next, needs to carry the job on."""
        from providers import render  # not at import: it is only needed once a job exists

        spec, options = request.spec, dict(request.options)
        image_copy = image_hash = None
        if spec.kind == "i2v" and request.image is not None:
            image_copy, image_hash, size = keep_image(self.work_dir, Path(request.image), request_id)
            width, height = render.preview_size(*size, max_side=self.max_side)
        else:
            ratio = str(options.get("aspect_ratio") or "16:9")
            try:
                width, height = render.preview_size(
                    *nominal_size(spec.resolution(options), ratio), max_side=self.max_side
                )
            except KeyError:
                raise ProviderError(
                    "validation", f"Aspect ratio: {ratio} is not allowed.", field="aspect_ratio"
                ) from None
        seed = seed_of(options.get("seed"), request_id)
        plan: dict[str, Any] = {
            "kind": spec.kind,
            "prompt": request.prompt,
            "width": width,
            "height": height,
            "frames": spec.frame_count(options),
            "seed": seed,
            "image_sha256": image_hash,
            "version": render.RENDER_VERSION,
        }
        plan["key"] = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:32]
        job = {
            "id": request_id,
            "model": spec.id,
            "prompt": request.prompt,
            "options": options,
            "image": str(image_copy) if image_copy else None,
            "submitted_at": self.clock(),
            "queue_seconds": self.queue_seconds,
            "run_seconds": self.run_seconds,
            "queue_length": self.queue_length,
            "cancelled_at": None,
            "error": None,
            "render": plan,
        }
        write_json(self._job_path(request_id), job)

    # --- Rendering -----------------------------------------------------------------------

    def _start_render(self, job: dict[str, Any], video: Path) -> Future[Path]:
        """The render for this job's output: the one in flight, or a new one. Under a thread
        lock, so concurrent polls (from any loop or thread) start it exactly once."""
        plan = job["render"]
        with self._lock:
            future = self._renders.get(plan["key"])
            if future is None or (future.done() and future.exception() is None and not video.exists()):
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        _RENDER_WORKERS, thread_name_prefix="simulator-render"
                    )
                future = self._executor.submit(_render, plan, job.get("image"), video)
                self._renders[plan["key"]] = future
                future.add_done_callback(functools.partial(self._forget, plan["key"]))
            return future

    def _forget(self, key: str, future: Future[Path]) -> None:
        # A finished render's file speaks for it; a failed one is kept until a poll records
        # the failure on its job (see _fail), so that poll can still see the error.
        if future.exception() is None:
            with self._lock:
                if self._renders.get(key) is future:
                    del self._renders[key]

    def _fail(self, job: dict[str, Any], future: Future[Path]) -> ProviderStatus:
        exc = future.exception()
        detail = (
            exc.detail if isinstance(exc, ProviderError) else f"The simulator could not render it ({exc})."
        )
        job["error"] = detail
        write_json(self._job_path(job["id"]), job)
        with self._lock:
            if self._renders.get(job["render"]["key"]) is future:
                del self._renders[job["render"]["key"]]  # a new request may try again
        return _failed(detail)


def _render(plan: dict[str, Any], image: str | None, video: Path) -> Path:
    """Runs on a worker thread. The renderer writes atomically, so a crash leaves no file."""
    from providers import render

    if video.exists():
        return video
    size = {"width": plan["width"], "height": plan["height"], "frames": plan["frames"], "seed": plan["seed"]}
    if plan["kind"] == "i2v":
        if not image or not Path(image).exists():
            raise ProviderError("job_failed", "The simulator's copy of the input image is gone.")
        return render.render_image_to_video(Path(image), dest=video, **size)
    return render.render_text_to_video(plan["prompt"], dest=video, **size)


def _failed(detail: str) -> ProviderStatus:
    return ProviderStatus(state="failed", error=ProviderError("job_failed", detail))


def build(config: ProviderConfig) -> SimulatorProvider:
    return SimulatorProvider(
        config.files_dir, queue_seconds=config.queue_seconds, run_seconds=config.run_seconds
    )


PROVIDER = ProviderInfo(
    name=NAME,
    label=LABEL,
    models=MODELS,
    build=build,
    cancel="queued",
    image_transport="local",
    offline=True,
    short_name="sim",
)
