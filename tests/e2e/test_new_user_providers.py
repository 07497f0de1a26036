"""The page with both providers, through the local fake (issue 15): reuse across models,
cancel notes, queue places, a provider failing, its refusals and failures, in words a
person can act on. 1440×900."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.desk import DESKTOP, window
from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.e2e.studio_page import LONG, details_of, generate, make_video, open_studio, prompt_box, status_card
from tests.fakes.server import FakeProviders

WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
RC_PRO = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.5, run_seconds=1.0, queue_length=2) as providers:
        yield providers


@pytest.fixture(scope="module")
def keyed_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    env = on_fake(fake.base_url, "runcomfy", "wavespeed")
    with launch_app(tmp_path_factory.mktemp("keyed"), env) as running:
        yield running


@pytest.fixture
def desk(browser: Any, fake: FakeProviders) -> Iterator[Page]:
    fake.reset()
    fake.set_timing(queue_seconds=0.5, run_seconds=1.0, queue_length=2)
    with window(browser, DESKTOP) as page:
        yield page


def choose(page: Page, provider_label: str, model_label: str) -> None:
    page.locator("#t2v-provider").get_by_text(provider_label, exact=True).click()
    page.locator("#t2v-model input").click()
    page.get_by_role("option", name=re.compile(re.escape(model_label))).first.click()


# --- 1: reuse settings across a model switch keeps every option ----------------------------


def test_reuse_settings_from_another_model_fills_every_option_at_once(
    desk: Page, keyed_app: RunningApp
) -> None:
    job = make_video(
        keyed_app.url,
        "A lantern festival over a river, 9:16",
        model=WS_720,
        aspect_ratio="9:16",
        duration="10",
        seed="777",
    )
    open_studio(desk, keyed_app.url)
    choose(desk, "RunComfy", "Dreamina 3.0 Pro")  # the form is on another model
    expect(desk.locator("#t2v-duration")).to_be_hidden()

    desk.locator("#history-gallery .gallery-item", has_text="A lantern festival").click()
    details_of(desk, job["id"])
    desk.locator("#result-reuse").click()

    expect(prompt_box(desk, "t2v")).to_have_value("A lantern festival over a river, 9:16")
    expect(desk.locator("#t2v-aspect_ratio input[value='9:16']")).to_be_checked()
    expect(desk.locator("#t2v-duration input[value='10']")).to_be_checked()
    expect(desk.locator("#t2v-seed input")).to_have_value("777")
    desk.wait_for_timeout(1500)  # what a second look would see: nothing reset them since
    expect(desk.locator("#t2v-aspect_ratio input[value='9:16']")).to_be_checked()
    expect(desk.locator("#t2v-duration input[value='10']")).to_be_checked()


# --- 3: WaveSpeedAI has no cancel: no cancel is sent, and the note says so ------------------


def test_cancel_on_wavespeed_sends_nothing_and_says_why(
    desk: Page, keyed_app: RunningApp, fake: FakeProviders
) -> None:
    fake.set_timing(queue_seconds=6, run_seconds=0.5)
    open_studio(desk, keyed_app.url)
    choose(desk, "WaveSpeedAI", "720p")
    job_id = generate(desk, "t2v", "A heron waits in the reeds")
    expect(status_card(desk, "t2v", job_id, "queued")).to_be_visible(timeout=LONG)
    desk.locator("#t2v-cancel").click()
    note = desk.locator("#t2v-status .status-note")
    expect(note).to_contain_text("no cancel was sent", timeout=LONG)
    expect(note).not_to_contain_text("can no longer be cancelled")
    assert not [r for r in fake.requests if r.op == "cancel"]
    expect(status_card(desk, "t2v", job_id, "succeeded")).to_be_visible(timeout=LONG)
    expect(desk.locator("#t2v-status .status-note")).to_have_count(0)


# --- 4, 5: queue places and a failing provider ----------------------------------------------


def test_runcomfy_position_0_reads_as_next_in_line(
    desk: Page, keyed_app: RunningApp, fake: FakeProviders
) -> None:
    fake.set_timing(queue_seconds=20, run_seconds=0.5)
    fake.add_fault(
        "status",
        "status",
        provider="runcomfy",
        status=200,
        times=1000,
        body={"request_id": "x", "status": "in_queue", "queue_position": 0},
    )
    open_studio(desk, keyed_app.url)
    choose(desk, "RunComfy", "Dreamina 3.0 Pro")
    job_id = generate(desk, "t2v", "A bakery at 5 am, steam rising")
    card = status_card(desk, "t2v", job_id, "queued")
    expect(card).to_contain_text("next in the provider's queue", timeout=LONG)
    expect(card).not_to_contain_text("position 0")
    desk.locator("#t2v-cancel").click()
    expect(status_card(desk, "t2v", job_id, "cancelled")).to_be_visible(timeout=LONG)


def test_a_provider_answering_500_is_named_in_the_status(
    desk: Page, keyed_app: RunningApp, fake: FakeProviders
) -> None:
    fake.set_timing(queue_seconds=1, run_seconds=0.5)
    # Four polls answered 500 (each poll is one request; the note comes after the third
    # missed poll, about 3 s of 1 s and 2 s waits), then it answers again.
    fake.add_fault("status", "status", provider="runcomfy", status=500, times=4)
    open_studio(desk, keyed_app.url)
    choose(desk, "RunComfy", "Dreamina 3.0 Pro")
    job_id = generate(desk, "t2v", "A glacier calving into the sea")
    card = status_card(desk, "t2v", job_id)
    expect(card).to_contain_text("RunComfy is failing to answer (HTTP 500)", timeout=LONG)
    expect(card).not_to_contain_text("taking longer than usual")
    expect(status_card(desk, "t2v", job_id, "succeeded")).to_be_visible(timeout=LONG)
    expect(desk.locator("#t2v-status .status-note")).to_have_count(0)


# --- 13, 15: the provider's refusals and failures ---------------------------------------


def test_a_422_names_the_field_and_outlines_it(
    desk: Page, keyed_app: RunningApp, fake: FakeProviders
) -> None:
    fake.add_fault(
        "submit",
        "status",
        provider="runcomfy",
        status=422,
        body={"detail": [{"loc": ["body", "aspect_ratio"], "msg": "not supported for this account"}]},
    )
    open_studio(desk, keyed_app.url)
    choose(desk, "RunComfy", "Dreamina 3.0 Pro")
    prompt_box(desk, "t2v").fill("A library with floating books")
    desk.locator("#t2v-generate").click()
    refusal = desk.locator("#t2v-status .refusal[data-field='aspect_ratio']")
    expect(refusal).to_contain_text("Change the aspect ratio", timeout=LONG)
    expect(refusal).not_to_contain_text("highlighted")
    expect(desk.locator("#t2v-aspect_ratio")).to_have_css("box-shadow", re.compile(r"rgb\(220, 38, 38\)"))


def test_a_failed_job_says_it_could_not_be_made_once(
    desk: Page, keyed_app: RunningApp, fake: FakeProviders
) -> None:
    fake.next_outcome("failed")
    open_studio(desk, keyed_app.url)
    choose(desk, "RunComfy", "Dreamina 3.0 Pro")
    job_id = generate(desk, "t2v", "A clockwork bird sings")
    card = status_card(desk, "t2v", job_id, "failed")
    expect(card).to_be_visible(timeout=LONG)
    text = card.inner_text()
    assert text.count("could not make this video") == 1, text
