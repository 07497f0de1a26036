"""Done signals: with the page in the background, a finished job changes the tab's title,
plays the chime through the page's audio element and, with notifications granted in the
browser context, shows a system notification; the sound switch is remembered.

The jobs run on the local fake, held in its queue until the test lets them go: a job of a
few seconds could end before the page's first look at it under load (no progress in the
title to see) or before the test had put the page in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORT
from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.e2e.studio_page import LONG
from tests.fakes import FakeProviders

# Observers installed before the page's own scripts: every "play" of a media element (media
# events do not bubble: the capture phase sees them), every Notification made, and a
# visibilityState the test can flip (a headless page is never really in the background).
SPIES = """
window.__played = [];
document.addEventListener("play", (e) => window.__played.push(e.target.id), true);
window.__notes = [];
const Real = window.Notification;
class Spy extends Real {
  constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); }
}
Object.defineProperty(Spy, "permission", { get: () => Real.permission });
Spy.requestPermission = (...args) => Real.requestPermission(...args);
window.Notification = Spy;
window.__hidden = false;
Object.defineProperty(document, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
Object.defineProperty(document, "hidden", { get: () => window.__hidden });
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=3600, run_seconds=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    """The studio on the fake (WaveSpeedAI), whose jobs stay queued until let go."""
    with launch_app(tmp_path_factory.mktemp("signals"), on_fake(fake.base_url, "wavespeed")) as running:
        yield running


def let_go(fake: FakeProviders, prompt: str) -> None:
    """The held job with `prompt` (once the app has submitted it) leaves the queue now and
    runs for a second."""
    deadline = time.monotonic() + LONG / 1000
    while True:
        held = [job for job in list(fake.jobs.values()) if job.payload.get("prompt") == prompt]
        if held:
            break
        assert time.monotonic() < deadline, f"no job submitted for {prompt!r}"
        time.sleep(0.1)
    for job in held:
        job.queue_seconds = time.time() - job.created_at


@pytest.fixture
def page_with_spies(browser: object, app: RunningApp) -> Iterator[Page]:
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")  # type: ignore[attr-defined]
    ctx.grant_permissions(["notifications"], origin=app.url.rstrip("/"))
    ctx.set_default_timeout(30_000)
    ctx.add_init_script(SPIES)
    yield ctx.new_page()
    ctx.close()


def _background(page: Page) -> None:
    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")


def test_a_job_done_in_the_background_changes_title_plays_and_notifies(
    page_with_spies: Page, app: RunningApp, fake: FakeProviders
) -> None:
    page = page_with_spies
    page.goto(app.url)
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
    # Permission is granted in this context, so no button asks for it.
    expect(page.locator("#notify-ask")).to_be_hidden()
    expect(page.locator("#notify-on")).to_be_visible()
    title = page.title()
    assert title == "Dreamina Studio"

    prompt = "A lighthouse at dusk, waves below"
    page.locator("#t2v-prompt textarea").fill(prompt)
    page.locator("#t2v-generate").click()
    page.wait_for_function("document.title.startsWith('⏳')")  # progress while it runs
    _background(page)
    let_go(fake, prompt)

    page.wait_for_function("document.title.startsWith('✓')", timeout=60_000)
    assert page.title() == "✓ Dreamina Studio"
    page.wait_for_function("window.__played.includes('done-sound')")
    played = page.evaluate("document.getElementById('done-sound').played.length")
    assert played >= 1
    notes = page.evaluate("window.__notes")
    assert notes == [{"title": "Your video is ready", "body": "Dreamina Studio"}]

    # Back in front: the mark goes after the person has seen the page for a moment.
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("document.title === 'Dreamina Studio'", timeout=15_000)


def test_the_sound_switch_is_remembered_and_silences_the_chime(
    page_with_spies: Page, app: RunningApp, fake: FakeProviders
) -> None:
    page = page_with_spies
    page.goto(app.url)
    toggle = page.locator("#sound-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")

    prompt = "A quiet harbour, no sound please"
    page.locator("#t2v-prompt textarea").fill(prompt)
    page.locator("#t2v-generate").click()
    let_go(fake, prompt)
    page.wait_for_function("document.title.startsWith('✓')", timeout=60_000)
    assert page.evaluate("window.__played") == []
    # In the foreground: no notification either (the tab itself shows it).
    assert page.evaluate("window.__notes") == []
