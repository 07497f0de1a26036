"""The page as a new user meets it on the simulator (issue 15), at 1440×900 and on a phone:
refusals where the person is looking, a layout that keeps the form, Generate, the status
and the result in view, honest words, and the keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.desk import DESKTOP, PHONE, fully_in_view, sideways_overflow, window
from tests.e2e.launcher import RunningApp, launch_app
from tests.e2e.studio_page import (
    LONG,
    details_of,
    expect_video_playing,
    generate,
    generate_and_wait,
    make_video,
    open_studio,
    open_tab,
    prompt_box,
    running_job_row,
    upload_image,
    wait_until_done,
)


@pytest.fixture
def desk(browser: Any) -> Iterator[Page]:
    with window(browser, DESKTOP) as page:
        yield page


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """A simulator whose jobs run 6 s after a 1 s queue: time to cancel a running job."""
    with launch_app(
        tmp_path_factory.mktemp("slow"), {"STUDIO_SIM_QUEUE_SECONDS": "1", "STUDIO_SIM_RUN_SECONDS": "6"}
    ) as running:
        yield running


# --- 2, 8: a refusal is shown under Generate, where the person is looking -------------------


def test_an_image_refused_at_generate_is_explained_under_the_button(
    desk: Page, app: RunningApp, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.png"
    Image.new("RGB", (5000, 5000), (200, 120, 40)).save(huge)
    open_studio(desk, app.url)
    open_tab(desk, "Image to video")
    upload_image(desk, huge)
    expect(desk.locator("#i2v-preflight .preflight")).to_contain_text("5000×5000", timeout=LONG)
    prompt_box(desk, "i2v").fill("The camera pushes in")
    desk.locator("#i2v-generate").click()

    refusal = desk.locator("#i2v-status .refusal[data-field='image']")
    expect(refusal).to_contain_text("Image:")
    expect(refusal).to_contain_text("5000×5000")
    assert fully_in_view(desk, "#i2v-status .refusal"), "the refusal is under the button, on screen"
    expect(desk.locator("#i2v-image")).to_have_css(
        "box-shadow", re.compile(r"rgb\(220, 38, 38\)")
    )  # the control at fault


def test_a_provider_without_a_key_cannot_be_generated_with_and_says_why(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    desk.locator("#tab-t2v").get_by_text("RunComfy · no key").click()
    refusal = desk.locator("#t2v-status .refusal[data-field='model']")
    expect(refusal).to_contain_text("RunComfy: Needs RUNCOMFY_API_TOKEN")
    expect(refusal).to_contain_text("API keys tab")  # item 8: the tab's real name
    expect(refusal).not_to_contain_text("Settings")
    expect(desk.locator("#t2v-generate")).to_be_disabled()
    assert fully_in_view(desk, "#t2v-status .refusal")

    desk.locator("#tab-t2v").get_by_text("Simulator (offline)", exact=True).click()
    expect(desk.locator("#t2v-generate")).to_be_enabled()
    expect(desk.locator("#t2v-status .status-card.idle")).to_be_visible()


# --- 3: the simulator's cancel note is true, and ends with the job ---------------------------


def test_cancelling_a_running_simulated_job_says_it_is_free_and_the_note_ends_with_it(
    desk: Page, slow_app: RunningApp
) -> None:
    open_studio(desk, slow_app.url)
    job_id = generate(desk, "t2v", "A lighthouse in a storm, waves crash")
    expect(desk.locator(f"#t2v-status [data-job='{job_id}'][data-state='running']")).to_be_visible(
        timeout=LONG
    )
    desk.locator("#t2v-cancel").click()
    note = desk.locator("#t2v-status .status-note")
    expect(note).to_contain_text("bills nothing", timeout=LONG)
    expect(note).not_to_contain_text("billed")
    wait_until_done(desk, "t2v", job_id)
    expect(desk.locator("#t2v-status .status-note")).to_have_count(0)


# --- 4: two of the simulator's queued jobs never share a place -------------------------------


def test_two_queued_simulated_jobs_have_different_places(desk: Page, paced_app: RunningApp) -> None:
    open_studio(desk, paced_app.url)
    first = generate(desk, "t2v", "First in line: a red kite")
    second = generate(desk, "t2v", "Second in line: a blue kite")
    rows = [running_job_row(desk, job) for job in (first, second)]
    for row in rows:
        expect(row).to_contain_text(re.compile(r"#\d+ in queue"), timeout=LONG)
    places = [int(re.search(r"#(\d+) in queue", row.inner_text()).group(1)) for row in rows]  # type: ignore[union-attr]
    assert places[1] > places[0] >= 1, places
    for job in (first, second):  # leave nothing queued for the next test
        desk.locator(f".job-row:has(.job-text[data-job='{job}']) button").click()
        expect(running_job_row(desk, job)).to_have_count(0, timeout=LONG)


# --- 10: Fit says what it will change -----------------------------------------------------


def test_fit_says_what_it_changes(desk: Page, app: RunningApp, tmp_path: Path) -> None:
    huge = tmp_path / "big.png"
    Image.new("RGB", (5000, 2500), (30, 90, 160)).save(huge)
    open_studio(desk, app.url)
    open_tab(desk, "Image to video")
    upload_image(desk, huge)
    report = desk.locator("#i2v-preflight .preflight")
    expect(report).to_contain_text("5000×2500", timeout=LONG)
    desk.locator("#i2v-fit input[type=checkbox]").check()
    expect(report).to_contain_text("will change it", timeout=LONG)
    expect(report).to_contain_text("to 4096×2048")


# --- 11: delete asks first ------------------------------------------------------------


def stored_video(app: RunningApp, job_id: str) -> Path:
    """Where the app keeps a job's video, from its database."""
    import sqlite3

    with sqlite3.connect(f"file:{app.data_dir / 'studio.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
        (path,) = db.execute("SELECT video_path FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return Path(path)


def test_delete_asks_first_and_keep_keeps_the_video(desk: Page, app: RunningApp) -> None:
    job = make_video(app.url, "A fox crosses a snowy field at dawn")
    open_studio(desk, app.url)
    desk.locator("#history-gallery .gallery-item", has_text="A fox crosses").click()
    details_of(desk, job["id"])
    desk.locator("#result-delete").click()
    expect(desk.locator("#result-confirm")).to_contain_text("cannot be undone")
    desk.locator("#result-delete-keep").click()
    expect(desk.locator("#result-confirm")).to_be_hidden()
    expect(details_of(desk, job["id"])).to_be_visible()
    video = stored_video(app, job["id"])  # the API gives URLs, not server paths
    assert video.is_file(), "Delete alone deleted nothing"

    desk.locator("#result-delete").click()
    desk.locator("#result-delete-confirm").click()
    expect(desk.locator("#result-empty")).to_be_visible(timeout=LONG)
    assert not video.exists()


# --- 14: the form, Generate, the status and the result in view together ----------------------


def test_at_1440_by_900_generate_status_and_result_are_in_view_together(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    assert fully_in_view(desk, "#t2v-generate"), "Generate is above the fold on first load"
    assert fully_in_view(desk, "#t2v-status .status-card")
    generate_and_wait(desk, "t2v", "A hot-air balloon over green hills")
    expect_video_playing(desk, r"dreamina_sim-t2v_")
    assert fully_in_view(desk, "#t2v-status .status-card"), "the status stays where it was"
    assert fully_in_view(desk, "#result-video video"), "the finished video is in view beside it"

    desk.locator("#history-export").scroll_into_view_if_needed()
    desk.locator("#history-export").click()
    link = desk.locator("#history-export-file a").first
    expect(link).to_be_visible(timeout=LONG)
    desk.wait_for_function(  # the page brings it into view once drawn
        """() => { const b = document.querySelector('#history-export-file a').getBoundingClientRect();
                   return b.top >= 0 && b.bottom <= window.innerHeight; }""",
        timeout=10_000,
    )


# --- 15, 17: words --------------------------------------------------------------------


def test_the_words_say_each_thing_once_and_the_times_agree(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    facts = desk.locator("#tab-t2v .model-facts")
    expect(facts).to_contain_text("free")
    expect(facts).not_to_contain_text("free (offline)")
    job_id = generate_and_wait(desk, "t2v", "A koi pond in the rain")
    status = desk.locator(f"#t2v-status [data-job='{job_id}']")
    expect(status).not_to_contain_text("(Simulator (offline))")
    done = re.search(r"Done in (\d+:\d+)", status.inner_text())
    total = re.search(r"total (\d+:\d+)", details_of(desk, job_id).inner_text())
    assert done and total and done.group(1) == total.group(1), (done, total)


def test_a_seed_out_of_range_is_refused_by_name_not_with_a_bare_error(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    prompt_box(desk, "t2v").fill("A windmill at sunset")
    desk.locator("#t2v-seed input").fill("3000000000")
    desk.locator("#t2v-generate").click()
    refusal = desk.locator("#t2v-status .refusal[data-field='seed']")
    expect(refusal).to_contain_text("Seed")
    expect(refusal).to_contain_text("2147483647")
    expect(desk.locator(".toast-body", has_text=re.compile(r"^\s*Error\s*$"))).to_have_count(0)


def test_a_file_that_is_not_an_image_shows_no_broken_picture(
    desk: Page, app: RunningApp, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("a shopping list, not a picture")
    open_studio(desk, app.url)
    open_tab(desk, "Image to video")
    upload_image(desk, fake)
    expect(desk.locator("#i2v-preflight")).to_contain_text("not an image", timeout=LONG)
    expect(desk.locator("#i2v-image img")).not_to_be_visible()


# --- 16: history tiles show the whole poster and the prompt --------------------------------


def test_history_tiles_show_wide_posters_whole_and_the_prompt(desk: Page, app: RunningApp) -> None:
    make_video(app.url, "A very wide desert road under a violet sky, slow drone shot", aspect_ratio="21:9")
    open_studio(desk, app.url)
    tile = desk.locator("#history-gallery .gallery-item", has_text="A very wide desert").first
    expect(tile).to_be_visible(timeout=LONG)
    expect(tile.locator("img")).to_have_css("object-fit", "contain")
    caption = tile.locator(".caption-label")
    clipped = caption.evaluate(
        "e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1"
    )
    assert not clipped, "the prompt under the tile is cut"


# --- keyboard ---------------------------------------------------------------------------


def test_ctrl_enter_generates_from_the_prompt(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    box = prompt_box(desk, "t2v")
    box.fill("A paper lantern floats up into the night")
    box.press("Control+Enter")
    expect(desk.locator("#t2v-status .status-card[data-job]")).to_be_visible(timeout=LONG)
    expect(box).to_have_value("A paper lantern floats up into the night")  # no newline typed


# Where keyboard focus is, and whether a person can see it: an outline of at least 2 px on
# the focused element (Gradio's own focus styles are a faint shadow or none at all).
FOCUS_STOP = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const block = el.closest('[id]');
  return { id: block ? block.id : '', tag: el.tagName,
           visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
}"""


def test_the_keyboard_walks_the_form_in_order_to_generate_with_visible_focus(
    desk: Page, app: RunningApp
) -> None:
    open_studio(desk, app.url)
    prompt_box(desk, "t2v").focus()
    stops = []
    for _ in range(30):
        desk.keyboard.press("Tab")
        stop = desk.evaluate(FOCUS_STOP)
        stops.append(stop)
        if stop["id"] == "t2v-generate":
            break
    order = [stop["id"] for stop in stops]
    assert "t2v-generate" in order, f"Generate not reached by Tab from the prompt: {order}"
    # The options come in the form's order, before the seed and Generate.
    firsts = [order.index(i) for i in ("t2v-aspect_ratio", "t2v-frames", "t2v-resolution", "t2v-seed", "t2v-generate")]
    assert firsts == sorted(firsts), order
    hidden = [stop for stop in stops if not stop["visible"]]
    assert not hidden, f"focus not visible on {hidden}"


def test_history_tiles_are_named_once_by_their_caption(desk: Page, app: RunningApp) -> None:
    make_video(app.url, "A heron waits in the reeds at dawn")
    open_studio(desk, app.url)
    tile = desk.locator("#history-gallery .thumbnail-item", has_text="A heron waits").first
    expect(tile).to_be_visible(timeout=LONG)
    caption = tile.locator(".caption-label").inner_text().strip()
    expect(tile).to_have_attribute("aria-label", caption)  # not "Thumbnail 1 of 4"
    expect(tile.locator("img")).to_have_attribute("alt", "")  # the caption is not said twice


def test_at_1440_the_frames_choices_sit_side_by_side(desk: Page, app: RunningApp) -> None:
    open_studio(desk, app.url)
    chips = desk.locator("#t2v-frames label")
    expect(chips).to_have_count(2)
    first, second = chips.nth(0).bounding_box(), chips.nth(1).bounding_box()
    assert first and second
    assert abs(first["y"] - second["y"]) < 2, "the frames choices stack on two lines"
    assert first["height"] < 40, "a frames choice wraps inside itself"


# --- 12: a phone ------------------------------------------------------------------------


def test_on_a_phone_nothing_scrolls_sideways_and_the_video_fits(browser: Any, app: RunningApp) -> None:
    make_video(app.url, "A tram climbs a hill at dusk", aspect_ratio="16:9")
    with window(browser, PHONE, is_mobile=True, has_touch=True) as phone:
        open_studio(phone, app.url)
        assert sideways_overflow(phone) == 0, "the page scrolls sideways"
        footer = phone.locator("footer")
        expect(footer).not_to_have_text(re.compile(r"^\W*·\W*$"))
        phone.locator("#history-gallery .gallery-item", has_text="A tram climbs").click()
        expect_video_playing(phone, r"dreamina_sim-t2v_")
        player = phone.locator("#result-video")
        video_box = phone.locator("#result-video video").bounding_box()
        player_box = player.bounding_box()
        assert video_box and player_box
        assert player_box["height"] - video_box["height"] < 80, (player_box, video_box)
        older, newer = phone.locator("#history-next"), phone.locator("#history-prev")
        older_box, newer_box = older.bounding_box(), newer.bounding_box()
        assert older_box and newer_box and abs(older_box["y"] - newer_box["y"]) < 2, "paging buttons align"
        assert sideways_overflow(phone) == 0
        # the extra tabs fold into Gradio's "More tabs" menu, and Compare opens from it
        phone.get_by_role("button", name="More tabs").click()
        phone.locator(".overflow-dropdown button", has_text="Compare").click()
        expect(phone.locator("#compare-generate")).to_be_visible()
        assert sideways_overflow(phone) == 0, "the Compare tab scrolls sideways"


# --- accessibility: axe-core finds nothing serious or critical -------------------------------


def serious_violations(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_empty_running_and_done(desk: Page, slow_app: RunningApp) -> None:
    open_studio(desk, slow_app.url)
    assert serious_violations(desk) == [], "empty page"
    job_id = generate(desk, "t2v", "A snail climbs a dewy leaf, macro")
    expect(desk.locator(f"#t2v-status [data-job='{job_id}'][data-state='running']")).to_be_visible(
        timeout=LONG
    )
    assert serious_violations(desk) == [], "while a job runs"
    wait_until_done(desk, "t2v", job_id)
    expect_video_playing(desk, r"dreamina_sim-t2v_")
    assert serious_violations(desk) == [], "with the finished video"
