"""A public demo (Spaces, STUDIO_PUBLIC=1) with the owner's key: each browser sees only its
own videos, the page says whose credits it spends, and the hourly limit holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gradio_client import Client
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import VIEWPORT
from tests.e2e.desk import window
from tests.e2e.launcher import RunningApp, free_port, launch_app
from tests.e2e.studio_page import LONG, generate_and_wait, history_total, open_studio


@pytest.fixture(scope="module")
def public_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {
        "STUDIO_PUBLIC": "1",
        "STUDIO_MAX_JOBS_PER_HOUR": "1",
        "WAVESPEED_API_KEY": "ws-server-key-for-the-demo",
        "WAVESPEED_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    with launch_app(tmp_path_factory.mktemp("public"), env) as running:
        yield running


def test_each_browser_owns_its_videos_within_the_hourly_limit(
    browser: Browser, public_app: RunningApp
) -> None:
    with window(browser, VIEWPORT) as page, window(browser, VIEWPORT) as other:
        open_studio(page, public_app.url)
        expect(page.locator("#credits-notice")).to_contain_text("spends the owner's credits")
        expect(page.locator("#credits-notice")).to_contain_text("1 video per hour")
        page.locator("#tab-t2v").get_by_text("Simulator (offline)", exact=True).click()
        expect(page.locator("#t2v-model input")).to_have_value("Simulated Dreamina 3.0 · text-to-video")
        # The price line reads this visitor's budget (their address's hour) beside Generate.
        expect(page.locator("#t2v-price")).to_contain_text("1 video left this hour", timeout=LONG)
        generate_and_wait(page, "t2v", "Mine alone: a lantern on a lake")
        expect(page.locator(".pager-text")).to_have_attribute("data-total", "1", timeout=LONG)

        page.locator("#t2v-generate").click()  # the second within the hour
        expect(page.locator("#t2v-status")).to_contain_text("per hour per person", timeout=LONG)

        open_studio(other, public_app.url)
        assert history_total(other) == 0
        expect(other.locator("#history-empty")).to_contain_text("No videos yet")

        open_studio(page, public_app.url)  # a fresh load of the same browser
        assert history_total(page) == 1  # the browser keeps its owner across reloads

    api_client = Client(public_app.url, verbose=False)
    assert api_client.predict(api_name="/history")["total"] == 0  # an API client is an owner of its own
    with pytest.raises(Exception, match="per hour"):  # but a new session does not renew the hour
        api_client.predict(
            prompt="A fresh session", model="simulator/dreamina-3-0/text-to-video", api_name="/text_to_video"
        )
