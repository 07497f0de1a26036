"""What the WaveSpeedProvider integration tests share (test_wavespeed_submit.py and
test_wavespeed_polling.py): the model prefixes, key and quick retry policy, an injected sleep that
records backoff delays, the `sleep`, `wavespeed` and `png` fixtures (each test module imports them),
and one-line requests, request counts, envelopes and a poll-to-the-end loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from providers.base import ProviderStatus, Secret, SubmitRequest
from providers.catalog import get_model
from providers.http import RetryPolicy
from providers.wavespeed import WaveSpeedProvider
from tests.fakes.server import FakeProviders

WS = "wavespeed/bytedance/dreamina-v3.0"
WS_PRO = "wavespeed/bytedance/dreamina-v3.0-pro"
KEY = Secret(FakeProviders.WAVESPEED_KEY)
FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)
PROMPT = "slow dolly-in on a lighthouse at dusk, waves breaking"


class SleepLog:
    """An injected sleep: records each backoff delay, waits for none of them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture(name="sleep")
def sleep_fixture() -> SleepLog:
    return SleepLog()


@pytest.fixture(name="wavespeed")
async def wavespeed_fixture(
    fake_providers: FakeProviders, sleep: SleepLog
) -> AsyncIterator[WaveSpeedProvider]:
    provider = WaveSpeedProvider(
        fake_providers.base_url, KEY, retry=FAST_RETRY, request_timeout=5.0, submit_timeout=5.0, sleep=sleep
    )
    yield provider
    await provider.aclose()


@pytest.fixture(name="png")
def png_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "input.png"
    Image.new("RGB", (640, 360), (200, 120, 40)).save(path, format="PNG")
    return path


def request(
    model: str, *, prompt: str = PROMPT, image: Path | None = None, **options: int | str
) -> SubmitRequest:
    return SubmitRequest(spec=get_model(model), prompt=prompt, options=options, image=image)


def ops(fake: FakeProviders, op: str) -> int:
    return len([r for r in fake.requests if r.provider == "wavespeed" and r.op == op])


def envelope(data: object, code: int = 200, message: str = "success") -> dict[str, object]:
    return {"code": code, "message": message, "data": data}


async def run_to_end(provider: WaveSpeedProvider, request_id: str) -> list[ProviderStatus]:
    seen: list[ProviderStatus] = []
    for _ in range(300):
        status = await provider.poll(request_id)
        seen.append(status)
        if status.state in ("succeeded", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"job never finished; last state {seen[-1].state}")
