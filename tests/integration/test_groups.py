"""Comparisons (jobs/groups.py) against the local fake providers and the simulator: the
members run in parallel with one prompt and seed, takes get distinct seeds, the group is
reserved whole or refused whole, a failing member leaves the others, a restart resumes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest

from jobs import group_blind, group_files, group_views, groups
from jobs.engine import Engine, QuotaError
from jobs.group_plan import CompareRequest, option_plan
from jobs.group_store import GroupStore
from providers.base import ValidationError
from tests.fakes import FakeProviders
from tests.integration.test_engine import RC_PRO_T2V, SIM_T2V, WS_T2V_720, make_settings, started

THREE = (RC_PRO_T2V, WS_T2V_720, SIM_T2V)
PROMPT = "a red kite over green hills"


def compare(*models: str, **changes: object) -> CompareRequest:
    values: dict[str, object] = {"kind": "t2v", "prompt": PROMPT, "models": tuple(models or THREE)}
    values.update(changes)
    return CompareRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
async def engine(tmp_path: Path, fake_providers: FakeProviders) -> AsyncIterator[Engine]:
    eng = await started(make_settings(tmp_path / "data", fake_providers, sim_queue_seconds=0.3, sim_run_seconds=1.0))
    yield eng
    await eng.close()


async def finished(engine: Engine, owner: str, group_id: str, timeout: float = 60) -> group_views.GroupView:
    async def drain() -> None:
        async for _ in group_views.updates(engine, owner, group_id):
            pass

    await asyncio.wait_for(drain(), timeout)
    found = await group_views.view(engine, owner, group_id)
    assert found is not None
    return found


async def test_three_models_on_two_providers_and_the_simulator_run_at_once_with_one_prompt_and_seed(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    # Members of several seconds, so the ratio measures parallelism, not the start-up's
    # few tenths of a second (checks, a price quote, the reservation's fsync).
    fake_providers.set_timing(queue_seconds=1.0, run_seconds=3.0)
    began = time.monotonic()
    started_view = await groups.start(engine, "alice", compare(seed=4242, options={"aspect_ratio": "16:9"}))
    done = await finished(engine, "alice", started_view.group.id)
    wall = time.monotonic() - began

    assert [j.state for j in done.jobs if j] == ["succeeded"] * 3
    slowest = max(j.finished_at - j.created_at for j in done.jobs if j and j.finished_at)
    total = sum(j.finished_at - j.created_at for j in done.jobs if j and j.finished_at)
    assert wall <= 1.3 * slowest, (wall, slowest, total)  # parallel: not the sum
    sent = [r.json for r in fake_providers.submits()]
    assert len(sent) == 2
    assert all(body["prompt"] == PROMPT and body["seed"] == 4242 for body in sent), sent
    simulated = next(j for j in done.jobs if j and j.provider == "simulator")
    assert simulated.seed == 4242 and simulated.prompt == PROMPT
    assert {j.group_id for j in done.jobs if j} == {done.group.id}
    assert all(j.options.get("aspect_ratio") == "16:9" for j in done.jobs if j)
    assert done.group.poster_path and Path(done.group.poster_path).read_bytes()[8:12] == b"WEBP"


async def test_takes_send_distinct_seeds_and_models_share_each_takes_seed(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fixed = await groups.start(engine, "alice", compare(WS_T2V_720, takes=3, seed=100))
    assert [m.seed for m in fixed.group.members] == [100, 101, 102]
    assert sorted(r.json["seed"] for r in fake_providers.submits("wavespeed")) == [100, 101, 102]

    shared = await groups.start(engine, "alice", compare(RC_PRO_T2V, WS_T2V_720, takes=2))
    seeds = {(m.model, m.take): m.seed for m in shared.group.members}
    assert seeds[(RC_PRO_T2V, 1)] == seeds[(WS_T2V_720, 1)] != seeds[(RC_PRO_T2V, 2)] == seeds[(WS_T2V_720, 2)]
    await finished(engine, "alice", fixed.group.id)
    await finished(engine, "alice", shared.group.id)


async def test_a_group_over_a_money_limit_sends_nothing_and_says_which_limit(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    eng = await started(make_settings(tmp_path / "data", fake_providers, max_usd_per_day=0.70))
    try:
        one = await groups.quote(eng, compare(RC_PRO_T2V, WS_T2V_720))
        assert one.total_usd > 0.70 and len(one.members) == 2
        with pytest.raises(QuotaError) as refused:
            await groups.start(eng, "alice", compare(RC_PRO_T2V, WS_T2V_720))
        assert refused.value.limit == "STUDIO_MAX_USD_PER_DAY" and "these 2 videos cost" in refused.value.message
        assert fake_providers.submits() == []
        assert eng.spend(None)["jobs"] == 0
        assert GroupStore(eng.store).all("alice") == []
        # The same limit lets a group within it through, every member reserved at once.
        fine = await groups.start(eng, "alice", compare(WS_T2V_720, SIM_T2V))
        assert len(fake_providers.submits()) == 1 and len(fine.group.members) == 2
        await finished(eng, "alice", fine.group.id)
    finally:
        await eng.close()


async def test_one_member_failing_leaves_the_others_and_the_group_intact(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=400)  # a definite refusal
    view = await groups.start(engine, "alice", compare(seed=9))
    done = await finished(engine, "alice", view.group.id)
    states = {j.provider: j.state for j in done.jobs if j}
    assert states == {"runcomfy": "succeeded", "wavespeed": "failed", "simulator": "succeeded"}
    failed = next(j for j in done.jobs if j and j.state == "failed")
    assert failed.error_message and failed.group_id == view.group.id
    assert engine.spend(None)["jobs"] == 2  # the refused member's reservation was freed

    # Retry the failed cell alone: a new job in the same place, the others untouched.
    again = await groups.retry(engine, "alice", view.group.id, failed.id)
    assert again.group.members[1].job_id != failed.id and again.group.job_ids[0] == view.group.job_ids[0]
    done = await finished(engine, "alice", view.group.id)
    assert [j.state for j in done.jobs if j] == ["succeeded"] * 3
    assert done.jobs[1] is not None and done.jobs[1].seed == 9


async def test_bad_input_names_the_model_and_field_before_anything_is_billed(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    cases = [
        (compare(per_model={WS_T2V_720: {"duration": 7}}), "duration", "WaveSpeedAI"),
        (compare(options={"aspect_ratio": "4:5"}), "aspect_ratio", "RunComfy"),
        (compare(RC_PRO_T2V), "models", "2 to 6"),
        (compare(RC_PRO_T2V, RC_PRO_T2V), "models", "twice"),
        (compare(takes=3), "models", "is 9"),
        (compare(seed="abc"), "seed", "Seed"),
        (compare(options={"frames": 121}, models=(WS_T2V_720, "wavespeed/bytedance/dreamina-v3.0/text-to-video-1080p")), "frames", "none of"),
    ]
    for request, field, words in cases:
        with pytest.raises(ValidationError) as refused:
            await groups.start(engine, "alice", request)
        assert refused.value.field == field and words in refused.value.message, (field, refused.value.message)
    assert fake_providers.submits() == [] and engine.spend(None)["jobs"] == 0


def test_shared_options_are_those_every_chosen_model_takes_with_their_common_choices() -> None:
    from providers.registry import builtin_registry

    plan = option_plan(builtin_registry(), THREE)
    assert list(plan.shared) == ["aspect_ratio"]
    assert "4:5" not in (plan.shared["aspect_ratio"].choices or ())  # RunComfy Pro lacks it
    assert [p.name for p in plan.per_model[RC_PRO_T2V]] == ["frames"]
    assert [p.name for p in plan.per_model[WS_T2V_720]] == ["duration"]
    assert [p.name for p in plan.per_model[SIM_T2V]] == ["frames", "resolution"]


async def test_a_restart_mid_group_resumes_every_member_and_the_group_reopens(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=1.0, run_seconds=1.0)
    settings = make_settings(tmp_path / "data", fake_providers, sim_queue_seconds=1.0, sim_run_seconds=1.0)
    first = await started(settings)
    view = await groups.start(first, "alice", compare(seed=5))
    assert all(j and j.state == "queued" for j in view.jobs)
    await first.close()  # the studio stops with every member still queued

    second = await started(settings)
    try:
        done = await finished(second, "alice", view.group.id)
        assert [j.state for j in done.jobs if j] == ["succeeded"] * 3
        assert done.group.job_ids == view.group.job_ids and len(fake_providers.submits()) == 2
        path = await group_files.export_side_by_side(second, "alice", view.group.id)
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    finally:
        await second.close()


async def test_blind_mode_hides_the_names_until_the_pick_then_shows_them(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    from jobs import group_media
    from ui import compare_grid

    view = await groups.start(engine, "alice", compare(blind=True, seed=3))
    done = await finished(engine, "alice", view.group.id)
    assert group_blind.names_hidden(done.group)
    heads = [compare_grid.cell_head(engine.registry, done.group, i, job) for i, job in enumerate(done.jobs)]
    assert ["Model A" in heads[0], "Model B" in heads[1], "Model C" in heads[2]] == [True] * 3
    assert not any(word in head for head in heads for word in ("RunComfy", "WaveSpeedAI", "Simulator"))
    hidden = group_media.labels(engine.registry, done, hidden=True)
    assert [label.model for label in hidden] == ["Model A", "Model B", "Model C"]
    assert all(label.provider == "" and label.seconds and label.price_usd is None for label in hidden)
    assert not any("$" in head for head in heads)  # a price would say which model it is

    picked = group_views.pick(engine, "alice", view.group.id, done.group.job_ids[2])
    assert picked.pick == done.group.job_ids[2] and not group_blind.names_hidden(picked)
    shown = group_media.labels(engine.registry, await group_views.view(engine, "alice", view.group.id), hidden=False)  # type: ignore[arg-type]
    assert {label.provider for label in shown} == {"RunComfy", "WaveSpeedAI", "Simulator (offline)"}
    by_provider = {label.provider: label for label in shown}
    assert by_provider["WaveSpeedAI"].price_usd == 0.30 and by_provider["Simulator (offline)"].price_usd == 0
    rows = group_views.tally(engine, "alice")
    winner = next(row for row in rows if row.picks)
    assert winner.model == done.group.members[2].model and rows[0] == winner
    assert all(row.runs == 1 and row.median_seconds for row in rows)


async def test_a_group_exports_and_deletes_as_a_whole_and_its_members_are_jobs_in_history(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    import zipfile

    from jobs.records import HistoryQuery

    view = await groups.start(engine, "alice", compare(RC_PRO_T2V, WS_T2V_720))
    done = await finished(engine, "alice", view.group.id)
    by_model = engine.history("alice", HistoryQuery(model=WS_T2V_720)).items
    assert [job.id for job in by_model] == [done.group.job_ids[1]]  # history filters see members
    archive = await group_files.export_zip(engine, "alice", view.group.id)
    with zipfile.ZipFile(archive) as opened:
        assert sum(name.endswith(".mp4") for name in opened.namelist()) == 2
    with pytest.raises(ValidationError):
        await group_files.export_zip(engine, "bob", view.group.id)  # another owner's group is not found
    movie = await group_files.export_side_by_side(engine, "alice", view.group.id)
    assert await group_files.delete(engine, "alice", view.group.id)
    assert await group_views.view(engine, "alice", view.group.id) is None
    assert all(engine.get("alice", job_id) is None for job_id in done.group.job_ids)
    assert not movie.exists() and not Path(done.group.poster_path or "x").exists()


async def test_an_image_to_video_comparison_checks_the_image_for_every_model_before_billing(
    tmp_path: Path, engine: Engine, fake_providers: FakeProviders
) -> None:
    from tests.images import good_jpeg, webp_still

    rc_i2v = "runcomfy/bytedance/dreamina-3-0/pro/image-to-video"
    sim_i2v = "simulator/dreamina-3-0/image-to-video"
    with pytest.raises(ValidationError) as refused:
        await groups.start(engine, "alice", compare(rc_i2v, sim_i2v, kind="i2v", image=str(webp_still(tmp_path))))
    assert refused.value.field == "image" and "RunComfy" in refused.value.message
    with pytest.raises(ValidationError) as missing:
        await groups.start(engine, "alice", compare(rc_i2v, sim_i2v, kind="i2v"))
    assert missing.value.field == "image"
    with pytest.raises(ValidationError) as wrong_kind:
        await groups.start(engine, "alice", compare(RC_PRO_T2V, sim_i2v, kind="i2v", image=str(good_jpeg(tmp_path))))
    assert wrong_kind.value.field == "models" and "is not an image-to-video model" in wrong_kind.value.message
    assert fake_providers.submits() == [] and engine.spend(None)["jobs"] == 0

    view = await groups.start(
        engine, "alice", compare(rc_i2v, sim_i2v, kind="i2v", takes=2, seed=11, image=str(good_jpeg(tmp_path)))
    )
    done = await finished(engine, "alice", view.group.id)
    assert [j.state for j in done.jobs if j] == ["succeeded"] * 4
    inputs = {j.input_image for j in done.jobs if j}
    assert len(inputs) == 4 and all(path and Path(path).is_file() for path in inputs)  # each job its own copy
    assert sorted(r.json["seed"] for r in fake_providers.submits("runcomfy")) == [11, 12]


async def test_a_group_is_one_history_entry_and_its_members_are_listed_by_the_filters(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    from jobs.records import GenerationRequest, HistoryQuery

    plain = await engine.submit("alice", GenerationRequest(kind="t2v", model=SIM_T2V, prompt="a lone sailing boat"))
    view = await groups.start(engine, "alice", compare(RC_PRO_T2V, WS_T2V_720))
    done = await finished(engine, "alice", view.group.id)
    await engine.wait("alice", plain.id, timeout=30)

    entries = engine.history("alice", HistoryQuery(one_per_group=True, state="succeeded"))
    assert [job.group_id for job in entries.items] == [done.group.id, None]  # the group, then the plain job
    assert entries.total == 2
    assert entries.items[0].id in done.group.job_ids
    members = engine.history("alice", HistoryQuery(state="succeeded"))
    assert members.total == 3 and {j.id for j in members.items} == {*done.group.job_ids, plain.id}
    assert [j.id for j in engine.history("alice", HistoryQuery(one_per_group=True, text="kite")).items] == [
        entries.items[0].id
    ]


async def test_a_blind_groups_members_are_not_listed_by_model_until_the_pick(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    from jobs.records import HistoryQuery

    view = await groups.start(engine, "alice", compare(blind=True))
    done = await finished(engine, "alice", view.group.id)
    by_model = HistoryQuery(model=WS_T2V_720)
    assert engine.history("alice", by_model).items == [] and engine.history("alice", by_model).total == 0
    assert engine.history("alice", HistoryQuery(state="")).items == []
    assert len(engine.history("alice", HistoryQuery(one_per_group=True)).items) == 1  # the group's entry
    letters = group_views.blind_letters(engine, "alice", [j for j in done.jobs if j])
    assert sorted(letters.values()) == ["A", "B", "C"]

    group_views.pick(engine, "alice", view.group.id, done.group.job_ids[0])
    assert [j.model for j in engine.history("alice", by_model).items] == [WS_T2V_720]
    assert group_views.blind_letters(engine, "alice", [j for j in done.jobs if j]) == {}


async def test_a_provider_without_a_key_is_refused_in_the_pages_language_and_a_members_refusal_keeps_its_code(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    from jobs.group_plan import plan_members
    from jobs.group_store import GroupRecord, Member
    from ui.compare_grid import member_error_text
    from ui.i18n import error_text

    eng = await started(make_settings(tmp_path / "data", fake_providers, wavespeed_key=None))
    try:
        with pytest.raises(ValidationError) as caught:  # the whole group, before anything is reserved
            await groups.start(eng, "alice", compare(RC_PRO_T2V, WS_T2V_720, SIM_T2V))
        assert "Needs WAVESPEED_API_KEY" in caught.value.message
        french = error_text("fr", caught.value)
        assert "il faut WAVESPEED_API_KEY" in french and "Needs" not in french

        # A member refused at its send (its key gone since the check) keeps the refusal's code.
        (planned, *_) = [m for m in plan_members(eng.registry, compare(WS_T2V_720, SIM_T2V)) if m.spec.id == WS_T2V_720]
        member = Member("m1", WS_T2V_720)
        group = GroupRecord(id="g1", owner="alice", kind="t2v", prompt=PROMPT, created_at=time.time(), members=[member])
        await groups._send(eng, "alice", group, member, planned.request, None, None)
        assert member.error and member.error_code == "provider_not_ready"
        said = member_error_text(GroupRecord.from_dict(group.to_dict()).members[0], "fr")  # as stored
        assert "Il faut WAVESPEED_API_KEY" in said and "Needs" not in said
    finally:
        await eng.close()
