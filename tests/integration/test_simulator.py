"""The offline simulator behaves like a hosted provider: queue, run, succeed with a playable
file, cancel only while queued, and carry on after a restart. Time is a fake clock the tests
step, except in the one test that runs with real (short) delays."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import pytest
from PIL import Image

from providers import render, simulator
from providers.base import ProviderError, ProviderStatus, SubmitRequest
from providers.catalog import get_model, models, nominal_size
from providers.registry import ProviderConfig
from providers.simulator import SimulatorProvider

T2V = get_model("simulator/dreamina-3-0/text-to-video")
I2V = get_model("simulator/dreamina-3-0/image-to-video")
QUEUE, RUN = 3.0, 6.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(tmp_path: Path, clock: Clock) -> AsyncIterator[SimulatorProvider]:
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


def picture(path: Path, size: tuple[int, int], orientation: int | None = None) -> Path:
    image = Image.new("RGB", size, (40, 90, 160))
    image.paste((240, 200, 40), (0, 0, size[0] // 3, size[1] // 3))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, exif=exif)
    return path


# --- The lifecycle -------------------------------------------------------------------------


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


# --- Cancel ----------------------------------------------------------------------------------


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


# --- Durable -------------------------------------------------------------------------------


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


# --- Rendering once, caching, failures ----------------------------------------------------


async def test_concurrent_polls_render_once_and_the_same_request_reuses_the_video(
    sim: SimulatorProvider, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    release = threading.Event()
    real = render.render_text_to_video

    def counted(*args: object, **kwargs: object) -> Path:
        calls.append(kwargs["seed"])
        release.wait(30)  # hold the render so every poll below overlaps it
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_text_to_video", counted)
    first = await sim.submit(text_job())
    twin = await sim.submit(text_job())
    clock.advance(QUEUE)
    statuses = await asyncio.gather(*(sim.poll(rid) for rid in (first, twin) * 4))
    assert {s.state for s in statuses} == {"running"}
    release.set()
    clock.advance(RUN)
    one, two = await settle(sim, first), await settle(sim, twin)
    assert calls == [42]
    assert one.video_url == two.video_url

    other = await sim.submit(text_job(seed=43))
    clock.advance(QUEUE + RUN)
    assert (await settle(sim, other)).video_url != one.video_url
    assert calls == [42, 43]


async def test_a_random_seed_is_derived_from_the_request_id(
    sim: SimulatorProvider, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds: list[object] = []
    real = render.render_text_to_video

    def spy(*args: object, **kwargs: object) -> Path:
        seeds.append(kwargs["seed"])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_text_to_video", spy)
    ids = [await sim.submit(text_job(seed=-1)) for _ in range(2)]
    clock.advance(QUEUE + RUN)
    urls = {(await settle(sim, rid)).video_url for rid in ids}
    assert len(urls) == 2 and len(set(seeds)) == 2
    assert all(isinstance(s, int) and s >= 0 for s in seeds)


async def test_a_render_failure_fails_the_job_for_good(
    tmp_path: Path, sim: SimulatorProvider, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("disk full")

    monkeypatch.setattr(render, "render_text_to_video", broken)
    request_id = await sim.submit(text_job())
    clock.advance(QUEUE + RUN)
    status = await settle(sim, request_id)
    assert status.state == "failed" and status.error is not None
    assert status.error.kind == "job_failed" and "disk full" in status.error.message
    monkeypatch.undo()
    assert (await sim.poll(request_id)).state == "failed"
    assert (await make(tmp_path, clock).poll(request_id)).state == "failed", "recorded on disk"


# --- Image-to-video ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "orientation", "upright"),
    [((1200, 800), None, (3, 2)), ((600, 900), None, (2, 3)), ((900, 600), 6, (2, 3))],
    ids=["landscape", "portrait", "exif-rotated"],
)
async def test_an_image_job_keeps_the_image_upright_aspect_ratio(
    tmp_path: Path,
    sim: SimulatorProvider,
    clock: Clock,
    size,
    orientation,
    upright,  # type: ignore[no-untyped-def]
) -> None:
    image = picture(tmp_path / "in.jpg", size, orientation)
    request_id = await sim.submit(SubmitRequest(I2V, "slow pan", {"frames": 121, "seed": 1}, image=image))
    image.unlink()  # the simulator works from its own copy, as a provider does after upload
    clock.advance(QUEUE + RUN)
    video = video_of(await settle(sim, request_id))
    assert video["frames"] == 121 and video["codec"] == "h264"
    assert Fraction(*video["size"]) == Fraction(*upright)  # type: ignore[misc]


async def test_bad_requests_are_refused_at_submit(tmp_path: Path, sim: SimulatorProvider) -> None:
    with pytest.raises(ProviderError) as raised:
        await sim.submit(SubmitRequest(I2V, "no image", {"frames": 121}))
    assert raised.value.kind == "validation" and raised.value.field == "image"
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    with pytest.raises(ProviderError) as raised:
        await sim.submit(SubmitRequest(I2V, "bad image", {"frames": 121}, image=not_an_image))
    assert raised.value.field == "image"
    hosted = models("t2v", "runcomfy")[0]
    with pytest.raises(ProviderError) as raised:
        await sim.submit(SubmitRequest(hosted, "wrong model", {}))
    assert raised.value.field == "model"


async def test_a_relative_work_dir_still_gives_an_absolute_file_url(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    provider = SimulatorProvider(
        Path("data/simulator"), queue_seconds=0, run_seconds=0, max_side=160, clock=clock
    )
    try:
        request_id = await provider.submit(text_job())
        status = await settle(provider, request_id)
        assert (
            video_of(status)["path"]
            == tmp_path / "data" / "simulator" / "videos" / Path(status.video_url or "").name
        )
    finally:
        await provider.aclose()


def test_it_needs_no_key(tmp_path: Path) -> None:
    provider = SimulatorProvider(tmp_path)
    assert provider.name == "simulator" and provider.has_key()
    assert not tmp_path.joinpath("jobs").exists(), "constructing it touches no disk"


async def test_a_job_that_cannot_be_saved_is_refused_not_half_made(tmp_path: Path, clock: Clock) -> None:
    blocker = tmp_path / "sim"
    blocker.write_text("a file where the folder should be")
    provider = make(tmp_path, clock)
    with pytest.raises(ProviderError) as raised:
        await provider.submit(text_job())
    assert raised.value.kind == "server"


async def test_files_older_than_the_retention_period_are_pruned(tmp_path: Path) -> None:
    import os

    provider = SimulatorProvider(tmp_path, queue_seconds=0, run_seconds=0, retention_seconds=100)
    old = tmp_path / "videos" / "old.mp4"
    fresh = tmp_path / "jobs" / "sim-fresh.json"
    for path in (old, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    os.utime(old, (1_000.0, 1_000.0))
    assert provider.prune(now=fresh.stat().st_mtime + 50) == 1
    assert not old.exists() and fresh.exists()
    await provider.aclose()


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
