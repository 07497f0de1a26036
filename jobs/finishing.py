"""Finishing a job the provider has done with: download the video to our disk, make it
browser-safe, give it a poster, mark it succeeded, keep the media folders under their cap.

Only an offline provider (the simulator) may hand over a local file; a hosted provider's
video must come from an http(s) URL, or the job fails saying so.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

import jobs.history as history_ops
import jobs.media as media
from jobs.desk import Desk
from jobs.records import JobRecord
from providers.base import ProviderError, ProviderStatus

log = logging.getLogger("studio.engine")


def check_video_url(desk: Desk, provider: str, url: str | None) -> ProviderError | None:
    """Why this output URL cannot be fetched for this provider, or None."""
    if not url:
        return ProviderError("job_failed", "The provider finished without a video.")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return None
    info = desk.registry.get(provider)
    if scheme == "file" and info is not None and info.offline:
        return None
    label = info.label if info else provider
    return ProviderError(
        "job_failed",
        f"{label} sent a video address that is not a web (http or https) address; it was not fetched.",
    )


async def save_output(desk: Desk, job_id: str, status: ProviderStatus) -> None:
    """Download the finished video to our disk, probe it, make its poster."""
    record = desk.record(job_id)
    assert record is not None
    now = desk.clock()
    settings = desk.settings
    # The local file name is fixed before the download starts, so a download cut off by
    # a crash resumes into the same partial file after a restart.
    video_path = (
        Path(record.video_path)
        if record.video_path
        else (settings.videos_dir / media.unguessable_name(".mp4"))
    )
    record = await desk.save(
        job_id,
        state="downloading",
        queue_position=None,
        remote_url=status.video_url,
        video_path=str(video_path),
        nsfw=status.nsfw,
        provider_seconds=status.inference_seconds,
        started_at=record.started_at or record.submitted_at,
        finished_at=now,
    )
    problem = check_video_url(desk, record.provider, status.video_url)
    if problem is not None or status.video_url is None:
        await desk.fail(job_id, problem or ProviderError("job_failed"))
        return
    offline = bool((info := desk.registry.get(record.provider)) and info.offline)
    try:
        # The download's own retry policy is the only retry layer: when it gives up the job
        # fails with a kind 'Check again' can resume (the file name and .part are kept).
        await media.download(
            status.video_url,
            video_path,
            max_bytes=settings.download_max_bytes,
            allow_local=offline,
            what=f"download of job {job_id}",
        )
    except ProviderError as exc:
        await desk.fail(job_id, exc)
        return
    poster = settings.posters_dir / media.unguessable_name(".webp")
    try:
        # One worker-thread trip for both (each trip back waits its turn on a busy loop).
        info_ = await asyncio.to_thread(media.playable_with_poster, video_path, poster)
    except Exception as exc:
        log.exception("could not read the video of job %s", job_id)
        await desk.fail(job_id, ProviderError("job_failed", f"The downloaded video could not be read ({exc})."))
        return
    await desk.save(
        job_id,
        state="succeeded",
        poster_path=str(poster),
        video_duration=info_.duration,
        video_width=info_.width,
        video_height=info_.height,
        video_bytes=info_.bytes,
        video_codec=info_.codec,
        saved_at=desk.clock(),
        error_kind=None,
        error_message=None,
    )
    if settings.max_data_bytes:

        def trim() -> list[JobRecord]:
            trimmed = history_ops.enforce_size_cap(desk.store, settings, {job_id})
            return [changed for other in trimmed if (changed := desk.store.get(other)) is not None]

        for changed in await asyncio.to_thread(trim):  # their rows changed too: tell anyone watching them
            desk.publish(changed)
