"""Jobs outlive clicks: reuse a past job's settings, cancel a queued job, reload the page
mid-job, and two people generating at the same time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import VIEWPORT
from tests.e2e.launcher import RunningApp, launch_app
from tests.e2e.studio_page import (
    LONG,
    expect_video_playing,
    generate,
    history_total,
    make_video,
    open_studio,
    prompt_box,
    running_job_row,
    shot,
    status_card,
    wait_until_done,
)


def test_reuse_settings_fills_the_image_form_and_switches_tab(
    page: Page, app: RunningApp, tmp_path: Path, artifacts: Path
) -> None:
    picture = tmp_path / "garden.png"
    Image.new("RGB", (960, 640), (30, 160, 90)).save(picture)
    job = make_video(
        app.url,
        "Leaves sway as the camera pushes in",
        model="simulator/dreamina-3-0/image-to-video",
        image=handle_file(str(picture)),
        frames=241,
        resolution="1080P",
        seed=4242,
    )

    open_studio(page, app.url)
    tile = page.locator("#history-gallery .gallery-item", has_text="Leaves sway")
    tile.click()
    expect(page.locator(f"#result-details .details-table[data-job='{job['id']}']")).to_be_visible()
    page.locator("#result-reuse").click()

    expect(page.get_by_role("tab", name="Image to video")).to_have_attribute("aria-selected", "true")
    expect(prompt_box(page, "i2v")).to_have_value("Leaves sway as the camera pushes in")
    expect(page.locator("#i2v-frames input[value='241']")).to_be_checked()
    expect(page.locator("#i2v-resolution input[value='1080P']")).to_be_checked()
    expect(page.locator("#i2v-seed input")).to_have_value("4242")
    expect(page.locator("#i2v-image img")).to_be_visible()
    expect(page.locator("#i2v-preflight .preflight.ok")).to_be_visible()
    shot(page, artifacts / "reuse-settings.png")
    # The reused image is a link issued to this visitor, not a fresh upload: it still starts a job.
    again = generate(page, "i2v")
    assert again != job["id"]


@pytest.fixture(scope="module")
def held_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The studio with a queue nobody leaves (an hour): a job stays queued until cancelled.
    A queue of a few seconds raced the click under load: the simulator, like RunComfy,
    cannot cancel a job once it runs, so a late click let the job finish."""
    with launch_app(tmp_path_factory.mktemp("held"), {"STUDIO_SIM_QUEUE_SECONDS": "3600"}) as running:
        yield running


def test_cancel_a_queued_job(page: Page, held_app: RunningApp) -> None:
    open_studio(page, held_app.url)
    job_id = generate(page, "t2v", "A lighthouse in a storm, to be cancelled")
    row = running_job_row(page, job_id)
    expect(row).to_have_attribute("data-state", "queued", timeout=LONG)

    page.locator(".job-row", has=row).locator("button.cancel-job").click()
    expect(status_card(page, "t2v", job_id, "cancelled")).to_be_visible(timeout=LONG)
    expect(row).to_have_count(0)
    record = Client(held_app.url, verbose=False).predict(job_id=job_id, api_name="/job")
    assert record["state"] == "cancelled"
    assert record["video_url"] is None


def test_a_reloaded_page_reattaches_to_its_running_job(page: Page, paced_app: RunningApp) -> None:
    open_studio(page, paced_app.url)
    job_id = generate(page, "t2v", "A slow sunrise over mountains, watched across a reload")
    expect(status_card(page, "t2v", job_id, "queued")).to_be_visible(timeout=LONG)

    page.reload()
    expect(status_card(page, "t2v", job_id)).to_be_visible(timeout=LONG)  # re-attached
    expect(running_job_row(page, job_id)).to_be_visible()
    wait_until_done(page, "t2v", job_id)
    expect_video_playing(page, r"dreamina_sim-t2v_.*a-slow-sunrise.*\.mp4")
    expect(running_job_row(page, job_id)).to_have_count(0)


def test_two_people_generate_at_once_and_neither_waits(
    browser: Browser, app: RunningApp, artifacts: Path
) -> None:
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    try:
        pages = [ctx.new_page() for ctx in contexts]
        for each in pages:
            open_studio(each, app.url)
            prompt_box(each, "t2v").fill("Two kites over a beach, person " + str(pages.index(each) + 1))
        for each in pages:
            each.locator("#t2v-generate").click()
        ids = []
        for each in pages:
            card = each.locator("#t2v-status .status-card[data-job]")
            expect(card).to_be_visible(timeout=LONG)
            ids.append(card.get_attribute("data-job"))
        for each, job_id in zip(pages, ids, strict=True):
            wait_until_done(each, "t2v", job_id)
            expect_video_playing(each, r"two-kites-over-a-beach-person")
        shot(pages[1], artifacts / "second-person.png")
    finally:
        for ctx in contexts:
            ctx.close()

    client = Client(app.url, verbose=False)
    first, second = (client.predict(job_id=job_id, api_name="/job") for job_id in ids)
    assert first["state"] == second["state"] == "succeeded"
    # Both were generating at the same time: each started before the other finished.
    assert first["started_at"] < second["finished_at"]
    assert second["started_at"] < first["finished_at"]


def test_a_key_typed_in_settings_stays_in_the_session(page: Page, app: RunningApp) -> None:
    canary = "rc-canary-0123456789abcdef"
    open_studio(page, app.url)
    expect(page.locator("#t2v-prompt")).to_be_visible()
    radio_label = page.locator("#tab-t2v").get_by_text("RunComfy · no key")
    expect(radio_label).to_be_visible()

    page.get_by_role("tab", name="API keys").click()
    page.locator("#key-runcomfy input").fill(canary)
    page.locator("#keys-save").click()
    expect(page.locator("#keys-status")).to_contain_text("key typed in this session")
    expect(page.locator("#key-runcomfy input")).to_have_value("")
    expect(page.locator("#sim-banner")).to_be_hidden()

    page.get_by_role("tab", name="Text to video").click()
    expect(page.locator("#tab-t2v").get_by_text("RunComfy", exact=True)).to_be_visible()
    expect(radio_label).to_have_count(0)
    assert canary not in page.content()
    stored = page.evaluate(
        "() => JSON.stringify(Object.assign({}, window.localStorage, window.sessionStorage))"
    )
    assert canary not in stored
    assert canary not in app.log()
    for path in app.data_dir.rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), f"the key reached {path}"


def test_history_filters_and_delete(page: Page, app: RunningApp, tmp_path: Path) -> None:
    client = Client(app.url, verbose=False)
    picture = tmp_path / "tree.png"
    Image.new("RGB", (640, 640), (90, 60, 30)).save(picture)
    client.predict(
        prompt="Filter me: a kite at dusk",
        model="simulator/dreamina-3-0/text-to-video",
        api_name="/text_to_video",
    )
    client.predict(
        prompt="Filter me: a swaying tree",
        image=handle_file(str(picture)),
        model="simulator/dreamina-3-0/image-to-video",
        api_name="/image_to_video",
    )
    open_studio(page, app.url)
    tiles = page.locator("#history-gallery .gallery-item")
    total = history_total(page)
    assert total >= 2

    page.locator("#history-model input").click()
    page.get_by_role("option", name="Simulator (offline) · Simulated Dreamina 3.0 · image-to-video").click()
    expect(tiles.filter(has_text="kite")).to_have_count(0)
    expect(tiles.filter(has_text="a swaying tree")).to_have_count(1)

    page.locator("#history-model input").click()
    page.get_by_role("option", name="All models").click()
    # Search only once the "All models" page is drawn, as a person would: two history
    # loads in flight at once can reach the server in either order (see docs/architecture.md).
    expect(tiles.filter(has_text="a kite at dusk").first).to_be_visible(timeout=LONG)
    page.get_by_role("textbox", name="Search prompts").fill("kite at dusk")
    expect(tiles).to_have_count(1)
    expect(tiles.first).to_contain_text("a kite at dusk")

    tiles.first.click()
    expect(page.locator("#result-details")).to_contain_text("a kite at dusk")
    page.locator("#result-delete").click()
    page.locator("#result-delete-confirm").click()
    expect(page.locator("#history-empty")).to_contain_text("Nothing matches")
    expect(page.locator("#result-empty")).to_be_visible()
    page.get_by_role("textbox", name="Search prompts").fill("")
    expect(page.locator(".pager-text")).to_have_attribute("data-total", str(total - 1))


def test_export_downloads_the_pages_videos_posters_and_settings(page: Page, app: RunningApp) -> None:
    import json
    import zipfile

    job = make_video(app.url, "Export me: a lantern on a lake")
    open_studio(page, app.url)
    page.locator("#history-export").click()
    link = page.locator("#history-export-file a[download]").first
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as download_info:
        link.click()
    archive = download_info.value.path()
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert f"videos/{job['id']}.mp4" in names
        assert f"posters/{job['id']}.webp" in names
        metadata = json.loads(zipped.read(f"metadata/{job['id']}.json"))
    assert metadata["prompt"] == "Export me: a lantern on a lake" and metadata["seed"] == job["seed"]
