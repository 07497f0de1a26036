"""What a person does on the studio page, in a few words each (a small page object).

Every wait is on something visible or on the page's own state, never a sleep.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

LONG = 90_000  # a whole simulated job on a slow CI machine, with room to spare
SIM_T2V = "simulator/dreamina-3-0/text-to-video"


def open_studio(page: Page, url: str) -> None:
    """Open the page and wait until it has loaded this owner's history (the load event).
    The first draw gets the same budget as the rest: on a busy 2-core machine Gradio's
    "Loading..." can outlast Playwright's 5 s default (page-load speed is benchmarked, in
    bench/history.py, not asserted here)."""
    page.goto(url)
    expect(page.locator("#t2v-generate")).to_be_visible(timeout=LONG)
    expect(page.locator(".pager-text[data-total]")).to_be_attached(timeout=LONG)


def history_total(page: Page) -> int:
    return int(page.locator(".pager-text[data-total]").get_attribute("data-total") or 0)


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def prompt_box(page: Page, kind: str) -> Locator:
    return page.locator(f"#{kind}-prompt textarea")


def generate(page: Page, kind: str, prompt: str | None = None) -> str:
    """Press Generate and return the id of the job the tab's status panel now follows."""
    before = page.locator(f"#{kind}-status .status-card").get_attribute("data-job")
    if prompt is not None:
        prompt_box(page, kind).fill(prompt)
    page.locator(f"#{kind}-generate").click()
    card = page.locator(f"#{kind}-status .status-card[data-job]")
    if before:
        card = page.locator(f"#{kind}-status .status-card[data-job]:not([data-job='{before}'])")
    expect(card).to_be_visible(timeout=LONG)
    job_id = card.get_attribute("data-job")
    assert job_id
    return job_id


def status_card(page: Page, kind: str, job_id: str, state: str | None = None) -> Locator:
    selector = f"#{kind}-status .status-card[data-job='{job_id}']"
    if state:
        selector += f"[data-state='{state}']"
    return page.locator(selector)


def wait_until_done(page: Page, kind: str, job_id: str) -> None:
    expect(status_card(page, kind, job_id, "succeeded")).to_be_visible(timeout=LONG)


def generate_and_wait(page: Page, kind: str, prompt: str | None = None) -> str:
    """Press Generate, wait until the job has succeeded, return its id."""
    job_id = generate(page, kind, prompt)
    wait_until_done(page, kind, job_id)
    return job_id


def upload_image(page: Page, path: Path) -> None:
    """Put a file in the image-to-video tab's image input (the tab must be open)."""
    page.locator("#i2v-image input[type=file]").set_input_files(str(path))


def make_video(url: str, prompt: str, **options: Any) -> dict[str, Any]:
    """A finished video made through the API (quicker than through the page), as the
    job record the API returns. `model` defaults to the simulator's text-to-video; an
    `image` (a gradio_client file) makes it an image-to-video call."""
    from gradio_client import Client

    api_name = "/image_to_video" if "image" in options else "/text_to_video"
    model = options.pop("model", SIM_T2V)
    _, job = Client(url, verbose=False).predict(prompt=prompt, model=model, api_name=api_name, **options)
    assert job["state"] == "succeeded", job
    return job


def expect_video_playing(page: Page, name_pattern: str) -> str:
    """The result player has the job's video loaded; returns its src."""
    video = page.locator("#result-video video")
    expect(video).to_have_attribute("src", re.compile(name_pattern), timeout=LONG)
    page.wait_for_function(
        "() => { const v = document.querySelector('#result-video video');"
        " return !!v && (v.readyState >= 2 || v.duration > 0); }",
        timeout=LONG,
    )
    return video.get_attribute("src") or ""


def details_of(page: Page, job_id: str) -> Locator:
    table = page.locator(f"#result-details .details-table[data-job='{job_id}']")
    expect(table).to_be_visible(timeout=LONG)
    return table


def job_seed(page: Page, job_id: str) -> int:
    return int(details_of(page, job_id).locator(".seed-used").inner_text())


def running_job_row(page: Page, job_id: str) -> Locator:
    return page.locator(f".job-text[data-job='{job_id}']")


def shot(page: Page, path: Any) -> None:
    page.screenshot(path=str(path), full_page=True)
