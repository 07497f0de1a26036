"""The login lock as a person meets it (issue 11): after wrong passwords the gate answers
429, and Gradio's login page on its own shows nothing for that (a stale "Incorrect
Credentials" stayed, and Login seemed to do nothing, even with the right password)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.launcher import RunningApp, launch_app
from tests.e2e.studio_page import LONG


@pytest.fixture(scope="module")
def password_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with launch_app(tmp_path_factory.mktemp("login"), {"STUDIO_AUTH": "alice:pw-alice-1"}) as running:
        yield running


def lock_for_at_least(app: RunningApp, seconds: float) -> None:
    """Wrong passwords for alice (waiting out each lock, as only a checked password grows
    it) until her lock is at least `seconds` long: a person's next try falls inside it even
    on a slow machine."""
    lock = 0.0
    while lock < seconds:
        answer = httpx.post(app.url + "login", data={"username": "alice", "password": "wrong"})
        if answer.status_code == 429:
            time.sleep(float(answer.headers["retry-after"]))
            continue
        assert answer.status_code == 400, answer.text
        locked = httpx.post(app.url + "login", data={"username": "alice", "password": "wrong"})
        lock = float(locked.headers.get("retry-after", 0)) if locked.status_code == 429 else 0.0


def sign_in(page: Page, user: str, password: str) -> None:
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    with page.expect_response(lambda answer: answer.url.rstrip("/").endswith("/login")):
        page.get_by_role("button", name="Login").click()


def test_a_locked_login_says_so_and_the_right_password_works_after_the_wait(
    password_app: RunningApp, page: Page, artifacts: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(password_app.url)
    sign_in(page, "alice", "wrong")
    expect(page.locator("p.creds")).to_be_visible()  # Gradio's own "Incorrect Credentials"
    lock_for_at_least(password_app, 6)
    sign_in(page, "alice", "pw-alice-1")  # refused: the name is locked
    alert = page.locator("#studio-login-lock")
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Too many wrong passwords")
    expect(alert).to_contain_text("even with the right password")
    expect(page.locator("p.creds")).to_be_hidden()  # not the stale "Incorrect Credentials"
    page.screenshot(path=str(artifacts / "login-locked.png"))
    expect(alert).to_contain_text("You can try again now", timeout=LONG)
    sign_in(page, "alice", "pw-alice-1")
    expect(page.locator("#t2v-generate")).to_be_visible(timeout=LONG)
