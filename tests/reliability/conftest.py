"""Fixtures for the reliability tests: real processes (the fake providers, `python app.py`)
and, where a page must be looked at, Debian's Chromium through Playwright.

`canary_studio` is shared by the bad-input, fault and secrets tests: one fake and one app,
both using a canary API key, so that the secrets test searches the logs and files of a run
that also went through every refusal and failure the other files provoke. Pages are looked
at through tests/reliability/browser.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.reliability.harness import AppProcess, FakeProcess, app_env, fake_process, running_app


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
