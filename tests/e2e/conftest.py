"""Browser-test fixtures: the app as a subprocess, Debian's Chromium through Playwright.

Chromium is /usr/bin/chromium (a Playwright browser download cannot work offline). When it
is missing the browser tests are skipped, unless STUDIO_REQUIRE_BROWSER=1 (CI), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.launcher import ARTIFACTS, RunningApp, launch_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1320, "height": 1000}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("STUDIO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[object]:
    # Module scope on purpose: while a sync Playwright is alive, the main thread's event
    # loop counts as running, which would break the async tests that run after these.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Each launch gets a fresh temporary profile (user-data dir) from Playwright.
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The studio with a fast simulator: queued 1 s, generating 2 s."""
    with launch_app(tmp_path_factory.mktemp("app")) as running:
        yield running


@pytest.fixture(scope="module")
def paced_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The studio with a slow queue (8 s), leaving time to cancel or reload mid-job."""
    with launch_app(
        tmp_path_factory.mktemp("paced"), {"STUDIO_SIM_QUEUE_SECONDS": "8", "STUDIO_SIM_RUN_SECONDS": "2"}
    ) as running:
        yield running


@pytest.fixture
def context(browser: object) -> Iterator[object]:
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[attr-defined]
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: object) -> object:
    return context.new_page()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def save_docs_screenshot(source: Path) -> None:
    """The README's picture comes from a real run of the browser tests. It is replaced when
    missing or when STUDIO_UPDATE_SCREENSHOT=1, so an ordinary test run leaves the committed
    file alone (every run's picture differs: seed, time)."""
    target = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
    if not target.exists() or os.environ.get("STUDIO_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(source, target)
