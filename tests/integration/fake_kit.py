"""What the fake server's tests share: the two providers' model prefixes and auth headers,
and one-line submits and polls in each provider's own shape (the `client` and `slow_fake`
fixtures are in tests/integration/conftest.py)."""

from __future__ import annotations

import time

from tests.fakes import FakeProviders

RC = "bytedance/dreamina-3-0"
WS = "bytedance/dreamina-v3.0"
RC_AUTH = {"Authorization": f"Bearer {FakeProviders.RUNCOMFY_KEY}"}
WS_AUTH = {"Authorization": f"Bearer {FakeProviders.WAVESPEED_KEY}"}


def age(fake: FakeProviders, job_id: str, seconds: float) -> None:
    fake.jobs[job_id].created_at = time.time() - seconds


def rc_submit(fake, client, model=f"{RC}/pro/text-to-video", body=None, headers=RC_AUTH):
    return client.post(
        f"{fake.base_url}/v1/models/{model}", json=body or {"prompt": "a cat"}, headers=headers
    )


def ws_submit(fake, client, model=f"{WS}/text-to-video-720p", body=None, headers=WS_AUTH):
    return client.post(f"{fake.base_url}/api/v3/{model}", json=body or {"prompt": "a cat"}, headers=headers)


def rc_get(fake, client, request_id, what, **params):
    return client.get(f"{fake.base_url}/v1/requests/{request_id}/{what}", headers=RC_AUTH, params=params)


def ws_get(fake, client, request_id, suffix="/result"):
    return client.get(f"{fake.base_url}/api/v3/predictions/{request_id}{suffix}", headers=WS_AUTH)
