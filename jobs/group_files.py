"""A comparison's files: its side-by-side MP4, a zip of its members, and deleting it with
everything it made. Runs on the engine's loop; rendering and file work in worker threads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from jobs import group_media
from jobs.group_blind import names_hidden
from jobs.group_views import require, store_of, view_of
from providers.base import ValidationError

if TYPE_CHECKING:
    from jobs.engine import Engine


async def export_side_by_side(
    engine: Engine, owner: str, group_id: str, progress: group_media.Progress | None = None
) -> Path:
    """The group's side-by-side MP4 (its finished members tiled, labelled), rendered in a
    worker thread with `progress(fraction)` (called from that thread), or the one already
    made for the same members and names. Raises ValidationError with fewer than 2 videos."""
    store = store_of(engine)
    group = require(store, owner, group_id)
    current = await view_of(engine, group)
    hidden = names_hidden(group)
    path = await asyncio.to_thread(group_media.side_by_side, engine.settings, engine.registry, current, hidden, progress)
    group.side_by_side_path = str(path)
    group.side_by_side_jobs = [job.id for job in current.succeeded]
    store.save(group)
    return path


async def export_zip(engine: Engine, owner: str, group_id: str) -> Path:
    """A zip of the group's members (videos, posters, a metadata JSON each), as the history's
    export makes it. Raises ValidationError for a group that is not the owner's."""
    group = require(store_of(engine), owner, group_id)
    present = [job_id for job_id in group.job_ids if engine.get(owner, job_id) is not None]
    return await engine.export(owner, present)


async def delete(engine: Engine, owner: str, group_id: str) -> bool:
    """Delete a finished comparison: its members (files too), its mosaic and side-by-side.
    Refused while a member runs (cancel it first)."""
    store = store_of(engine)
    group = store.get(group_id, owner)
    if group is None:
        return False
    current = await view_of(engine, group)
    if not current.finished:
        raise ValidationError("group_id", "Comparison: a member is still running; cancel it or wait for it to finish.")
    for job_id in group.job_ids:
        await engine.delete(owner, job_id)
    await asyncio.to_thread(group_media.remove_files, engine.settings, group)
    return await asyncio.to_thread(store.delete, group_id, owner)
