"""Look at the studio's page in headless Chromium (Debian's /usr/bin/chromium).

Each look runs Playwright's sync API on a worker thread with its own Playwright instance:
a session-scoped sync Playwright elsewhere in the run (tests/e2e) owns the main thread's
event loop, and a second sync instance on that thread refuses to start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-quic",
]


def require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package for the page checks"
        if os.environ.get("STUDIO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def run_in_browser(look: Callable[[Any], T], *, http_credentials: dict[str, str] | None = None) -> T:
    """`look(page)` on a fresh page of a fresh browser; returns what it returns."""
    require_chromium()

    def work() -> T:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            try:
                context = browser.new_context(
                    viewport={"width": 1320, "height": 1000}, http_credentials=http_credentials
                )
                context.set_default_timeout(30_000)
                return look(context.new_page())
            finally:
                browser.close()

    with ThreadPoolExecutor(1, thread_name_prefix="browser") as pool:
        return pool.submit(work).result(timeout=180)
