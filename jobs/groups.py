"""Comparisons ("groups"): one prompt (and image) sent at once to 2 to 6 members, several
models across providers, N takes of one model with different seeds, or both.

The whole group is checked before anything is billed: every member's model, prompt,
options and image (a refusal names the model and the field), every provider's key, and
then every member's price is reserved against every money limit in ONE ledger transaction
(jobs/limits.py `reserve_many`): the group runs whole or is refused whole, with the reason.
The group row is written durably, then each member is sent as an ordinary job that names
its group (Engine.submit with a GroupSlot), all at once, so the group takes as long as its
slowest member, not their sum. A member that fails leaves the others running.

Fairness and shared options: jobs/group_plan.py. Reading a comparison: jobs/group_views.py;
its files: jobs/group_files.py.

Everything here runs on the engine's loop (jobs/service.py `Studio` hops onto it) and is a
plain function of an Engine, so any front end (the page, the API, an MCP tool) calls it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jobs import group_media, rules
from jobs.group_plan import (
    CompareRequest,
    GroupQuote,
    MemberPrice,
    PlannedMember,
    member_label,
    plan_members,
)
from jobs.group_store import GroupRecord, Member
from jobs.group_views import GroupView, require, store_of, view_of
from jobs.limits import Reservation
from jobs.records import GenerationRequest, GroupSlot, JobRecord
from providers import catalog
from providers.base import Secret, StudioError, ValidationError
from providers.money import Price

if TYPE_CHECKING:
    from jobs.engine import Engine

log = logging.getLogger("studio.groups")


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
        await asyncio.to_thread(store_of(engine).insert, group)
    except BaseException:
        for member in group.members:
            engine.release(member.job_id)
        raise
    log.info("group %s: %d members", group.id, len(group.members))
    await asyncio.gather(
        *(_send(engine, owner, group, member, m.request, keys, quota_key) for member, m in zip(group.members, planned, strict=True))
    )
    if any(member.error for member in group.members):
        store_of(engine).save(group)
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
    store = store_of(engine)
    group = require(store, owner, group_id)
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
