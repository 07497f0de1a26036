"""A page left open longer than its media links live still plays its video and shows its
history (issue 11, owner-only media with short-lived links that the page refreshes), while
another visitor holding the same URLs still gets nothing.

The links live 6 s here (STUDIO_MEDIA_LINK_SECONDS), so "two hours" is 15 s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.launcher import RunningApp, launch_app
from tests.e2e.studio_page import LONG, expect_video_playing, generate, open_studio, wait_until_done

LIFETIME = 6

FETCH_STATUS = """async (urls) => {
  const out = [];
  for (const url of urls) {
    const answer = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    out.push(answer.status);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def short_links_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {
        "STUDIO_PUBLIC": "1",
        "STUDIO_MEDIA_LINK_SECONDS": str(LIFETIME),
        "STUDIO_SIM_QUEUE_SECONDS": "0.2",
        "STUDIO_SIM_RUN_SECONDS": "0.5",
    }
    with launch_app(tmp_path_factory.mktemp("short-links"), env) as running:
        yield running


def media_urls(page: Page) -> list[str]:
    """The result video's and the history posters' URLs, as the page holds them now."""
    urls = page.evaluate(
        """() => [
          document.querySelector('#result-video video')?.src,
          ...[...document.querySelectorAll('#history-gallery img')].map((img) => img.src),
        ].filter(Boolean)"""
    )
    return list(urls)


# The renewal is the page's one unqueued timer event (ui/link_refresh.py).
RENEWAL_FN = """() => window.gradio_config.dependencies.find(
  (d) => d.queue === false && d.targets.some(([, event]) => event === "tick")).id"""


def renewals_answered(page: Page) -> list[float]:
    """A list that gains the time (monotonic) of each renewal the server answers."""
    fn_index = page.evaluate(RENEWAL_FN)
    answered: list[float] = []

    def on_response(response: Any) -> None:
        body = response.request.post_data or ""
        if response.url.endswith("/run/predict") and f'"fn_index":{fn_index},' in body and response.ok:
            answered.append(time.monotonic())

    page.on("response", on_response)
    return answered


def test_a_page_open_past_its_links_life_still_plays_and_another_visitor_still_cannot(
    short_links_app: RunningApp, browser: Any, page: Page
) -> None:
    open_studio(page, short_links_app.url)
    renewals = renewals_answered(page)
    job = generate(page, "t2v", "a lighthouse left open")
    wait_until_done(page, "t2v", job)
    src = expect_video_playing(page, r"dreamina_sim-t2v_")
    expect(page.locator("#history-gallery img").first).to_be_visible(timeout=LONG)
    before = media_urls(page)
    assert len(before) >= 2 and all("dreamina" in url for url in before), before
    assert page.evaluate(FETCH_STATUS, before) == [200] * len(before)

    # The page is left open for 2.5 lifetimes of its links (the point of this test is the
    # time passing, so this is a real wait, not a wait for something on the page).
    page.wait_for_timeout(LIFETIME * 2500)
    # Then the next renewal the server answers: under load (12-40 on two cores) renewals a
    # third of a lifetime apart can lapse for longer than the 6 s links live, and a link is
    # good again once renewed, so the check starts from one, not from wherever the clock is.
    waited = time.monotonic()
    deadline = waited + LONG / 1000
    while not any(at > waited for at in renewals):
        assert time.monotonic() < deadline, "the page sent no renewal the server answered"
        page.wait_for_timeout(100)

    after = media_urls(page)
    assert after == before, "the links changed: the player would have reloaded"
    statuses = page.evaluate(FETCH_STATUS, after)
    assert statuses == [200] * len(after), f"the open page's media stopped working: {statuses}"
    video = page.locator("#result-video video")
    assert video.get_attribute("src") == src
    assert page.evaluate("() => document.querySelector('#result-video video').error") is None
    # It really plays from the start again (a seek needs the file, not a buffered copy).
    page.evaluate("() => { const v = document.querySelector('#result-video video'); v.currentTime = 0; v.play(); }")
    page.wait_for_function(
        "() => { const v = document.querySelector('#result-video video'); return v.currentTime > 0.2; }",
        timeout=LONG,
    )

    # Another visitor (another browser, its own cookie) holding the same URLs: refused.
    stranger_context = browser.new_context()
    try:
        stranger = stranger_context.new_page()
        stranger.goto(short_links_app.url)
        assert set(stranger.evaluate(FETCH_STATUS, after)) <= {403, 404}
    finally:
        stranger_context.close()
