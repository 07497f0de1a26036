"""What the RunComfy adapter's tests share: the model and key constants, a sleep that only records, the
adapter against the local fake RunComfy API, and helpers that read what the fake received."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from providers.base import ProviderStatus, Secret, SubmitRequest
from providers.catalog import get_model
from providers.http import RetryPolicy
from providers.runcomfy import RunComfyProvider
from tests.fakes.server import FakeProviders

RC = "runcomfy/bytedance/dreamina-3-0"


KEY = Secret(FakeProviders.RUNCOMFY_KEY)


FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)


PROMPT = "a paper boat drifting down a rain-soaked street, golden hour"


class SleepLog:
    """An injected sleep: records each backoff delay, waits for none of them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def write_image(path: Path, fmt: str) -> Path:
    Image.new("RGB", (640, 360), (30, 90, 160)).save(path, format=fmt)
    return path


@pytest.fixture(name="sleep")
def sleep_fixture() -> SleepLog:
    return SleepLog()


@pytest.fixture(name="runcomfy")
async def runcomfy_fixture(fake_providers: FakeProviders, sleep: SleepLog) -> AsyncIterator[RunComfyProvider]:
    provider = RunComfyProvider(
        fake_providers.base_url, KEY, retry=FAST_RETRY, request_timeout=5.0, submit_timeout=5.0, sleep=sleep
    )
    yield provider
    await provider.aclose()


def request(
    model: str, *, prompt: str = PROMPT, image: Path | None = None, **options: int | str
) -> SubmitRequest:
    return SubmitRequest(spec=get_model(f"{RC}/{model}"), prompt=prompt, options=options, image=image)


def ops(fake: FakeProviders, op: str) -> int:
    return len([r for r in fake.requests if r.provider == "runcomfy" and r.op == op])


async def run_to_end(
    provider: RunComfyProvider, request_id: str, key: Secret | None = None
) -> list[ProviderStatus]:
    seen: list[ProviderStatus] = []
    for _ in range(300):
        status = await provider.poll(request_id, key)
        seen.append(status)
        if status.state in ("succeeded", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"job never finished; last state {seen[-1].state}")
