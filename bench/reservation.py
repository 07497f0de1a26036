"""Reservation: what checking and reserving the spend limits adds to a submit.

`Engine.submit` against an in-process provider that answers at once (so the figure is the
engine's own cost, not a network's), with all three limits set so every check runs, over a
ledger that already holds a busy day (20,000 entries from 500 people). Each round submits
once with the reservation and once with it switched off (`Limits.reserve`,
`Ledger.flush` and `Ledger.charge` replaced by no-ops on the same engine), the order alternating; the figure
is the difference of the medians. Also timed alone: reserve + charge on the same ledger.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

from bench.harness import BenchResult, Figure, fmt_list, log, median, percentile, temp_dir
from jobs.engine import Engine
from jobs.ledger import Entry, Ledger
from jobs.records import GenerationRequest
from jobs.settings import Settings
from providers.base import ProviderStatus, Secret, SubmitRequest
from providers.money import Price

MODEL = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
BUSY_DAY_ENTRIES = 20_000
PEOPLE = 500
TARGET_MS = 1.0


class InstantProvider:
    """Accepts every job at once and keeps it queued: only the engine's work is timed."""

    name = "wavespeed"

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> str:
        return secrets.token_hex(8)

    async def poll(self, request_id: str, key: Secret | None = None) -> ProviderStatus:
        return ProviderStatus(state="queued", retry_after=3600)

    async def cancel(self, request_id: str, key: Secret | None = None) -> str:
        return "not_cancellable"

    def has_key(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


def fill_ledger(db: Path, now: float) -> None:
    ledger = Ledger(db)
    ledger.open()
    with ledger.transaction() as conn:
        for n in range(BUSY_DAY_ENTRIES):
            Ledger.reserve(
                conn,
                Entry(
                    job_id=f"past-{n}",
                    owner=f"person-{n % PEOPLE}",
                    quota_key=ledger.hash_quota_key(f"address:10.0.{n % PEOPLE // 250}.{n % 250}"),
                    provider="wavespeed",
                    model=MODEL,
                    usd=0.30,
                    price_source="quote",
                    state="reserved",
                    created_at=now - 86000 + n * 4,
                ),
            )
        conn.execute("UPDATE spend SET state = 'charged'")
    ledger.close()


async def measure(data: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    settings = Settings(
        data_dir=data,
        keys={"wavespeed": Secret("bench")},
        max_jobs_per_hour=10**9,
        max_usd_per_day=1e9,
        max_usd_per_person_per_day=1e9,
        job_deadline_seconds=10**7,
    )
    engine = Engine(settings, {"wavespeed": InstantProvider()})  # type: ignore[dict-item]
    await engine.start()
    limits, ledger = engine._limits, engine._ledger  # the bench switches them off and on
    reserve, charge, flush = limits.reserve, ledger.charge, ledger.flush

    def off(**_: object) -> None:
        return None

    request = GenerationRequest(kind="t2v", model=MODEL, prompt="bench", options={"aspect_ratio": "16:9"})
    with_ms: list[float] = []
    without_ms: list[float] = []
    try:
        for n in range(rounds + 20):
            order = (True, False) if n % 2 else (False, True)
            for reserving in order:
                limits.reserve = reserve if reserving else off  # type: ignore[method-assign]
                ledger.charge = charge if reserving else (lambda *_: None)  # type: ignore[method-assign]
                ledger.flush = flush if reserving else (lambda: None)  # type: ignore[method-assign]
                owner = f"person-{n % PEOPLE}"
                started = time.perf_counter()
                await engine.submit(owner, request, quota_key=f"address:10.0.0.{n % 250}")
                elapsed = (time.perf_counter() - started) * 1000
                if n >= 20:  # warm-up rounds are not counted
                    (with_ms if reserving else without_ms).append(elapsed)
        limits.reserve, ledger.charge, ledger.flush = reserve, charge, flush  # type: ignore[method-assign]
        alone: list[float] = []
        for n in range(rounds):
            job_id = f"alone-{n}"
            started = time.perf_counter()
            limits.reserve(
                job_id=job_id,
                owner=f"person-{n % PEOPLE}",
                quota_key=f"address:10.0.0.{n % 250}",
                provider="wavespeed",
                model=MODEL,
                price=Price(0.30, "quote"),
            )
            ledger.charge(job_id, time.time())
            alone.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.close()
    return with_ms, without_ms, alone


def run(quick: bool = False) -> BenchResult:
    rounds = 200 if quick else 1500
    with temp_dir("bench-reservation-") as tmp:
        data = tmp / "data"
        data.mkdir()
        fill_ledger(data / "spend.sqlite3", time.time())
        log(f"reservation: {rounds} submits with and {rounds} without, alternating")
        with_ms, without_ms, alone = asyncio.run(measure(data, rounds))
    added = median(with_ms) - median(without_ms)
    raw = (
        f"submit median ms with {median(with_ms):.3f}, without {median(without_ms):.3f} "
        f"(p90 {percentile(with_ms, 90):.3f} vs {percentile(without_ms, 90):.3f}; {len(with_ms)} each); "
        f"reserve + charge alone median {median(alone):.3f} ms, p90 {percentile(alone, 90):.3f} ms; "
        f"first 10 with {fmt_list(with_ms[:10])}, without {fmt_list(without_ms[:10])}"
    )
    return BenchResult(
        figures=[
            Figure(
                bench="reservation",
                name="Engine.submit with the spend reservation minus without (median ms, busy-day ledger)",
                value=round(added, 4),
                unit="ms",
                target=f"<= {TARGET_MS:g} ms",
                passed=added <= TARGET_MS,
                raw=raw,
            )
        ],
        how=(
            "In one process: `Engine.submit` of a WaveSpeedAI 720p text-to-video job against an in-process "
            "provider that accepts at once (the engine's own cost, no network), with STUDIO_MAX_JOBS_PER_HOUR, "
            "STUDIO_MAX_USD_PER_DAY and STUDIO_MAX_USD_PER_PERSON_PER_DAY all set so every check runs, over a "
            f"ledger already holding {BUSY_DAY_ENTRIES:,} entries of the last day from {PEOPLE} people (and "
            "their addresses). Each round submits once with the reservation and once without "
            "(`Limits.reserve`, `Ledger.flush` (its fsync, run beside the job row's) and `Ledger.charge` "
            "swapped for no-ops on the same engine), the order "
            f"alternating; 20 warm-up rounds, then {rounds} each. The figure is the difference of the "
            "medians; the submit itself includes the job row's fsynced insert. Also timed alone: "
            "`Limits.reserve` + `Ledger.charge` on the same ledger."
        ),
    )
