"""The Compare tab in Chromium: a three-model comparison (RunComfy and WaveSpeedAI through
the local fake, and the simulator) fills its cells in, plays and seeks every video together,
takes a pick, reopens from history and exports its side-by-side video."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.e2e.studio_page import LONG, open_studio, open_tab, shot
from tests.fakes import FakeProviders
from tests.fakes.media import write_sample_video

RC_PRO = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
SIM = "simulator/dreamina-3-0/text-to-video"
TIMES = "Array.from(document.querySelectorAll('#compare-grid video')).map(v => v.currentTime)"


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProviders]:
    # Five-second results, as long as the simulator's, so every cell plays the whole time.
    clip = write_sample_video(tmp_path_factory.mktemp("clip") / "five.mp4", frames=120)
    with FakeProviders(queue_seconds=1.0, run_seconds=1.5, output_video=clip) as running:
        yield running


@pytest.fixture(scope="module")
def compare_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    env = on_fake(fake.base_url, "runcomfy", "wavespeed")  # the simulator's timings: the launcher's 1 s + 2 s
    with launch_app(tmp_path_factory.mktemp("compare"), env) as running:
        yield running


def choose_models(page: Page, *models: str) -> None:
    boxes = page.locator("#compare-models input[type=checkbox]")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        wanted = box.get_attribute("value") in models if box.get_attribute("value") else None
        label = page.locator("#compare-models label").nth(index).inner_text()
        if wanted is None:  # the value is not on the input: go by the label's words
            wanted = any(_label_words(m) in label for m in models)
        if box.is_checked() != wanted:
            box.click()


def _label_words(model: str) -> str:
    return {RC_PRO: "RunComfy · Dreamina 3.0 Pro", WS_720: "720p", SIM: "Simulator"}[model]


def spread(page: Page) -> float:
    times = page.evaluate(TIMES)
    return max(times) - min(times)


def test_a_three_model_comparison_fills_in_plays_together_picks_reopens_and_exports(
    page: Page, compare_app: RunningApp, fake: FakeProviders, artifacts: Path
) -> None:
    open_studio(page, compare_app.url)
    # "Compare with…" under the text-to-video form brings its prompt and model along.
    page.locator("#t2v-prompt textarea").fill("A red kite over green hills")
    page.locator("#t2v-compare-with").click()
    expect(page.locator("#compare-prompt textarea")).to_have_value("A red kite over green hills")
    expect(page.locator("#compare-models input:checked").first).to_be_attached()
    choose_models(page, RC_PRO, WS_720, SIM)
    expect(page.locator("#compare-price")).to_contain_text("3 videos", timeout=LONG)
    page.locator("#compare-generate").click()

    # The cells appear at once, each naming its model and provider, and fill in as they finish.
    expect(page.locator("#compare-head-2")).to_be_visible(timeout=LONG)
    heads = [page.locator(f"#compare-head-{i}") for i in range(3)]
    expect(heads[0]).to_contain_text("RunComfy")
    expect(page.locator("#compare-summary")).to_contain_text("of 3 finished")
    for head in heads:
        expect(head.locator(".compare-head[data-state=succeeded]")).to_be_attached(timeout=LONG)
    expect(page.locator("#compare-summary")).to_contain_text("All 3 finished", timeout=LONG)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#compare-grid video')).filter(v => v.readyState >= 2).length === 3",
        timeout=LONG,
    )
    shot(page, artifacts / "compare-grid.png")
    sent = [r.json for r in fake.submits()]
    assert len(sent) == 2 and len({body["seed"] for body in sent}) == 1  # one shared seed

    # One press of Play: every video's time advances, together.
    page.locator("#compare-controls button[data-compare=play]").click()
    time.sleep(1.5)
    times = page.evaluate(TIMES)
    assert min(times) > 0.5 and spread(page) < 0.35, times
    page.locator("#compare-controls button[data-compare=pause]").click()
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#compare-grid video')).every(v => v.paused)", timeout=5000
    )
    # Seek one video: the others follow.
    page.evaluate("document.querySelectorAll('#compare-grid video')[1].currentTime = 3.0")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#compare-grid video')).every(v => Math.abs(v.currentTime - 3.0) < 0.2)",
        timeout=5000,
    )

    # Pick the second cell.
    page.locator("#compare-pick-1").click()
    expect(page.locator("#compare-pick-1")).to_have_text("★ Picked")
    expect(page.locator("#compare-head-1")).to_contain_text("★ Pick")
    expect(page.locator("#compare-tally")).to_contain_text("Picks", timeout=LONG)

    # Export the side-by-side video: progress, then the file.
    page.locator("#compare-export").click()
    expect(page.locator("#compare-export-status")).to_contain_text("ready", timeout=LONG)
    link = page.locator("#compare-export-file a").first
    expect(link).to_be_attached()
    with page.expect_download() as download:
        link.click()
    saved = artifacts / "compare-side-by-side.mp4"
    download.value.save_as(saved)
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"

    # Reopen it from history in a fresh page.
    page.reload()
    open_studio(page, compare_app.url)
    open_tab(page, "Compare")
    expect(page.locator("#compare-gallery img").first).to_be_visible(timeout=LONG)
    page.locator("#compare-gallery img").first.click()
    expect(page.locator("#compare-summary")).to_contain_text("All 3 finished", timeout=LONG)
    expect(page.locator("#compare-pick-1")).to_have_text("★ Picked")
    shot(page, artifacts / "compare-reopened.png")

    # ...and from the main history, where the comparison is one entry (its poster mosaic).
    page.reload()
    open_studio(page, compare_app.url)
    entries = page.locator("#history-gallery .gallery-item")
    expect(entries.first).to_contain_text("Comparison of 3 videos", timeout=LONG)
    expect(entries).to_have_count(1)  # its three members are not three entries
    entries.first.click()
    expect(page.locator("#compare-summary")).to_contain_text("All 3 finished", timeout=LONG)
    expect(page.locator("#compare-summary")).to_be_visible()  # the Compare tab is open
    expect(page.locator("#compare-pick-1")).to_have_text("★ Picked")
    # Past comparisons: each is a tile, not one poster stretched across the row and cut.
    tiles = page.locator("#compare-gallery .thumbnail-item")
    expect(tiles.first).to_be_visible(timeout=LONG)
    row = page.locator("#compare-gallery .grid-container").bounding_box()
    tile = tiles.first.bounding_box()
    assert row and tile and tile["width"] < row["width"] / 2, (tile, row)


def test_a_blind_comparison_names_no_model_on_the_page_until_the_pick(
    page: Page, compare_app: RunningApp, fake: FakeProviders, artifacts: Path
) -> None:
    fake.set_timing(queue_seconds=2.0, run_seconds=4.0)  # long enough to see them running
    try:
        open_studio(page, compare_app.url)
        open_tab(page, "Compare")
        page.locator("#compare-prompt textarea").fill("A blind test of two lighthouses")
        choose_models(page, RC_PRO, WS_720)
        page.locator("#compare-blind input").check()
        expect(page.locator("#compare-price")).to_contain_text("2 videos", timeout=LONG)
        page.locator("#compare-generate").click()
        expect(page.locator("#compare-head-1")).to_contain_text("Model B", timeout=LONG)
        running = page.locator(".job-text")
        expect(running.first).to_contain_text("Model", timeout=LONG)
        expect(page.locator("#compare-summary")).to_contain_text("All 2 finished", timeout=LONG)
    finally:
        fake.set_timing(queue_seconds=1.0, run_seconds=1.5)
    names = ("RunComfy", "WaveSpeedAI", "Dreamina 3.0 Pro", "720p")
    grid = page.locator("#compare-grid").inner_text()
    assert not any(name in grid for name in names), grid
    assert "$0.30" not in grid and "$0.60" not in grid, grid  # nor the price that would say it
    expect(page.locator("#result-empty")).to_be_visible()  # a finished member is not shown there
    entry = page.locator("#history-gallery .gallery-item").first
    expect(entry).to_contain_text("Blind comparison of 2 videos", timeout=LONG)
    assert not any(name in page.locator("#studio-history").inner_text() for name in names)
    shot(page, artifacts / "compare-blind.png")

    page.locator("#compare-pick-0").click()
    expect(page.locator("#compare-head-0")).not_to_contain_text("Model A", timeout=LONG)
    expect(page.locator("#compare-grid")).to_contain_text("RunComfy")


def test_the_price_line_follows_the_image(
    page: Page, compare_app: RunningApp, tmp_path: Path
) -> None:
    open_studio(page, compare_app.url)
    open_tab(page, "Compare")
    page.locator("#compare-kind label").nth(1).click()  # image to video
    # As a person would: the model list has turned to image-to-video before the prompt is typed.
    expect(page.locator("#compare-models")).to_contain_text("image-to-video", timeout=LONG)
    expect(page.locator("#compare-models")).not_to_contain_text("text-to-video", timeout=LONG)
    page.locator("#compare-prompt textarea").fill("A slow pan across the bay")
    price = page.locator("#compare-price")
    expect(price).to_contain_text("upload one", timeout=LONG)
    picture = tmp_path / "bay.png"
    Image.new("RGB", (1280, 720), (40, 120, 200)).save(picture)
    page.locator("#compare-image input[type=file]").set_input_files(str(picture))
    # The price is asked again once the image is there: no stale "upload one" left.
    expect(price).not_to_contain_text("upload one", timeout=LONG)
    expect(price).to_contain_text("videos", timeout=LONG)


def test_a_prompt_typed_at_once_after_switching_to_image_to_video_prices_the_image_models(
    page: Page, compare_app: RunningApp
) -> None:
    # No waiting for the model list to turn: the price follows on_kind's answer (.then), so
    # it never reads the new kind with the old models, and no error badge is left behind.
    open_studio(page, compare_app.url)
    open_tab(page, "Compare")
    expect(page.locator("#compare-models")).to_contain_text("text-to-video", timeout=LONG)  # the tab is built
    page.locator("#compare-kind label").nth(1).click()  # image to video
    page.locator("#compare-prompt textarea").fill("A heron lifts off the bay")
    price = page.locator("#compare-price")
    expect(price).to_contain_text("upload one", timeout=LONG)
    expect(price).to_contain_text("image-to-video")
    expect(page.locator("#compare-models")).not_to_contain_text("text-to-video")
    time.sleep(1.5)  # any late answer of a price asked with the old models would land by now
    expect(price).to_contain_text("upload one")
    assert page.locator("#compare-price .error, #compare-models .error").count() == 0
