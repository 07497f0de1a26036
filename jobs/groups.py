"""Comparisons ("groups"): one prompt (and image) sent at once to 2 to 6 members, several
models across providers, N takes of one model with different seeds, or both.

The whole group is checked before anything is billed: every member's model, prompt,
options and image (a refusal names the model and the field), every provider's key, and
then every member's price is reserved against every money limit in ONE ledger transaction
(jobs/limits.py `reserve_many`): the group runs whole or is refused whole, with the reason.
The group row is written durably, then each member is sent as an ordinary job that names
its group (Engine.submit with a GroupSlot), all at once, so the group takes as long as its
slowest member, not their sum. A member that fails leaves the others running.

Fairness and shared options: jobs/group_plan.py.

Everything here runs on the engine's loop (jobs/service.py `Studio` hops onto it) and is a
plain function of an Engine, so any front end (the page, the API, an MCP tool) calls it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import statistics
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobs import group_blind, group_media, rules
from jobs.group_blind import names_hidden
from jobs.group_plan import (
    CompareRequest,
    GroupQuote,
    MemberPrice,
    PlannedMember,
    member_label,
    plan_members,
)
from jobs.group_store import GroupPage, GroupRecord, GroupStore, Member
from jobs.limits import Reservation
from jobs.records import GenerationRequest, GroupSlot, JobRecord
from providers import catalog
from providers.base import Secret, StudioError, ValidationError
from providers.money import Price

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


# --- sending ----------------------------------------------------------------------------------


def _store(engine: Engine) -> GroupStore:
    return GroupStore(engine.store)


async def _check_ready(engine: Engine, planned: Sequence[PlannedMember], keys: Mapping[str, Secret] | None) -> None:
    """Every provider has a key, and the image passes each model's rules (or 'Fit image'
    can make it): checked before anything is reserved."""
    for member in planned:
        reason = engine.provider_ready(member.spec.provider, keys)
        if reason:
            env = reason.split()[1] if reason.startswith("Needs ") else None
            raise ValidationError(
                "models", f"Models: {member_label(member.spec)}: {reason}",
                code="group_not_ready" if env else None, member=member_label(member.spec), env=env,
            )
    image = planned[0].request.image
    if image:
        fit = planned[0].request.fit_image
        for spec in {m.spec.id: m.spec for m in planned}.values():
            await asyncio.to_thread(group_media.check_image, Path(image), spec, fit, member_label(spec))


async def quote(engine: Engine, request: CompareRequest, keys: Mapping[str, Secret] | None = None) -> GroupQuote:
    """Each member's price and the total, before Generate. Raises ValidationError."""
    planned = plan_members(engine.registry, request)
    return await _quote(engine, planned, keys)


async def _quote(engine: Engine, planned: Sequence[PlannedMember], keys: Mapping[str, Secret] | None) -> GroupQuote:
    prices = await asyncio.gather(*(engine.price(m.spec.id, m.request.options, keys) for m in planned))
    return GroupQuote(
        tuple(
            MemberPrice(m.spec.id, m.take, price.usd, price.source, price.words())
            for m, price in zip(planned, prices, strict=True)
        )
    )


async def start(
    engine: Engine,
    owner: str,
    request: CompareRequest,
    keys: Mapping[str, Secret] | None = None,
    *,
    quota_key: str | None = None,
) -> GroupView:
    """Check, price, reserve (all or none) and send every member at once.

    Raises ValidationError (naming the model and field) or QuotaError (naming the limit)
    with nothing reserved or sent. Returns the group with its members' first records."""
    planned = plan_members(engine.registry, request)
    await _check_ready(engine, planned, keys)
    prices = await _quote(engine, planned, keys)
    if request.blind:
        planned = random.SystemRandom().sample(planned, len(planned))  # the position tells nothing
        order = {(p.model, p.take): p for p in prices.members}
        prices = GroupQuote(tuple(order[(m.spec.id, m.take)] for m in planned))
    group = GroupRecord(
        id=secrets.token_urlsafe(9),
        owner=owner,
        kind=request.kind,
        prompt=planned[0].request.prompt,
        created_at=engine.now(),
        takes=request.takes,
        blind=bool(request.blind),
        options={k: v for k, v in request.options.items() if not catalog.is_empty(v)},
        members=[
            Member(
                job_id=secrets.token_urlsafe(12),
                model=m.spec.id,
                take=m.take,
                seed=m.seed,
                price_usd=p.usd,
                price_source=p.source,
                options=dict(m.request.options),
            )
            for m, p in zip(planned, prices.members, strict=True)
        ],
    )
    reservations = [
        Reservation(member.job_id, m.spec.provider, m.spec.id, _price(p))
        for member, m, p in zip(group.members, planned, prices.members, strict=True)
    ]
    await engine.reserve_group(owner, quota_key, reservations)  # QuotaError: nothing reserved
    try:
        await asyncio.to_thread(_store(engine).insert, group)
    except BaseException:
        for member in group.members:
            engine.release(member.job_id)
        raise
    log.info("group %s: %d members", group.id, len(group.members))
    await asyncio.gather(
        *(_send(engine, owner, group, member, m.request, keys, quota_key) for member, m in zip(group.members, planned, strict=True))
    )
    if any(member.error for member in group.members):
        _store(engine).save(group)
    return await view_of(engine, group)


def _price(member: MemberPrice) -> Price:
    return Price(member.usd, member.source)  # type: ignore[arg-type]


async def _send(
    engine: Engine,
    owner: str,
    group: GroupRecord,
    member: Member,
    request: GenerationRequest,
    keys: Mapping[str, Secret] | None,
    quota_key: str | None,
) -> None:
    """Send one member under its reserved slot; a refusal before its row exists is kept
    on the member (its reservation freed), so the others go on."""
    try:
        await engine.submit(owner, request, keys, quota_key=quota_key, slot=GroupSlot(group.id, member.job_id))
    except StudioError as exc:
        engine.release(member.job_id)
        member.error, member.error_code = exc.message, exc.code
        member.error_params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float | bool)}
    except Exception as exc:  # an unexpected fault before the row: nothing was sent
        log.exception("group %s: member %s could not be sent", group.id, member.job_id)
        engine.release(member.job_id)
        member.error = f"Could not be sent ({type(exc).__name__})."
        member.error_code, member.error_params = "member_not_sent", {"fault": type(exc).__name__}


async def retry(
    engine: Engine,
    owner: str,
    group_id: str,
    job_id: str,
    keys: Mapping[str, Secret] | None = None,
    *,
    quota_key: str | None = None,
) -> GroupView:
    """Send a failed (or never sent) member again, alone, with its own settings and seed:
    a new job in the same cell, priced and reserved like any job. The failed job stays in
    history. Raises ValidationError when the member is running or succeeded, QuotaError."""
    store = _store(engine)
    group = _require(store, owner, group_id)
    member = group.member(job_id)
    if member is None:
        raise ValidationError("job_id", f"Job: '{job_id}' is not a member of this comparison.")
    job = engine.get(owner, job_id)
    if job is not None and job.state not in ("failed", "cancelled"):
        raise ValidationError("job_id", f"Job: this member is {job.state}; only a failed one can be tried again.")
    spec = engine.registry.model(member.model)
    values = dict(member.options)
    generation = rules.build_request(
        engine.registry, group.kind, spec.id, group.prompt, values, _input_of(job), False, only_accepted=False
    )
    price = await engine.price(spec.id, generation.options, keys)
    new_id = secrets.token_urlsafe(12)
    await engine.reserve_group(owner, quota_key, [Reservation(new_id, spec.provider, spec.id, price)])
    old = Member(**{**member.__dict__})
    member.job_id, member.error, member.price_usd, member.price_source = new_id, None, price.usd, price.source
    member.error_code, member.error_params = None, {}
    if group.pick == old.job_id:
        group.pick = None
    store.save(group, durable=True)
    await _send(engine, owner, group, member, generation, keys, quota_key)
    if member.error:
        store.save(group)
    return await view_of(engine, group)


def _input_of(job: JobRecord | None) -> str | None:
    """A retried image-to-video member sends the image its first try prepared."""
    if job is None or not job.input_image or not Path(job.input_image).is_file():
        return None
    return job.input_image


# --- reading ----------------------------------------------------------------------------------


def _require(store: GroupStore, owner: str, group_id: str) -> GroupRecord:
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
            _store(engine).save(group)
    return view


async def view(engine: Engine, owner: str, group_id: str) -> GroupView | None:
    group = _store(engine).get(group_id, owner)
    return await view_of(engine, group) if group is not None else None


async def history(engine: Engine, owner: str, limit: int = 24, cursor: str | None = None) -> list[GroupView]:
    """The owner's comparisons, newest first (each reopens its grid)."""
    page: GroupPage = _store(engine).page(owner, limit, cursor)
    return [await view_of(engine, group) for group in page.items]


def pick(engine: Engine, owner: str, group_id: str, job_id: str | None) -> GroupRecord:
    """Mark `job_id` as the comparison's pick (None clears it). A blind group shows its
    model names once a pick is made."""
    store = _store(engine)
    group = _require(store, owner, group_id)
    if job_id is not None and group.member(job_id) is None:
        raise ValidationError("job_id", f"Job: '{job_id}' is not a member of this comparison.")
    group.pick = job_id
    return store.save(group, durable=True)


def blind_letters(engine: Engine, owner: str, records: Sequence[JobRecord]) -> dict[str, str]:
    """Job id -> cell letter of each record whose blind comparison has no pick yet
    (jobs/group_blind.py): what the page and the API show instead of its model."""
    return group_blind.hidden_letters(_store(engine), owner, records)


async def updates(engine: Engine, owner: str, group_id: str) -> AsyncIterator[JobRecord]:
    """Every member's current record, then each change, ending once all have finished."""
    group = _require(_store(engine), owner, group_id)
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
    for group in _store(engine).all(owner):
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


# --- files ------------------------------------------------------------------------------------


async def export_side_by_side(
    engine: Engine, owner: str, group_id: str, progress: group_media.Progress | None = None
) -> Path:
    """The group's side-by-side MP4 (its finished members tiled, labelled), rendered in a
    worker thread with `progress(fraction)` (called from that thread), or the one already
    made for the same members and names. Raises ValidationError with fewer than 2 videos."""
    store = _store(engine)
    group = _require(store, owner, group_id)
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
    group = _require(_store(engine), owner, group_id)
    present = [job_id for job_id in group.job_ids if engine.get(owner, job_id) is not None]
    return await engine.export(owner, present)


async def delete(engine: Engine, owner: str, group_id: str) -> bool:
    """Delete a finished comparison: its members (files too), its mosaic and side-by-side.
    Refused while a member runs (cancel it first)."""
    store = _store(engine)
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
