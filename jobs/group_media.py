"""A comparison's files: the image check before anything is billed, the poster mosaic of
its history entry, and the side-by-side video. Blocking (Pillow, PyAV): call these from a
worker thread (jobs/groups.py does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jobs import media
from jobs.group_blind import blind_name
from jobs.group_plan import member_error
from jobs.group_store import GroupRecord
from jobs.mosaic import make_poster_mosaic
from jobs.records import JobRecord
from jobs.settings import Settings
from jobs.side_by_side import MAX_VIDEOS, MIN_VIDEOS, CellLabel, render_side_by_side
from providers import catalog
from providers.base import ValidationError
from providers.catalog import ModelSpec
from providers.registry import Registry

if TYPE_CHECKING:
    from jobs.group_views import GroupView

Progress = Callable[[float], None]


def check_image(image: Path, spec: ModelSpec, fit: bool, label: str) -> None:
    """Refuse an image this model cannot take (and 'Fit image' cannot repair), naming the
    model, before anything is reserved."""
    if not image.is_file():
        raise ValidationError("image", "Image: the uploaded file is missing; upload it again.")
    report = media.preflight(image, spec.image_rules or catalog.IMAGE_RULES)
    if not report.ok and not (fit and report.fixable):
        # Coded like a single job's refusal (jobs/image_fit.py), so a page says the findings
        # in its own language; the member's name is said around them.
        found = ValidationError("image", report.summary(), code="image_report", report=report, summary=report.summary())
        raise member_error(found, label, spec.id)


def poster_mosaic(settings: Settings, group: GroupRecord, jobs: Sequence[JobRecord | None]) -> Path:
    """The members' posters tiled into one WebP (a missing one is a neutral tile)."""
    posters = [Path(j.poster_path) if j is not None and j.poster_path else None for j in jobs]
    return make_poster_mosaic(posters, settings.posters_dir / f"group_{group.id}.webp")


def labels(registry: Registry, current: GroupView, hidden: bool) -> list[CellLabel]:
    """What each finished member's cell says: model, provider, time to result, price (in
    blind mode only a letter until the pick)."""
    found = []
    for index, job in enumerate(current.jobs):
        if job is None or job.state != "succeeded" or not job.video_path:
            continue
        member = current.group.members[index]
        seconds = job.finished_at - job.created_at if job.finished_at else None
        if hidden:
            found.append(CellLabel(blind_name(index), "", seconds, None))  # a price would name the model
            continue
        spec = registry.model_or_none(job.model)
        found.append(
            CellLabel(
                spec.label if spec else job.model,
                registry.label(job.provider),
                seconds,
                member.price_usd,
            )
        )
    return found


def side_by_side(
    settings: Settings, registry: Registry, current: GroupView, hidden: bool, progress: Progress | None
) -> Path:
    """The group's side-by-side MP4 in videos/, rendered once per set of members and names."""
    videos = [Path(job.video_path) for job in current.succeeded if job.video_path]
    if len(videos) < MIN_VIDEOS:
        raise ValidationError(
            "group_id",
            f"Side-by-side: needs at least {MIN_VIDEOS} finished videos; this comparison has {len(videos)} so far.",
        )
    if len(videos) > MAX_VIDEOS:  # cannot happen: a group has at most 6 members
        raise ValidationError("group_id", f"Side-by-side: at most {MAX_VIDEOS} videos.")
    cells = labels(registry, current, hidden)
    key = hashlib.sha256(repr((list(map(str, videos)), cells)).encode()).hexdigest()[:10]
    dest = settings.videos_dir / f"compare_{current.group.id}_{key}.mp4"
    if dest.is_file():
        if progress is not None:
            progress(1.0)
        return dest
    for old in settings.videos_dir.glob(f"compare_{current.group.id}_*.mp4"):
        old.unlink(missing_ok=True)  # a render for other members or names
    return render_side_by_side(videos, cells, dest, progress=progress).path


def remove_files(settings: Settings, group: GroupRecord) -> None:
    """The group's own files (its members' are deleted with them)."""
    (settings.posters_dir / f"group_{group.id}.webp").unlink(missing_ok=True)
    for old in settings.videos_dir.glob(f"compare_{group.id}_*.mp4"):
        old.unlink(missing_ok=True)
