"""Money rules without a network: catalog prices and estimates, the limits' settings, and the
rate-limit line's bound and order."""

from __future__ import annotations

import asyncio

import pytest

from jobs.rate_gate import GateTimeout, RateGates
from jobs.settings import Settings
from providers import catalog
from providers.base import ProviderError
from providers.money import catalog_price


def test_published_prices_come_from_the_catalog_and_unknown_ones_are_estimated_high() -> None:
    ws720 = catalog.get_model("wavespeed/bytedance/dreamina-v3.0/text-to-video-720p")
    assert catalog_price(ws720, {"duration": 5}) == catalog_price(ws720, {})
    assert catalog_price(ws720, {}).source == "catalog" and catalog_price(ws720, {}).usd == 0.30
    ten = catalog_price(ws720, {"duration": 10})
    assert ten.source == "estimate" and ten.usd == 0.60
    # No published price: the provider's highest known price for the kind and resolution.
    pro_i2v = catalog.get_model("wavespeed/bytedance/dreamina-v3.0-pro/image-to-video")
    assert catalog_price(pro_i2v, {}).usd == 0.60 and catalog_price(pro_i2v, {}).estimated
    rc = catalog.get_model("runcomfy/bytedance/dreamina-3-0/text-to-video")
    assert catalog_price(rc, {"resolution": "720P", "frames": 121}).usd == 0.30
    assert catalog_price(rc, {"resolution": "1080P", "frames": 241}).usd == pytest.approx(1.20)
    sim = catalog.get_model("simulator/dreamina-3-0/text-to-video")
    assert catalog_price(sim, {"frames": 241}).usd == 0 and catalog_price(sim, {}).words() == "free"


def test_limits_and_caps_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "STUDIO_MAX_USD_PER_DAY": "$12.50",
            "STUDIO_MAX_USD_PER_PERSON_PER_DAY": "1",
            "STUDIO_WAVESPEED_MAX_RUNNING": "3",
            "STUDIO_WAVESPEED_MAX_PER_MINUTE": "5",
        }
    )
    assert settings.max_usd_per_day == 12.5 and settings.max_usd_per_person_per_day == 1.0
    assert settings.provider_caps == {"wavespeed": (3, 5)}
    with pytest.raises(ValueError, match="STUDIO_MAX_USD_PER_DAY"):
        Settings.from_env({"STUDIO_MAX_USD_PER_DAY": "lots"})
    with pytest.raises(ValueError, match="STUDIO_RUNCOMFY_MAX_RUNNING"):
        Settings.from_env({"STUDIO_RUNCOMFY_MAX_RUNNING": "0"})


async def test_a_provider_that_keeps_limiting_fails_the_job_after_the_bound() -> None:
    gates = RateGates(max_wait=0.3)
    sent: list[float] = []
    notes: list[str] = []

    async def always_429() -> str:
        sent.append(asyncio.get_running_loop().time())
        raise ProviderError("rate_limited", "busy", retry_after=0.1)

    with pytest.raises(GateTimeout) as caught:
        await gates.send_in_turn("wavespeed", "WaveSpeedAI", "k", always_429, notes.append)
    assert "stopped trying" in caught.value.message and "nothing was billed" in caught.value.message
    assert 2 <= len(sent) <= 5  # about one try per Retry-After, not a hammering loop
    assert notes and notes[0].startswith("WaveSpeedAI is limiting requests: sending again in")


async def test_jobs_behind_a_429_go_one_at_a_time_in_arrival_order() -> None:
    gates = RateGates()
    gates.limited("wavespeed", "k", 0.2)
    order: list[int] = []
    in_flight = 0
    most = 0

    def attempt(n: int):  # type: ignore[no-untyped-def]
        async def send() -> int:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1
            order.append(n)
            return n

        return send

    assert not gates.is_open("wavespeed", "k") and gates.is_open("wavespeed", "other-key")
    results = await asyncio.gather(
        *(gates.send_in_turn("wavespeed", "WaveSpeedAI", "k", attempt(n), lambda _: None) for n in range(5))
    )
    assert results == order == [0, 1, 2, 3, 4] and most == 1
