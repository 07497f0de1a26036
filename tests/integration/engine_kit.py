"""What the engine's integration tests share: settings and adapters against the local fake
providers (quick retries), and an engine started and closed around a test's body."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from jobs.engine import Engine
from jobs.records import GenerationRequest
from jobs.service import build_providers
from jobs.settings import Settings
from providers.base import Secret
from providers.http import SINGLE_TRY, RetryPolicy
from providers.runcomfy import RunComfyProvider
from providers.simulator import SimulatorProvider
from providers.wavespeed import WaveSpeedProvider
from tests.fakes import FakeProviders

FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)
# The watcher's missed polls, quick; each poll is a single request, as the studio builds it.
FAST_POLLS = RetryPolicy(attempts=40, base=0.01, cap=0.05)
RC_PRO_T2V = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
WS_T2V_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
WS_T2V_1080 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-1080p"
SIM_T2V = "simulator/dreamina-3-0/text-to-video"


def make_settings(data_dir: Path, fake: FakeProviders | None, **overrides: object) -> Settings:
    """Settings against the fake; `runcomfy_key=` / `wavespeed_key=` override one key (None: no key)."""
    base = fake.base_url if fake else "http://127.0.0.1:9"
    keys: dict[str, object] = {
        "runcomfy": overrides.pop("runcomfy_key", Secret(FakeProviders.RUNCOMFY_KEY)),
        "wavespeed": overrides.pop("wavespeed_key", Secret(FakeProviders.WAVESPEED_KEY)),
    }
    values: dict[str, object] = dict(
        data_dir=data_dir,
        keys={name: key for name, key in keys.items() if key},
        base_urls={"runcomfy": base, "wavespeed": base},
        sim_queue_seconds=0.2,
        sim_run_seconds=0.3,
        poll_retry=FAST_POLLS,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_providers(settings: Settings) -> dict[str, object]:
    return {
        "runcomfy": RunComfyProvider(
            settings.base_url_for("runcomfy"),
            settings.key_for("runcomfy"),
            retry=FAST,
            poll_retry=SINGLE_TRY,
            submit_timeout=5,
        ),
        "wavespeed": WaveSpeedProvider(
            settings.base_url_for("wavespeed"),
            settings.key_for("wavespeed"),
            retry=FAST,
            poll_retry=SINGLE_TRY,
            submit_timeout=5,
        ),
        "simulator": SimulatorProvider(
            settings.provider_dir("simulator"),
            queue_seconds=settings.sim_queue_seconds,
            run_seconds=settings.sim_run_seconds,
        ),
    }


def studio_providers(settings: Settings) -> dict[str, object]:
    """The adapters as the studio builds them (the registry's `build`): a poll is one request."""
    return dict(build_providers(settings))


Build = Callable[[Settings], Mapping[str, object]]


async def started(settings: Settings, build: Build = make_providers) -> Engine:
    engine = Engine(settings, dict(build(settings)))  # type: ignore[arg-type]
    await engine.start()
    return engine


@contextlib.asynccontextmanager
async def running(settings: Settings, build: Build = make_providers) -> AsyncIterator[Engine]:
    """An engine started on `settings` (its adapters from `build`) for the body of the
    `async with`, then closed."""
    engine = await started(settings, build)
    try:
        yield engine
    finally:
        await engine.close()


def on_fake(
    tmp_path: Path, fake: FakeProviders, build: Build = make_providers, **overrides: object
) -> contextlib.AbstractAsyncContextManager[Engine]:
    """`running` with data in tmp_path/data against the fake; `overrides` as make_settings."""
    return running(make_settings(tmp_path / "data", fake, **overrides), build)


def t2v(model: str = RC_PRO_T2V, prompt: str = "a lighthouse at dawn", **options: object) -> GenerationRequest:
    return GenerationRequest(kind="t2v", model=model, prompt=prompt, options=dict(options))
