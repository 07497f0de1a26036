"""The job engine against the local fake providers and the simulator: durable, never
submits twice, lands every job in history with its video and poster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.engine import Engine, QuotaError
from jobs.records import GenerationRequest, HistoryQuery
from providers.base import ProviderError, Secret, ValidationError
from tests.fakes import FakeProviders
from tests.integration.engine_kit import (  # noqa: F401 (other test modules import them from here)
    FAST,
    RC_PRO_T2V,
    SIM_T2V,
    WS_T2V_720,
    make_providers,
    make_settings,
    on_fake,
    running,
    started,
    t2v,
)


@pytest.fixture
async def engine(tmp_path: Path, fake_providers: FakeProviders) -> AsyncIterator[Engine]:
    async with on_fake(tmp_path, fake_providers) as eng:
        yield eng


def assert_saved(record) -> None:  # type: ignore[no-untyped-def]
    assert record.state == "succeeded", (record.state, record.error_message)
    assert record.video_path and Path(record.video_path).stat().st_size > 0
    assert record.poster_path and Path(record.poster_path).read_bytes()[8:12] == b"WEBP"
    assert record.video_codec == "h264"
    assert record.video_width and record.video_height
    assert record.submitted_at and record.finished_at and record.saved_at
    assert record.created_at <= record.submitted_at <= record.finished_at <= record.saved_at


async def test_a_job_moves_through_every_state_and_lands_with_video_and_poster(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0.3, run_seconds=1.5)
    record = await engine.submit("alice", t2v(aspect_ratio="9:16", frames=241))
    assert record.state == "queued" and record.request_id
    assert 0 <= record.seed <= 2**31 - 1, "a random seed is resolved before submit"
    states = [r.state async for r in engine.updates("alice", record.id)]
    assert states[0] == "queued" and states[-1] == "succeeded"
    assert "running" in states and "downloading" in states
    final = engine.get("alice", record.id)
    assert_saved(final)
    assert final.remote_url and final.request_id == record.request_id
    sent = fake_providers.submits("runcomfy")[0].json
    assert sent["seed"] == final.seed and sent["aspect_ratio"] == "1088×1920(9:16)" and sent["frames"] == 241


async def test_the_simulator_renders_a_playable_video_without_any_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", None, runcomfy_key=None, wavespeed_key=None)
    async with running(settings) as eng:
        assert eng.provider_ready("simulator") is None
        assert "RUNCOMFY_API_TOKEN" in (eng.provider_ready("runcomfy") or "")
        record = await eng.submit("local", t2v(SIM_T2V, aspect_ratio="1:1", seed=7))
        final = await eng.wait("local", record.id, timeout=60)
        assert_saved(final)
        assert final.simulated and final.seed == 7
        assert final.video_width == final.video_height


async def test_jobs_resume_after_the_engine_is_dropped_and_are_never_resubmitted(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0.5, run_seconds=1.0)
    settings = make_settings(tmp_path / "data", fake_providers)
    first = await started(settings)
    ids = []
    for i in range(5):
        model = RC_PRO_T2V if i % 2 else WS_T2V_720
        ids.append((await first.submit("alice", t2v(model, prompt=f"job {i}"))).id)
    await asyncio.sleep(0.3)
    await first.close()  # watchers stop mid-flight; rows stay unfinished

    async with running(settings) as second:
        finals = [await second.wait("alice", job_id, timeout=60) for job_id in ids]
    for record in finals:
        assert_saved(record)
    assert len(fake_providers.submits()) == 5


async def test_fifty_concurrent_jobs_all_land_in_history(engine: Engine, fake_providers: FakeProviders) -> None:
    records = await asyncio.gather(
        *(engine.submit("bob", t2v(WS_T2V_720 if i % 2 else RC_PRO_T2V, prompt=f"shot {i}")) for i in range(50))
    )
    finals = await asyncio.gather(*(engine.wait("bob", r.id, timeout=120) for r in records))
    for record in finals:
        assert_saved(record)
    page = engine.history("bob", HistoryQuery(limit=100))
    assert {r.id for r in page.items} == {r.id for r in records}
    assert len({r.video_path for r in finals}) == 50, "every job has its own file"
    assert len(fake_providers.submits()) == 50


async def test_cancel_while_queued_cancels_at_the_provider(engine: Engine, fake_providers: FakeProviders) -> None:
    fake_providers.set_timing(queue_seconds=30, run_seconds=1)
    record = await engine.submit("alice", t2v())
    cancelled = await engine.cancel("alice", record.id)
    assert cancelled.state == "cancelled"
    assert [r.op for r in fake_providers.requests if r.op == "cancel"] == ["cancel"]
    assert fake_providers.jobs[record.request_id].state == "cancelled"


async def test_cancel_while_running_says_it_will_be_billed_and_the_job_still_lands(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0, run_seconds=1.5)
    record = await engine.submit("alice", t2v())
    async for update in engine.updates("alice", record.id):
        if update.state == "running":
            break
    after = await engine.cancel("alice", record.id)
    assert after.note and "has started" in after.note and "billed" in after.note
    final = await engine.wait("alice", record.id, timeout=30)
    assert_saved(final)
    assert final.note is None, "the cancel note is about a running job; it ends with the job"


async def test_wavespeed_has_no_cancel_so_the_user_is_told_it_runs_on(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=5, run_seconds=0.5)
    record = await engine.submit("alice", t2v(WS_T2V_720))
    after = await engine.cancel("alice", record.id)
    assert after.state != "cancelled" and "billed" in (after.note or "")
    assert "no cancel was sent" in (after.note or "") and "can no longer" not in (after.note or "")
    assert not [r for r in fake_providers.requests if r.op == "cancel"], "WaveSpeed has no cancel API"


async def test_a_refused_submit_leaves_no_row_behind(tmp_path: Path, fake_providers: FakeProviders) -> None:
    settings = make_settings(tmp_path / "data", fake_providers, runcomfy_key=Secret("wrong-key"))
    async with running(settings) as eng:
        with pytest.raises(ProviderError) as caught:
            await eng.submit("alice", t2v())
        assert caught.value.kind == "auth" and "wrong-key" not in caught.value.message
        assert eng.history("alice").items == []


async def test_an_unreachable_provider_at_submit_is_a_clear_error_and_no_row(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", None)  # port 9: nothing listens
    async with running(settings) as eng:
        with pytest.raises(ProviderError) as caught:
            await eng.submit("alice", t2v())
        assert caught.value.kind == "network"
        assert eng.history("alice").items == []


async def test_a_submit_with_unknown_outcome_is_marked_and_never_resent(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.add_fault("submit", "reset_after_submit", provider="runcomfy")
    settings = make_settings(tmp_path / "data", fake_providers)
    eng = await started(settings)
    record = await eng.submit("alice", t2v())
    assert record.state == "failed" and record.error_kind == "submit_unknown"
    assert "not sent again" in (record.error_message or "")
    await eng.close()
    again = await started(settings)  # a restart must not resubmit it either
    await asyncio.sleep(0.3)
    await again.close()
    assert len(fake_providers.submits()) == 1


async def test_a_crash_while_submitting_ends_as_outcome_unknown_on_restart(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    settings = make_settings(tmp_path / "data", fake_providers)
    eng = await started(settings)
    from jobs.records import JobRecord

    eng._store.insert(
        JobRecord(id="crashed", owner="alice", kind="t2v", model=RC_PRO_T2V, provider="runcomfy", prompt="x", created_at=1.0)
    )
    await eng.close()
    async with running(settings) as again:
        record = again.get("alice", "crashed")
        assert record.state == "failed" and record.error_kind == "submit_unknown"
    assert fake_providers.submits() == []


async def test_a_job_past_its_deadline_times_out_keeps_its_request_id_and_can_be_rechecked(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0, run_seconds=1.5)
    settings = make_settings(tmp_path / "data", fake_providers, job_deadline_seconds=0.5)
    async with running(settings) as eng:
        record = await eng.submit("alice", t2v())
        timed_out = await eng.wait("alice", record.id, timeout=30)
        assert timed_out.state == "failed" and timed_out.error_kind == "timeout"
        assert timed_out.request_id == record.request_id
        assert "Check again" in (timed_out.error_message or "")
    async with on_fake(tmp_path, fake_providers) as patient:
        await patient.recheck("alice", record.id)
        assert_saved(await patient.wait("alice", record.id, timeout=30))
    assert len(fake_providers.submits()) == 1


async def test_an_expired_output_fails_as_expired_and_keeps_the_remote_url(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    record = await engine.submit("alice", t2v(prompt="sunset [fake:expired]"))
    final = await engine.wait("alice", record.id, timeout=30)
    assert final.state == "failed" and final.error_kind == "expired"
    assert final.remote_url and final.request_id


async def test_a_moderated_job_fails_with_a_message_a_person_understands(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    record = await engine.submit("alice", t2v(WS_T2V_720, prompt="something [fake:moderation]"))
    final = await engine.wait("alice", record.id, timeout=30)
    assert final.state == "failed" and final.error_kind == "moderation"
    assert "content filter" in (final.error_message or "")


async def test_bad_input_is_refused_before_anything_is_sent(engine: Engine, fake_providers: FakeProviders) -> None:
    cases = [
        (t2v(prompt=""), "prompt"),
        (t2v(prompt="x" * 801), "prompt"),
        (t2v(seed=-2), "seed"),
        (t2v(duration=5), "duration"),
        (t2v(model="runcomfy/nope"), "model"),
        (GenerationRequest(kind="i2v", model=RC_PRO_T2V, prompt="x"), "model"),
        (GenerationRequest(kind="i2v", model="runcomfy/bytedance/dreamina-3-0/pro/image-to-video", prompt="x"), "image"),
    ]
    for request, field in cases:
        with pytest.raises(ValidationError) as caught:
            await engine.submit("alice", request)
        assert caught.value.field == field
    assert fake_providers.requests == []
    assert engine.history("alice").items == []


async def test_the_hourly_limit_refuses_the_next_job(tmp_path: Path, fake_providers: FakeProviders) -> None:
    async with on_fake(tmp_path, fake_providers, max_jobs_per_hour=2) as eng:
        await eng.submit("alice", t2v())
        await eng.submit("alice", t2v())
        with pytest.raises(QuotaError):
            await eng.submit("alice", t2v())
        await eng.submit("bob", t2v())  # the limit is per person
        assert len(fake_providers.submits()) == 3


async def test_a_key_typed_in_the_browser_is_used_but_never_stored(tmp_path: Path, fake_providers: FakeProviders) -> None:
    settings = make_settings(tmp_path / "data", fake_providers, runcomfy_key=None)
    async with running(settings) as eng:
        assert eng.provider_ready("runcomfy") is not None
        keys = {"runcomfy": Secret(FakeProviders.RUNCOMFY_KEY)}
        assert eng.provider_ready("runcomfy", keys) is None
        record = await eng.submit("alice", t2v(), keys=keys)
        assert_saved(await eng.wait("alice", record.id, timeout=30))
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert FakeProviders.RUNCOMFY_KEY.encode() not in path.read_bytes(), path


async def test_owners_cannot_see_or_touch_each_others_jobs(engine: Engine) -> None:
    record = await engine.submit("alice", t2v())
    assert engine.get("mallory", record.id) is None
    assert engine.history("mallory").items == []
    assert [r async for r in engine.updates("mallory", record.id)] == []
    with pytest.raises(ValidationError):
        await engine.cancel("mallory", record.id)
    assert await engine.delete("mallory", record.id) is False
    await engine.wait("alice", record.id, timeout=30)
    assert engine.get("alice", record.id) is not None


async def test_eta_is_the_median_of_past_runs_of_the_model(engine: Engine) -> None:
    assert engine.eta_seconds(RC_PRO_T2V) is None
    for _ in range(3):
        record = await engine.submit("alice", t2v())
        await engine.wait("alice", record.id, timeout=30)
    eta = engine.eta_seconds(RC_PRO_T2V)
    assert eta is not None and 0.2 < eta < 10


async def test_the_hourly_limit_also_binds_a_visitor_who_renews_their_owner_id(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, max_jobs_per_hour=2) as eng:
        await eng.submit("browser-1", t2v(), quota_key="ip:203.0.113.7")
        await eng.submit("browser-2", t2v(), quota_key="ip:203.0.113.7")
        with pytest.raises(QuotaError):
            await eng.submit("browser-3", t2v(), quota_key="ip:203.0.113.7")
        await eng.submit("browser-4", t2v(), quota_key="ip:198.51.100.1")  # another visitor
        assert len(fake_providers.submits()) == 3


async def test_a_provider_failing_to_answer_is_named_on_the_job_until_it_answers_again(
    engine: Engine, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0, run_seconds=0.2)
    fake_providers.add_fault("status", "status", status=500, times=5)  # one poll's every retry
    record = await engine.submit("alice", t2v())
    notes = [update.note async for update in engine.updates("alice", record.id)]
    assert any(note and "RunComfy is failing to answer (HTTP 500)" in note for note in notes), notes
    final = engine.get("alice", record.id)
    assert final is not None and final.state == "succeeded" and final.note is None
