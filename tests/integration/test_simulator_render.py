"""The offline simulator's rendering and its edges: one render for concurrent polls and a reused video
for the same request, a seed derived from the request id, a render failure failing the job for good,
an image job keeping the image upright at its aspect ratio, bad requests refused at submit, a
relative work dir, no key needed, a job that cannot be saved refused whole, and old files pruned."""

from __future__ import annotations

import asyncio
import threading
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from providers import render
from providers.base import ProviderError, SubmitRequest
from providers.catalog import get_model, models
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

I2V = get_model("simulator/dreamina-3-0/image-to-video")


def picture(path: Path, size: tuple[int, int], orientation: int | None = None) -> Path:
    image = Image.new("RGB", size, (40, 90, 160))
    image.paste((240, 200, 40), (0, 0, size[0] // 3, size[1] // 3))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, exif=exif)
    return path


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
