"""In-process engine scaffolding for the reliability tests: an Engine on a FakeProviders,
run on an event loop of its own thread.

Why a thread: a session-scoped sync Playwright (tests/e2e) leaves an event loop marked as
running on the main thread for the rest of the pytest session, and every pytest-asyncio
test after it then fails. Running each scenario with `asyncio.run` on a worker thread keeps
these tests independent of what ran before them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from jobs.engine import Engine
from jobs.records import GenerationRequest
from jobs.settings import Settings
from providers.base import Provider, Secret
from providers.http import SINGLE_TRY, RetryPolicy
from providers.runcomfy import RunComfyProvider
from providers.simulator import SimulatorProvider
from providers.wavespeed import WaveSpeedProvider
from tests.fakes import FakeProviders

T = TypeVar("T")

# Quick retries so that a fault costs tenths of a second, not the production backoff: the
# adapters' own (uploads, cancels) and the watcher's missed polls, each poll a single
# request, as the studio builds them (one retry layer per request).
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)
FAST_POLLS = RetryPolicy(attempts=40, base=0.01, cap=0.05)
SUBMIT_TIMEOUT = 3.0
REQUEST_TIMEOUT = 0.5  # a hung poll is given up after this and retried
DEAD_URL = "http://127.0.0.1:9"  # nothing listens on the discard port


def run_async(make: Callable[[], Awaitable[T]], timeout: float = 240) -> T:
    """Run a coroutine to completion on a fresh event loop in a worker thread."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(1, thread_name_prefix="engine-loop") as pool:
        return pool.submit(asyncio.run, main()).result(timeout=timeout)


def settings_for(
    data_dir: Path,
    base_url: str | None,
    *,
    runcomfy_key: str | None = FakeProviders.RUNCOMFY_KEY,
    wavespeed_key: str | None = FakeProviders.WAVESPEED_KEY,
    **overrides: Any,
) -> Settings:
    keys = {"runcomfy": runcomfy_key, "wavespeed": wavespeed_key}
    values: dict[str, Any] = dict(
        data_dir=data_dir,
        keys={name: Secret(key) for name, key in keys.items() if key},
        base_urls={"runcomfy": base_url or DEAD_URL, "wavespeed": base_url or DEAD_URL},
        sim_queue_seconds=0.1,
        sim_run_seconds=0.2,
        poll_retry=FAST_POLLS,
    )
    values.update(overrides)
    return Settings(**values)


def providers_for(settings: Settings) -> dict[str, Provider]:
    options: dict[str, Any] = dict(
        retry=FAST,
        poll_retry=SINGLE_TRY,
        submit_timeout=SUBMIT_TIMEOUT,
        request_timeout=REQUEST_TIMEOUT,
    )
    return {
        "runcomfy": RunComfyProvider(
            settings.base_url_for("runcomfy"), settings.key_for("runcomfy"), **options
        ),
        "wavespeed": WaveSpeedProvider(
            settings.base_url_for("wavespeed"), settings.key_for("wavespeed"), **options
        ),
        "simulator": SimulatorProvider(
            settings.provider_dir("simulator"),
            queue_seconds=settings.sim_queue_seconds,
            run_seconds=settings.sim_run_seconds,
        ),
    }


async def started_engine(settings: Settings) -> Engine:
    engine = Engine(settings, providers_for(settings))
    await engine.start()
    return engine


def t2v(model: str, prompt: str = "a lighthouse at dawn", **options: Any) -> GenerationRequest:
    return GenerationRequest(kind="t2v", model=model, prompt=prompt, options=dict(options))


def i2v(
    model: str, image: Path, prompt: str = "slow push-in", fit: bool = False, **options: Any
) -> GenerationRequest:
    return GenerationRequest(
        kind="i2v", model=model, prompt=prompt, options=dict(options), image=str(image), fit_image=fit
    )
