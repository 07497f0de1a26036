"""Fixtures for the reliability tests: real processes (the fake providers, `python app.py`)
and, where a page must be looked at, Debian's Chromium through Playwright.

`canary_studio` is shared by the bad-input, fault and secrets tests: one fake and one app,
both using a canary API key, so that the secrets test searches the logs and files of a run
that also went through every refusal and failure the other files provoke.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.harness import AppProcess, FakeProcess, app_env, fake_process, running_app

CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class CanaryStudio:
    fake: FakeProcess
    app: AppProcess
    canary: str  # the server's key for both providers (RUNCOMFY_API_TOKEN, WAVESPEED_API_KEY)
    session_canary: str  # a second key the fake accepts (RunComfy), for a key typed in a page


def new_canary() -> str:
    return f"sk-canary-{secrets.token_hex(12)}"


@pytest.fixture(scope="session")
def canary_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryStudio]:
    canary, session_canary = new_canary(), new_canary()
    root = tmp_path_factory.mktemp("canary")
    with fake_process(
        root / "fake",
        queue_seconds=0.3,
        run_seconds=0.5,
        runcomfy_key=canary,
        wavespeed_key=canary,
        runcomfy_other_key=session_canary,
    ) as fake:
        env = app_env(root / "app", fake_url=fake.url, runcomfy_key=canary, wavespeed_key=canary)
        with running_app(root / "app", env) as app:
            yield CanaryStudio(fake, app, canary, session_canary)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium, or a skip when it is not installed (a failure when
    STUDIO_REQUIRE_BROWSER=1, as in CI)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package for the page checks"
        if os.environ.get("STUDIO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1320, "height": 1000})  # type: ignore[attr-defined]
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
