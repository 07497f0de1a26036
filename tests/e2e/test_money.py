"""Money in the page, against the local fake WaveSpeedAI: the price next to Generate is the
provider's quote for exactly this run and follows the model and options; the Spend tab
updates when a job is accepted; a wrong key is reported before Generate; `/spend` is the
ledger's sum for the caller."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from gradio_client import Client
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import VIEWPORT
from tests.e2e.desk import window
from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.e2e.studio_page import LONG, generate, open_studio, open_tab
from tests.fakes import FakeProviders

WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.5, run_seconds=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def paid_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    env = {**on_fake(fake.base_url, "wavespeed"), "STUDIO_MAX_USD_PER_DAY": "5"}
    with launch_app(tmp_path_factory.mktemp("money"), env) as running:
        yield running


def ledger_total(app: RunningApp) -> float:
    with sqlite3.connect(app.data_dir / "spend.sqlite3") as conn:
        (total,) = conn.execute(
            "SELECT COALESCE(SUM(usd), 0) FROM spend WHERE state IN ('reserved','charged','unknown')"
        ).fetchone()
    return float(total)


def test_the_price_follows_model_and_options_and_the_spend_tab_follows_accepted_jobs(
    browser: Browser, paid_app: RunningApp, fake: FakeProviders
) -> None:
    with window(browser, VIEWPORT) as page:
        open_studio(page, paid_app.url)
        price = page.locator("#t2v-price .price-now")
        # WaveSpeedAI has the key, so it is the default provider; Pro t2v is quoted $0.60.
        expect(price).to_have_attribute("data-source", "quote", timeout=LONG)
        expect(price).to_have_text("This video: $0.60")
        expect(page.locator("#t2v-price")).to_contain_text("$5.00 left today")
        page.locator("#t2v-model input").click()
        page.get_by_role("option", name="text-to-video 720p").first.click()
        expect(price).to_have_text("This video: $0.30", timeout=LONG)
        page.locator("#t2v-duration label", has_text="10").click()
        expect(price).to_have_text("This video: $0.60", timeout=LONG)
        quoted = [r.json for r in fake.requests if r.op == "price"]
        assert {"model_id": WS_720.removeprefix("wavespeed/"), "duration": 10} in [
            {"model_id": q["model_id"], "duration": q["inputs"].get("duration")}  # type: ignore[index]
            for q in quoted
        ]

        open_tab(page, "Spend")
        figures = page.locator("#spend-figures .spend")
        expect(figures).to_have_attribute("data-total", "0.0000", timeout=LONG)
        open_tab(page, "Text to video")
        generate(page, "t2v", "A lighthouse at dawn, paid for")
        open_tab(page, "Spend")
        expect(figures).to_have_attribute("data-total", "0.6000", timeout=LONG)
        expect(figures).to_contain_text("text-to-video 720p: $0.60")
        expect(page.locator("#t2v-price")).to_contain_text("$4.40 left today", timeout=LONG)
        assert len(fake.submits("wavespeed")) == 1


def test_a_wrong_key_is_reported_before_generate(
    browser: Browser, paid_app: RunningApp, fake: FakeProviders
) -> None:
    with window(browser, VIEWPORT) as page:
        open_studio(page, paid_app.url)
        submits = len(fake.submits())
        open_tab(page, "API keys")
        page.locator("#key-wavespeed input").fill("ws-mistyped-key")
        page.locator("#keys-save").click()
        row = page.locator("#keys-status li[data-provider='wavespeed']")
        expect(row).to_have_attribute("data-key-state", "refused", timeout=LONG)
        expect(row).to_contain_text("refused")
        page.locator("#key-runcomfy input").fill(FakeProviders.RUNCOMFY_KEY)
        page.locator("#keys-save").click()
        # RunComfy's base URL is the real one here: unreachable offline, so "not checked",
        # never a checkmark nobody verified.
        expect(page.locator("#keys-status li[data-provider='runcomfy']")).not_to_have_attribute(
            "data-key-state", "works", timeout=LONG
        )
        page.locator("#keys-check").click()
        server = page.locator("#keys-status li[data-provider='wavespeed']")
        expect(server).to_have_attribute("data-key-state", "works", timeout=LONG)
        expect(server).to_contain_text("balance $25.00")
        assert len(fake.submits()) == submits
        assert "ws-mistyped-key" not in paid_app.log()


def test_spend_endpoint_equals_the_ledger(paid_app: RunningApp, fake: FakeProviders) -> None:
    client = Client(paid_app.url, verbose=False)
    _video, job = client.predict(prompt="Paid through the API", model=WS_720, api_name="/text_to_video")
    assert job["state"] == "succeeded"
    spend = client.predict(api_name="/spend")
    assert set(spend) >= {"today_usd", "month_usd", "total_usd", "by_provider", "by_model", "jobs"}
    assert spend["total_usd"] == pytest.approx(ledger_total(paid_app))  # a local run sees everything
    assert spend["by_provider"]["wavespeed"] == pytest.approx(spend["total_usd"])
    assert spend["by_model"][WS_720] >= 0.30
