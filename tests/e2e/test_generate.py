"""A person makes videos in the browser: text to video, image to video, and the errors
they see when something is wrong."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import save_docs_screenshot
from tests.e2e.launcher import RunningApp
from tests.e2e.studio_page import (
    LONG,
    details_of,
    expect_video_playing,
    generate,
    history_total,
    job_seed,
    open_studio,
    open_tab,
    prompt_box,
    shot,
    upload_image,
    wait_until_done,
)

PROMPT = "A paper boat drifts down a rainy neon street, slow dolly-in"


def test_text_to_video_plays_and_joins_the_history(page: Page, app: RunningApp, artifacts: Path) -> None:
    open_studio(page, app.url)
    expect(page.locator("#sim-banner")).to_contain_text("results are simulated")
    before = history_total(page)

    prompt_box(page, "t2v").fill(PROMPT)
    expect(page.locator("#t2v-counter")).to_have_text(f"{len(PROMPT)} / 800")
    job_id = generate(page, "t2v")
    wait_until_done(page, "t2v", job_id)

    src = expect_video_playing(
        page, r"dreamina_sim-t2v_\d{8}-\d{4}_a-paper-boat-drifts-down-a-rainy-neon_seed\d+\.mp4"
    )
    seed = job_seed(page, job_id)
    assert src.endswith(f"_seed{seed}.mp4"), "the file name carries the seed actually used"
    expect(details_of(page, job_id)).to_contain_text(PROMPT)
    expect(page.locator(".pager-text")).to_have_attribute("data-total", str(before + 1), timeout=LONG)
    expect(page.locator("#history-gallery .gallery-item").first).to_contain_text("A paper boat drifts")

    with page.expect_download() as download:
        page.locator("#result-download").click()
    assert download.value.suggested_filename == src.rsplit("/", 1)[-1]

    path = artifacts / "text-to-video-result.png"
    shot(page, path)
    save_docs_screenshot(path)


def test_an_over_long_prompt_names_the_field_and_the_limit(page: Page, app: RunningApp) -> None:
    open_studio(page, app.url)
    before = history_total(page)
    prompt_box(page, "t2v").fill("a" * 801)
    counter = page.locator("#t2v-counter .char-count")
    expect(counter).to_have_text("801 / 800")
    expect(counter).to_have_class(re.compile(r"\bover\b"))

    page.locator("#t2v-generate").click()
    error = page.locator("#t2v-prompt").get_by_text("Prompt: 801 characters; the limit is 800")
    expect(error).to_be_visible()
    refusal = page.locator("#t2v-status .refusal[data-field='prompt']")  # nothing was started
    expect(refusal).to_contain_text("Prompt: 801 characters; the limit is 800")
    assert history_total(page) == before

    prompt_box(page, "t2v").fill("a" * 800)
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))


def test_image_to_video_with_an_image_that_needs_fitting(
    page: Page, app: RunningApp, tmp_path: Path, artifacts: Path
) -> None:
    wide = tmp_path / "panorama.png"
    Image.new("RGB", (5000, 1000), (40, 120, 200)).save(wide)
    open_studio(page, app.url)
    open_tab(page, "Image to video")

    upload_image(page, wide)
    report = page.locator("#i2v-preflight .preflight")
    expect(report).to_contain_text("5000×1000", timeout=LONG)
    expect(report).to_contain_text("3:1")
    expect(report).to_contain_text("Fit image")

    prompt_box(page, "i2v").fill("The camera pans slowly across the sky")
    page.locator("#i2v-generate").click()
    expect(page.locator("#i2v-image").get_by_text("Image:")).to_be_visible()  # refused, field marked

    page.locator("#i2v-fit input[type=checkbox]").check()
    expect(report).to_contain_text("'Fit image' is on")
    job_id = generate(page, "i2v")
    wait_until_done(page, "i2v", job_id)
    expect_video_playing(page, r"dreamina_sim-i2v_.*\.mp4")
    expect(details_of(page, job_id)).to_contain_text("image-to-video")
    shot(page, artifacts / "image-to-video-result.png")


def test_a_file_that_is_not_an_image_is_explained_not_crashed_on(
    page: Page, app: RunningApp, tmp_path: Path
) -> None:
    fake = tmp_path / "holiday.png"
    fake.write_text("this is a text file with an image's name")
    open_studio(page, app.url)
    open_tab(page, "Image to video")
    upload_image(page, fake)
    expect(page.locator("#i2v-preflight")).to_contain_text("not an image", timeout=LONG)
    expect(page.locator("#i2v-preflight")).to_contain_text("JPEG or PNG")
