"""What the attack tests share: the launched studios they attack (public, with limits and a trusted
proxy) and helpers to make a job and send requests with chosen headers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.reliability.harness import (
    MODELS,
    AppProcess,
    app_env,
    running_app,
)

SIM = MODELS["sim_t2v"]


HOURLY = 2


USERS = {"alice": "pw-alice-1", "bob": "pw-bob-2"}


FAST_SIM = {"STUDIO_SIM_QUEUE_SECONDS": "0.05", "STUDIO_SIM_RUN_SECONDS": "0.1"}


@dataclass
class Apps:
    public: AppProcess  # STUDIO_PUBLIC=1, no proxy trusted, an hourly limit
    proxied: AppProcess  # STUDIO_PUBLIC=1 behind a trusted proxy (127.0.0.1)
    signed_in: AppProcess  # STUDIO_AUTH, addresses from a trusted proxy (so a test can vary them)


@pytest.fixture(name="apps", scope="module")
def apps_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    root = tmp_path_factory.mktemp("attacks")
    limit = {"STUDIO_MAX_JOBS_PER_HOUR": str(HOURLY), **FAST_SIM}
    auth = ",".join(f"{user}:{password}" for user, password in USERS.items())
    with (
        running_app(
            root / "public", app_env(root / "public", extra={"STUDIO_PUBLIC": "1", **limit})
        ) as public,
        running_app(
            root / "proxied",
            app_env(
                root / "proxied", extra={"STUDIO_PUBLIC": "1", "STUDIO_TRUSTED_PROXIES": "127.0.0.1", **limit}
            ),
        ) as proxied,
        running_app(
            root / "signed-in",
            app_env(
                root / "signed-in",
                extra={"STUDIO_AUTH": auth, "STUDIO_TRUSTED_PROXIES": "127.0.0.1", **FAST_SIM},
            ),
        ) as signed_in,
    ):
        yield Apps(public, proxied, signed_in)


def post_login(app: AppProcess, user: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        app.url + "login", data={"username": user, "password": password}, headers={"X-Forwarded-For": address}
    )


def login(app: AppProcess, user: str, password: str, address: str) -> int:
    return post_login(app, user, password, address).status_code
