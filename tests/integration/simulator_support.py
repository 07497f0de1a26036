"""What the simulator's tests share: the two simulated models, a clock the tests move by hand, the
simulator on a temporary folder, and helpers that submit a job, let it settle and read its video."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import pytest

from providers.base import ProviderStatus, SubmitRequest
from providers.catalog import get_model
from providers.simulator import SimulatorProvider

T2V = get_model("simulator/dreamina-3-0/text-to-video")


QUEUE, RUN = 3.0, 6.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="sim")
async def sim_fixture(tmp_path: Path, clock: Clock) -> AsyncIterator[SimulatorProvider]:
    provider = make(tmp_path, clock)
    yield provider
    await provider.aclose()


def make(tmp_path: Path, clock: Clock, queue_length: int = 3) -> SimulatorProvider:
    """A simulator with three made-up strangers' jobs in line (the countdown tests)."""
    return SimulatorProvider(
        tmp_path / "sim",
        queue_seconds=QUEUE,
        run_seconds=RUN,
        queue_length=queue_length,
        max_side=320,
        clock=clock,
    )


def text_job(prompt: str = "a lighthouse at dawn", **options: object) -> SubmitRequest:
    values: dict[str, object] = {"aspect_ratio": "16:9", "frames": 121, "resolution": "720P", "seed": 42}
    values.update(options)
    return SubmitRequest(spec=T2V, prompt=prompt, options=values)  # type: ignore[arg-type]


async def settle(provider: SimulatorProvider, request_id: str) -> ProviderStatus:
    """Poll until the job leaves queued/running (the render runs on a real thread)."""
    give_up = time.monotonic() + 30  # a bound against hanging, not a timing assertion
    while True:
        status = await provider.poll(request_id)
        if status.state not in ("queued", "running") or time.monotonic() > give_up:
            return status
        await asyncio.sleep(0.01)


def video_of(status: ProviderStatus) -> dict[str, object]:
    assert status.state == "succeeded", status
    assert status.video_url and status.video_url.startswith("file://")
    path = Path(unquote(urlparse(status.video_url).path))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "path": path,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "frames": frames,
        }
