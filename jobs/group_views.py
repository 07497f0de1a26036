"""A comparison as its callers read it: the group with its members' job records (its poster
mosaic made once every member has finished), the owner's past comparisons, each member's
updates, the pick, the letters a blind comparison shows, and the tally per model.

Sending a comparison is jobs/groups.py; its files (exports, deletion) jobs/group_files.py.
Everything here runs on the engine's loop (jobs/service.py `Studio` hops onto it).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobs import group_blind, group_media
from jobs.group_store import GroupPage, GroupRecord, GroupStore
from jobs.records import JobRecord
from providers.base import ValidationError

if TYPE_CHECKING:
    from jobs.engine import Engine

log = logging.getLogger("studio.groups")


@dataclass
class GroupView:
    """A group with its members' job records (None for a member with no job: never sent,
    or deleted since)."""

    group: GroupRecord
    jobs: list[JobRecord | None]

    @property
    def finished(self) -> bool:
        return all(job is None or job.terminal for job in self.jobs)

    @property
    def succeeded(self) -> list[JobRecord]:
        return [job for job in self.jobs if job is not None and job.state == "succeeded" and job.video_path]


@dataclass(frozen=True)
class TallyRow:
    """One model's line in the local tally of comparisons."""

    model: str
    runs: int
    picks: int
    median_seconds: float | None
    median_usd: float | None



def store_of(engine: Engine) -> GroupStore:
    return GroupStore(engine.store)


def require(store: GroupStore, owner: str, group_id: str) -> GroupRecord:
    group = store.get(group_id, owner)
    if group is None:
        raise ValidationError("group_id", f"Comparison: no comparison '{group_id}' in your history.")
    return group


async def view_of(engine: Engine, group: GroupRecord) -> GroupView:
    """The group with its members' records; once every member has finished, its poster
    mosaic is made (in a worker thread) if it is missing."""
    jobs = [engine.get(group.owner, job_id) for job_id in group.job_ids]
    view = GroupView(group, jobs)
    if view.finished and not (group.poster_path and Path(group.poster_path).is_file()):
        try:
            path = await asyncio.to_thread(group_media.poster_mosaic, engine.settings, group, jobs)
        except (OSError, ValueError) as exc:  # a poster is a nicety: the group still opens
            log.warning("group %s: no poster mosaic (%s)", group.id, exc)
        else:
            group.poster_path = str(path)
            store_of(engine).save(group)
    return view


async def view(engine: Engine, owner: str, group_id: str) -> GroupView | None:
    group = store_of(engine).get(group_id, owner)
    return await view_of(engine, group) if group is not None else None


async def history(engine: Engine, owner: str, limit: int = 24, cursor: str | None = None) -> list[GroupView]:
    """The owner's comparisons, newest first (each reopens its grid)."""
    page: GroupPage = store_of(engine).page(owner, limit, cursor)
    return [await view_of(engine, group) for group in page.items]


def pick(engine: Engine, owner: str, group_id: str, job_id: str | None) -> GroupRecord:
    """Mark `job_id` as the comparison's pick (None clears it). A blind group shows its
    model names once a pick is made."""
    store = store_of(engine)
    group = require(store, owner, group_id)
    if job_id is not None and group.member(job_id) is None:
        raise ValidationError("job_id", f"Job: '{job_id}' is not a member of this comparison.")
    group.pick = job_id
    return store.save(group, durable=True)


def blind_letters(engine: Engine, owner: str, records: Sequence[JobRecord]) -> dict[str, str]:
    """Job id -> cell letter of each record whose blind comparison has no pick yet
    (jobs/group_blind.py): what the page and the API show instead of its model."""
    return group_blind.hidden_letters(store_of(engine), owner, records)


async def updates(engine: Engine, owner: str, group_id: str) -> AsyncIterator[JobRecord]:
    """Every member's current record, then each change, ending once all have finished."""
    group = require(store_of(engine), owner, group_id)
    queue: asyncio.Queue[JobRecord] = asyncio.Queue()
    pending: set[str] = set()
    unsubscribe = []
    for job_id in group.job_ids:
        stop = engine.subscribe(owner, job_id, queue.put_nowait)
        if stop is not None:
            unsubscribe.append(stop)
            pending.add(job_id)
    try:
        while pending:
            record = await queue.get()
            yield record
            if record.terminal:
                pending.discard(record.id)
    finally:
        for stop in unsubscribe:
            stop()


def tally(engine: Engine, owner: str) -> list[TallyRow]:
    """Per model over the owner's comparisons: runs, picks, the median time to result of
    its finished runs and its median price. Most picked first."""
    runs: dict[str, int] = {}
    picks: dict[str, int] = {}
    seconds: dict[str, list[float]] = {}
    prices: dict[str, list[float]] = {}
    for group in store_of(engine).all(owner):
        for member in group.members:
            runs[member.model] = runs.get(member.model, 0) + 1
            prices.setdefault(member.model, []).append(member.price_usd)
            job = engine.get(owner, member.job_id)
            if job is not None and job.state == "succeeded" and job.finished_at:
                seconds.setdefault(member.model, []).append(job.finished_at - job.created_at)
            if group.pick == member.job_id:
                picks[member.model] = picks.get(member.model, 0) + 1
    rows = [
        TallyRow(
            model,
            count,
            picks.get(model, 0),
            statistics.median(seconds[model]) if seconds.get(model) else None,
            statistics.median(prices[model]) if prices.get(model) else None,
        )
        for model, count in runs.items()
    ]
    return sorted(rows, key=lambda row: (-row.picks, -row.runs, row.model))
