"""Who may call the studio's MCP tools and whose jobs they see: a public studio keeping callers apart
by token, a password studio needing its users, a Hugging Face studio serving callers who bring their
own key, and a job sent with a header key waiting for it after a restart, then resuming."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.fakes import FakeProviders
from tests.integration.mcp_support import (  # noqa: F401 (the *_fixture names are fixtures)
    SIM_T2V,
    WS_720,
    call,
    fake_fixture,
    fetch,
    refusal,
    session,
    until_finished,
)

TOKEN_A = "caller-a-" + "a" * 24


TOKEN_B = "caller-b-" + "b" * 24


@pytest.fixture(scope="module")
def public_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {"STUDIO_PUBLIC": "1", "STUDIO_MAX_JOBS_PER_HOUR": "2"}
    with launch_app(tmp_path_factory.mktemp("mcp-public"), env) as running:
        yield running


async def test_a_public_studio_keeps_each_callers_jobs_apart_by_token(public_app: RunningApp) -> None:
    async with session(public_app) as client:
        text = await refusal(client, "list_history")
        assert "X-Studio-Token" in text
        assert "X-Studio-Token" in await refusal(client, "generate_video", prompt="x", model=SIM_T2V)
    async with session(public_app, {"X-Studio-Token": "short"}) as client:
        assert "X-Studio-Token" in await refusal(client, "list_history")
    async with session(public_app, {"X-Studio-Token": TOKEN_A}) as alice:
        job = await call(alice, "generate_video", prompt="Alice's boat", model=SIM_T2V)
        done = await until_finished(alice, job["job_id"])
    async with session(public_app, {"X-Studio-Token": TOKEN_B}) as bob:
        assert (await refusal(bob, "get_job", job_id=job["job_id"])).startswith("job_id:")
        assert (await call(bob, "list_history"))["total"] == 0
        assert (await refusal(bob, "cancel_job", job_id=job["job_id"])).startswith("job_id:")
    async with session(public_app, {"X-Studio-Token": TOKEN_A}) as alice_again:
        assert (await call(alice_again, "list_history"))["total"] == 1
        await call(alice_again, "generate_video", prompt="Alice's second", model=SIM_T2V)
    # The hourly limit counts the caller's address too: a new token does not reset it.
    async with session(public_app, {"X-Studio-Token": TOKEN_B}) as bob:
        text = await refusal(bob, "generate_video", prompt="Bob's first", model=SIM_T2V)
        assert "per hour" in text, text
    # The agent's link works without the caller's token or any cookie.
    assert fetch(done["video_url"]).status_code == 200
    # Neither token is stored: the owner is an HMAC of it.
    with sqlite3.connect(public_app.data_dir / "studio.sqlite3") as conn:
        owners = {row[0] for row in conn.execute("SELECT owner FROM jobs")}
    assert len(owners) == 1 and not any(TOKEN_A in o for o in owners)  # Bob's was refused


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {"STUDIO_AUTH": "alice:wonderland,bob:builder"}
    with launch_app(tmp_path_factory.mktemp("mcp-auth"), env) as running:
        yield running


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_a_password_studio_needs_its_users_and_keeps_them_apart(auth_app: RunningApp) -> None:
    async with session(auth_app) as client:
        assert "Authorization" in await refusal(client, "list_history")
    async with session(auth_app, basic("alice", "wrong")) as client:
        assert "wrong user name or password" in await refusal(client, "list_history")
    async with session(auth_app, basic("alice", "wonderland")) as alice:
        job = await call(alice, "generate_video", prompt="Alice's kite", model=SIM_T2V)
        done = await until_finished(alice, job["job_id"])
    async with session(auth_app, basic("bob", "builder")) as bob:
        assert (await refusal(bob, "get_job", job_id=job["job_id"])).startswith("job_id:")
        assert (await call(bob, "list_history"))["total"] == 0
    assert fetch(done["video_url"]).status_code == 200
    # Wrong passwords are throttled like the login form's (5 free, then locked).
    async with session(auth_app, basic("bob", "guess")) as guesser:
        texts = [await refusal(guesser, "list_history") for _ in range(6)]
    assert "Too many wrong passwords" in texts[-1]
    async with session(auth_app, basic("bob", "builder")) as bob:
        assert "Too many wrong passwords" in await refusal(bob, "list_history")


@pytest.fixture(scope="module")
def hf_app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    """A studio with an allow-list, whose server key (for the fake) serves only its signed-in
    users. Hugging Face sign-in itself needs OAuth, which cannot run offline (STUDIO_PUBLIC
    would add its login routes): the MCP rule is the same for an allow-list either way
    (ui/mcp_owner.own_keys_only; tests/unit/test_mcp_parts.py checks the Space's mode)."""
    env = {"STUDIO_ALLOWED_USERS": "alice"} | on_fake(fake.base_url, "wavespeed")
    with launch_app(tmp_path_factory.mktemp("mcp-hf"), env) as running:
        yield running


async def test_a_hugging_face_studio_serves_callers_who_bring_their_own_key(
    hf_app: RunningApp, fake: FakeProviders
) -> None:
    before = len(fake.submits("wavespeed"))
    async with session(hf_app) as stranger:  # no key: the server's key is not theirs to spend
        for tool, arguments in (
            ("list_history", {}),
            ("generate_video", {"prompt": "x", "model": WS_720}),
            ("get_job", {"job_id": "x"}),
        ):
            text = await refusal(stranger, tool, **arguments)
            assert "X-Wavespeed-Key" in text and "Hugging Face" in text, text
    caller_key = {"X-Wavespeed-Key": fake.WAVESPEED_KEY}
    async with session(hf_app, caller_key) as caller:
        models = {m["id"]: m for m in (await call(caller, "list_models"))["models"]}
        assert models[WS_720]["key_configured"] is True
        assert models[SIM_T2V]["key_configured"] is False  # the simulator is for signed-in users
        text = await refusal(caller, "generate_video", prompt="x", model=SIM_T2V)
        assert text.startswith("model:") and "signed-in" in text, text
        text = await refusal(
            caller, "generate_video", prompt="x", model="runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
        )
        assert text.startswith("model:") and "X-Runcomfy-Key" in text and "on the server" not in text, text
        job = await call(caller, "generate_video", prompt="A harbour at dawn", model=WS_720, duration=5)
        done = await until_finished(caller, job["job_id"])
        assert done["state"] == "succeeded", done
        assert (await call(caller, "list_history"))["total"] == 1
    assert len(fake.submits("wavespeed")) == before + 1
    # Another key is another owner: it sees none of these jobs.
    async with session(hf_app, {"X-Wavespeed-Key": "another-callers-key"}) as other:
        assert (await call(other, "list_history"))["total"] == 0
        assert (await refusal(other, "get_job", job_id=job["job_id"])).startswith("job_id:")
    with sqlite3.connect(hf_app.data_dir / "studio.sqlite3") as conn:
        owners = {row[0] for row in conn.execute("SELECT owner FROM jobs")}
    assert len(owners) == 1 and not any(fake.WAVESPEED_KEY in o for o in owners)


async def test_a_job_sent_with_a_header_key_waits_for_it_after_a_restart_then_resumes(
    tmp_path: Path,
) -> None:
    with FakeProviders(queue_seconds=0.5, run_seconds=8) as slow:
        env = {"WAVESPEED_BASE_URL": slow.base_url}
        caller_key = {"X-Wavespeed-Key": slow.WAVESPEED_KEY}
        with launch_app(tmp_path, env) as first:
            async with session(first, caller_key) as client:
                job = await call(client, "generate_video", prompt="A slow tide", model=WS_720, duration=5)
                assert job["needs_key_header"] is None
        assert len(slow.submits("wavespeed")) == 1
        with launch_app(tmp_path, env) as second:  # the same data folder: the job resumes
            async with session(second) as keyless:
                deadline = time.monotonic() + 60
                waiting = await call(keyless, "get_job", job_id=job["job_id"])
                while waiting["needs_key_header"] is None and time.monotonic() < deadline:
                    assert not waiting["finished"], waiting
                    await asyncio.sleep(0.5)
                    waiting = await call(keyless, "get_job", job_id=job["job_id"])
                assert waiting["state"] in ("queued", "running") and not waiting["finished"], waiting
                assert waiting["needs_key_header"] == "X-Wavespeed-Key"
                assert "X-Wavespeed-Key" in waiting["note"] and "restarted" in waiting["note"]
            async with session(second, caller_key) as client:
                resumed = await call(client, "get_job", job_id=job["job_id"])
                assert resumed["needs_key_header"] is None, resumed
                done = await until_finished(client, job["job_id"])
                assert done["state"] == "succeeded", done
        assert len(slow.submits("wavespeed")) == 1  # never sent again
