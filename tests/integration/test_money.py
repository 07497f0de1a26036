"""Money against the local fake: limits reserved atomically before the submit, a ledger that
deleting never refunds and a restart keeps, prices equal to the provider's quote, 429s waited
out in order, and key checks that bill nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from jobs.engine import Engine, QuotaError
from jobs.ledger import Ledger
from jobs.records import GenerationRequest
from providers.base import ProviderError, Secret
from tests.fakes import FakeProviders
from tests.fakes.money_api import run_price
from tests.fakes.schemas import schema_for
from tests.integration import engine_kit
from tests.integration.engine_kit import RC_PRO_T2V, WS_T2V_720, WS_T2V_1080, make_settings, on_fake, running


def t2v(model: str = WS_T2V_720, **kwargs: object) -> GenerationRequest:
    """A text-to-video request; WaveSpeedAI's 720p by default (it quotes prices)."""
    return engine_kit.t2v(model, **kwargs)  # type: ignore[arg-type]


def ledger_entries(data_dir: Path) -> list:  # type: ignore[type-arg]
    ledger = Ledger(data_dir / "spend.sqlite3")
    ledger.open()
    try:
        return ledger.entries()
    finally:
        ledger.close()


async def submit_many(eng: Engine, count: int, **kwargs: object) -> tuple[int, list[QuotaError]]:
    results = await asyncio.gather(
        *(
            eng.submit(str(kwargs.get("owner", "alice")), t2v(), quota_key=kwargs.get("quota_key"))
            for _ in range(count)
        ),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, QuotaError)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, QuotaError)]
    assert not others, others
    return count - len(refused), refused


async def test_sixty_parallel_submits_with_a_five_job_limit_reach_the_provider_five_times(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, max_jobs_per_hour=5) as eng:
        accepted, refused = await submit_many(eng, 60, quota_key="ip:203.0.113.7")
        assert accepted == 5 and len(refused) == 55
        assert len(fake_providers.submits("wavespeed")) == 5
        assert len(fake_providers.jobs) == 5
        message = refused[0].message
        assert "5 videos per hour per person" in message and "0 left" in message and "UTC" in message
        assert refused[0].limit == "STUDIO_MAX_JOBS_PER_HOUR"


async def test_a_usd_limit_of_90_cents_at_30_cents_a_run_lets_exactly_three_through(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, max_usd_per_day=0.90) as eng:
        # Different people: the daily USD limit is the whole server's.
        results = await asyncio.gather(
            *(eng.submit(f"person-{i}", t2v()) for i in range(30)), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, QuotaError)]
        assert len(refused) == 27 and len(fake_providers.submits("wavespeed")) == 3
        assert refused[0].limit == "STUDIO_MAX_USD_PER_DAY"
        assert "$0.90 a day" in refused[0].message and "$0.00 is left" in refused[0].message
        assert "costs $0.30" in refused[0].message and "renews at 00:00 UTC" in refused[0].message


async def test_the_per_person_usd_limit_binds_each_person_apart(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, max_usd_per_person_per_day=0.60) as eng:
        assert (await submit_many(eng, 10, owner="alice"))[0] == 2
        accepted, refused = await submit_many(eng, 10, owner="bob")
        assert accepted == 2 and refused[0].limit == "STUDIO_MAX_USD_PER_PERSON_PER_DAY"
        # A 1080p run ($0.60) does not fit in what is left for a new person after a 720p one.
        await eng.submit("carol", t2v())
        with pytest.raises(QuotaError, match=r"\$0.30 is left today and this video costs \$0.60"):
            await eng.submit("carol", t2v(WS_T2V_1080))
        assert len(fake_providers.submits("wavespeed")) == 5


async def test_deleting_jobs_frees_nothing_and_a_restart_keeps_ledger_and_limits(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    settings = make_settings(tmp_path / "data", fake_providers, max_jobs_per_hour=2, max_usd_per_day=5.0)
    async with running(settings) as eng:
        for _ in range(2):
            record = await eng.submit("alice", t2v())
            await eng.wait("alice", record.id, timeout=30)
            assert await eng.delete("alice", record.id)
        assert eng.history("alice").items == []
        with pytest.raises(QuotaError):
            await eng.submit("alice", t2v())
        before = eng.spend("alice")
        assert before["total_usd"] == pytest.approx(0.60) and before["jobs"] == 2
    async with running(settings) as again:
        with pytest.raises(QuotaError, match="2 videos per hour"):
            await again.submit("alice", t2v())
        assert again.spend("alice") == before
        assert again.budget("alice").usd_left_server == pytest.approx(4.40)
    assert len(fake_providers.submits("wavespeed")) == 2


async def test_spend_equals_the_sum_of_the_ledger_and_is_scoped_to_the_caller(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    data = tmp_path / "data"
    async with on_fake(tmp_path, fake_providers) as eng:
        for owner, request in (
            ("alice", t2v()),
            ("alice", t2v(WS_T2V_1080, duration=10)),
            ("alice", t2v(RC_PRO_T2V)),
            ("bob", t2v()),
        ):
            await eng.submit(owner, request)
        alice, everyone = eng.spend("alice"), eng.spend(None)
    entries = ledger_entries(data)
    assert alice["total_usd"] == pytest.approx(sum(e.usd for e in entries if e.owner == "alice"))
    assert everyone["total_usd"] == pytest.approx(sum(e.usd for e in entries))
    assert alice["today_usd"] == alice["month_usd"] == alice["total_usd"]
    assert alice["jobs"] == 3 and everyone["jobs"] == 4
    # The 10 s 1080p run is the fake's quote ($1.20); RunComfy's Pro t2v has no published
    # price: WaveSpeedAI's highest 1080p text-to-video price stands in, as an estimate.
    assert alice["by_model"] == {RC_PRO_T2V: 0.6, WS_T2V_720: 0.3, WS_T2V_1080: 1.2}
    assert alice["by_provider"] == {"runcomfy": 0.6, "wavespeed": 1.5}
    assert {e.model: e.price_source for e in entries if e.owner == "alice"} == {
        WS_T2V_720: "quote",
        WS_T2V_1080: "quote",
        RC_PRO_T2V: "estimate",
    }


async def test_the_price_shown_is_the_fakes_quote_for_exactly_this_run(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers) as eng:
        for model, options in (
            (WS_T2V_720, {"duration": 5}),
            (WS_T2V_720, {"duration": 10}),
            (WS_T2V_1080, {"duration": 10, "aspect_ratio": "9:16"}),
        ):
            price = await eng.price(model, options)
            schema = schema_for("wavespeed", model.removeprefix("wavespeed/"))
            assert schema is not None
            assert price.source == "quote" and price.usd == run_price(schema.price_usd, options)
        quotes = [r for r in fake_providers.requests if r.op == "price"]
        assert [q.json["inputs"]["duration"] for q in quotes] == [5, 10, 10]  # type: ignore[index]
        # Without a WaveSpeedAI key the catalog answers; the 10 s run is scaled, as an estimate.
    async with running(make_settings(tmp_path / "bare", fake_providers, wavespeed_key=None)) as bare:
        assert (await bare.price(WS_T2V_720, {"duration": 5})).source == "catalog"
        ten = await bare.price(WS_T2V_720, {"duration": 10})
        assert ten.source == "estimate" and ten.usd == pytest.approx(0.60)


async def test_a_wrong_key_is_reported_wrong_before_anything_is_submitted(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, runcomfy_key=None, wavespeed_key=None) as eng:
        assert await eng.check_keys() == []
        wrong = {"runcomfy": Secret("rc-wrong"), "wavespeed": Secret("ws-wrong")}
        checks = {c.provider: c for c in await eng.check_keys(wrong)}
        assert checks["runcomfy"].works is False and checks["wavespeed"].works is False
        assert "refused" in checks["wavespeed"].message
        right = {
            "runcomfy": Secret(FakeProviders.RUNCOMFY_KEY),
            "wavespeed": Secret(FakeProviders.WAVESPEED_KEY),
        }
        fake_providers.set_money(balances={FakeProviders.WAVESPEED_KEY: 12.5})
        checks = {c.provider: c for c in await eng.check_keys(right)}
        assert checks["runcomfy"].works is True and checks["wavespeed"].works is True
        assert checks["wavespeed"].balance_usd == 12.5 and "$12.50" in checks["wavespeed"].message
        for check in checks.values():
            assert FakeProviders.WAVESPEED_KEY not in check.message
    assert fake_providers.submits() == []


async def test_balance_falls_back_to_the_newer_path(tmp_path: Path, fake_providers: FakeProviders) -> None:
    async with on_fake(tmp_path, fake_providers) as eng:
        fake_providers.set_money(old_balance_path=False, balances={FakeProviders.WAVESPEED_KEY: 3.25})
        (check,) = [c for c in await eng.check_keys() if c.provider == "wavespeed"]
        assert check.works is True and check.balance_usd == 3.25
        paths = [r.path for r in fake_providers.requests if r.op == "balance"]
        assert paths == ["/api/v3/balance", "/api/v3/account/balance"]


async def test_a_definite_refusal_releases_and_an_ambiguous_outcome_keeps_the_reservation(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    data = tmp_path / "data"
    async with on_fake(tmp_path, fake_providers, max_jobs_per_hour=1) as eng:
        fake_providers.add_fault("submit", "status", provider="wavespeed", status=401)
        with pytest.raises(ProviderError):
            await eng.submit("alice", t2v())
        assert eng.budget("alice").jobs_left == 1
        fake_providers.add_fault("submit", "reset_after_submit", provider="wavespeed")
        record = await eng.submit("alice", t2v())
        assert record.error_kind == "submit_unknown"
        with pytest.raises(QuotaError):
            await eng.submit("alice", t2v())
    (entry,) = ledger_entries(data)
    assert entry.state == "unknown" and entry.usd == 0.30


async def test_a_failed_job_is_refunded_only_where_the_provider_documents_it(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    data = tmp_path / "data"
    async with on_fake(tmp_path, fake_providers) as eng:
        for model in (WS_T2V_720, RC_PRO_T2V):
            fake_providers.next_outcome("failed")
            record = await eng.submit("alice", t2v(model))
            assert (await eng.wait("alice", record.id, timeout=30)).state == "failed"
        spend = eng.spend("alice")
    states = {e.provider: (e.state, e.note) for e in ledger_entries(data)}
    assert states["wavespeed"][0] == "refunded" and "refunds failed requests" in (
        states["wavespeed"][1] or ""
    )
    assert states["runcomfy"] == ("charged", None)
    assert spend["total_usd"] == pytest.approx(0.60) and spend["refunded_usd"] == pytest.approx(0.30)


async def test_a_429_twice_then_success_creates_one_job_and_delivers_the_video(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers) as eng:
        fake_providers.add_fault("submit", "status", provider="wavespeed", status=429, times=2, retry_after=1)
        record = await eng.submit("alice", t2v())
        assert record.state == "submitting"
        assert record.note == "WaveSpeedAI is limiting requests: sending again in 1 s."
        notes = [r.note async for r in eng.updates("alice", record.id)]
        final = eng.get("alice", record.id)
        assert final is not None and final.state == "succeeded", final
        assert final.video_path and Path(final.video_path).stat().st_size > 0
        assert len(fake_providers.submits("wavespeed")) == 3 and len(fake_providers.jobs) == 1
        assert any(n and "limiting requests" in n for n in notes)
        assert eng.spend("alice")["jobs"] == 1


async def test_five_jobs_waiting_on_a_429_are_sent_again_in_order_not_all_at_once(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers) as eng:
        fake_providers.set_money(videos_per_minute=1, window_seconds=1.0)
        records = [await eng.submit("alice", t2v(prompt=f"job {i}")) for i in range(6)]
        assert records[0].state == "queued"
        assert all(r.state == "submitting" for r in records[1:])
        finals = [await eng.wait("alice", r.id, timeout=60) for r in records]
        assert all(f.state == "succeeded" for f in finals), [(f.state, f.error_message) for f in finals]
        created = sorted(fake_providers.jobs.values(), key=lambda j: j.created_at)
        assert [j.payload["prompt"] for j in created] == [f"job {i}" for i in range(6)]
        gaps = [b.created_at - a.created_at for a, b in zip(created, created[1:], strict=False)]
        assert min(gaps) > 0.5, gaps  # one per window, not all at once
        refused = len(fake_providers.submits("wavespeed")) - 6
        assert refused <= 8, f"{refused} submits refused: the studio hammered the provider"


async def test_a_job_waiting_its_turn_can_be_cancelled_without_cost(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    async with on_fake(tmp_path, fake_providers, max_jobs_per_hour=1) as eng:
        fake_providers.add_fault("submit", "status", provider="wavespeed", status=429, retry_after=30)
        record = await eng.submit("alice", t2v())
        assert record.state == "submitting"
        cancelled = await eng.cancel("alice", record.id)
        assert cancelled.state == "cancelled" and "nothing was sent or billed" in (
            cancelled.error_message or ""
        )
        assert eng.budget("alice").jobs_left == 1 and fake_providers.jobs == {}


async def test_a_local_running_cap_holds_the_next_job_until_a_slot_frees(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0.2, run_seconds=1.0)
    async with on_fake(tmp_path, fake_providers, provider_caps={"wavespeed": (1, None)}) as eng:
        first = await eng.submit("alice", t2v(prompt="first"))
        second = await eng.submit("alice", t2v(prompt="second"))
        assert first.state == "queued" and second.state == "submitting"
        assert second.note == "Waiting for a free slot at WaveSpeedAI: 1 of 1 running."
        done_first = await eng.wait("alice", first.id, timeout=30)
        done_second = await eng.wait("alice", second.id, timeout=30)
        assert done_first.state == done_second.state == "succeeded"
        assert (done_second.submitted_at or 0) >= (done_first.finished_at or time.time())
        assert len(fake_providers.submits("wavespeed")) == 2
