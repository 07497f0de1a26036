"""The offline simulator's jobs through their life: queued with a place that counts down, then running
for the run time, then succeeded with a playable video; every state seen by a poller with real short
delays; cancel while queued and not after; unknown ids; a new instance on the same folder carrying
on the same jobs; two queued jobs never sharing a place."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction
from pathlib import Path

import pytest

from providers import simulator
from providers.base import ProviderError, ProviderStatus
from providers.catalog import nominal_size
from providers.registry import ProviderConfig
from providers.simulator import SimulatorProvider
from tests.integration.simulator_support import (  # noqa: F401 (the *_fixture names are fixtures)
    QUEUE,
    RUN,
    Clock,
    clock_fixture,
    make,
    settle,
    sim_fixture,
    text_job,
    video_of,
)


async def queue_positions(
    provider: SimulatorProvider, request_id: str, clock: Clock, step: float
) -> list[int | None]:
    """Three polls, `step` seconds apart on the fake clock, each finding the job still queued:
    the places in line they report."""
    positions = []
    for _ in range(3):
        status = await provider.poll(request_id)
        assert status.state == "queued"
        positions.append(status.queue_position)
        clock.advance(step)
    return positions


async def test_a_job_is_queued_counting_down_then_runs_then_succeeds_with_a_playable_video(
    sim: SimulatorProvider, clock: Clock
) -> None:
    request_id = await sim.submit(text_job(aspect_ratio="9:16"))
    assert request_id.startswith("sim-") and len(request_id) == 36
    assert await queue_positions(sim, request_id, clock, QUEUE / 3) == [3, 2, 1]
    assert (await sim.poll(request_id)).state == "running"
    clock.advance(RUN)
    final = await settle(sim, request_id)
    video = video_of(final)
    assert video["codec"] == "h264" and video["pix_fmt"] == "yuv420p" and video["frames"] == 121
    width, height = video["size"]  # type: ignore[misc]
    assert Fraction(width, height) == Fraction(*nominal_size("720P", "9:16")) and max(width, height) <= 320
    assert final.inference_seconds == RUN
    assert await sim.poll(request_id) == final, "a finished job stays finished"


async def test_a_lone_job_on_a_fresh_simulator_is_first_in_line(tmp_path: Path, clock: Clock) -> None:
    # Seen: the first job of a fresh studio said "#2 in queue" (then #1): the simulator made
    # up strangers' jobs ahead of it. As the studio builds it (the registry's build), a lone
    # job is first in line all its queue time; a second job is behind it.
    config = ProviderConfig(key=None, base_url="", files_dir=tmp_path / "sim", queue_seconds=QUEUE, run_seconds=RUN)
    provider = simulator.build(config)
    provider.clock = clock
    try:
        first = await provider.submit(text_job("alone"))
        assert await queue_positions(provider, first, clock, QUEUE / 4) == [1, 1, 1]
        second = await provider.submit(text_job("behind it"))
        assert (await provider.poll(second)).queue_position == 2
    finally:
        await provider.aclose()


async def test_it_stays_running_until_the_run_time_is_over_even_when_the_video_is_ready(
    sim: SimulatorProvider, clock: Clock
) -> None:
    request_id = await sim.submit(text_job(frames=241))
    clock.advance(QUEUE)
    status = await settle_render(sim, request_id)
    assert status.state == "running"
    clock.advance(RUN)
    assert video_of(await sim.poll(request_id))["frames"] == 241


async def settle_render(provider: SimulatorProvider, request_id: str) -> ProviderStatus:
    """Poll (without moving the clock) until the job's video file exists."""
    give_up = time.monotonic() + 30
    while not list((provider.work_dir / "videos").glob("*.mp4")) and time.monotonic() < give_up:
        await provider.poll(request_id)
        await asyncio.sleep(0.01)
    return await provider.poll(request_id)


async def test_with_real_short_delays_a_poller_sees_every_state(tmp_path: Path) -> None:
    provider = SimulatorProvider(tmp_path, queue_seconds=0.25, run_seconds=0.25, max_side=240)
    try:
        request_id = await provider.submit(text_job())
        states = []
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            status = await provider.poll(request_id)
            if not states or states[-1] != status.state:
                states.append(status.state)
            if status.state == "succeeded":
                break
            await asyncio.sleep(0.005)
        assert states == ["queued", "running", "succeeded"]
        assert video_of(status)["frames"] == 121
    finally:
        await provider.aclose()


async def test_a_queued_job_can_be_cancelled_and_stays_cancelled_without_rendering(
    sim: SimulatorProvider, clock: Clock
) -> None:
    request_id = await sim.submit(text_job())
    clock.advance(QUEUE / 2)
    assert await sim.cancel(request_id) == "cancelled"
    clock.advance(QUEUE + RUN)
    assert (await sim.poll(request_id)).state == "cancelled"
    assert await sim.cancel(request_id) == "cancelled", "asking again gives the same answer"
    assert not (sim.work_dir / "videos").exists()


async def test_a_running_or_finished_job_cannot_be_cancelled(sim: SimulatorProvider, clock: Clock) -> None:
    request_id = await sim.submit(text_job())
    clock.advance(QUEUE + 0.1)
    assert await sim.cancel(request_id) == "not_cancellable"
    assert (await sim.poll(request_id)).state == "running"
    clock.advance(RUN)
    assert (await settle(sim, request_id)).state == "succeeded"
    assert await sim.cancel(request_id) == "not_cancellable"


async def test_unknown_and_malformed_request_ids_are_not_found(sim: SimulatorProvider) -> None:
    for request_id in ("sim-" + "0" * 32, "sim-../../etc/passwd", "", "abc"):
        with pytest.raises(ProviderError) as raised:
            await sim.poll(request_id)
        assert raised.value.kind == "not_found"
        with pytest.raises(ProviderError):
            await sim.cancel(request_id)


async def test_a_new_instance_on_the_same_folder_carries_on_the_same_jobs(
    tmp_path: Path, clock: Clock
) -> None:
    before = make(tmp_path, clock)
    running = await before.submit(text_job("already running"))
    clock.advance(QUEUE * 0.75)
    queued = await before.submit(text_job("still queued"))
    cancelled = await before.submit(text_job("cancelled before the restart"))
    assert await before.cancel(cancelled) == "cancelled"
    clock.advance(QUEUE * 0.5)
    assert (await before.poll(running)).state == "running"  # its render may be in flight
    assert (await before.poll(queued)).queue_position == 2
    await before.aclose()  # the process "exits"

    after = make(tmp_path, clock)
    try:
        status = await after.poll(queued)
        assert status.state == "queued" and status.queue_position == 2
        assert (await after.poll(running)).state == "running"
        assert (await after.poll(cancelled)).state == "cancelled"
        clock.advance(RUN + QUEUE)
        assert video_of(await settle(after, running))["frames"] == 121
        assert video_of(await settle(after, queued))["frames"] == 121
    finally:
        await after.aclose()


async def test_two_queued_jobs_never_share_a_place_in_line(sim: SimulatorProvider, clock: Clock) -> None:
    first = await sim.submit(text_job("first"))
    clock.advance(QUEUE / 10)
    second = await sim.submit(text_job("second"))
    for _ in range(4):
        a, b = await sim.poll(first), await sim.poll(second)
        if a.state != "queued":
            break
        assert b.queue_position is not None and a.queue_position is not None
        assert b.queue_position > a.queue_position >= 1
        clock.advance(QUEUE / 5)
