"""Access control on the running app: password sign-in (STUDIO_AUTH), jobs and files scoped
to their owner (two signed-in users; two anonymous sessions of a public demo), the hourly
limit, the public demo's credits notice, and the Hugging Face allow-list's logic.

The allow-list (STUDIO_ALLOWED_USERS) needs Hugging Face OAuth, which cannot run offline:
its decisions are tested on ui/owners.py's functions with stand-in requests.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from jobs.settings import Settings
from tests.reliability.browser import run_in_browser
from tests.reliability.harness import (
    MODELS,
    AppProcess,
    FakeProcess,
    app_env,
    fake_process,
    refusal,
    running_app,
    studio_client,
)
from tests.reliability.readback import all_history, stored_files
from ui import owners

USERS = {"alice": "pw-alice-1", "bob": "pw-bob-2", "carol": "pw-carol-3"}
KEYS = {"runcomfy_key": "rc-test-key", "wavespeed_key": "ws-test-key"}
HOURLY = 2


@dataclass
class Deployments:
    fake: FakeProcess
    signed_in: AppProcess  # STUDIO_AUTH with three users, STUDIO_MAX_JOBS_PER_HOUR
    public: AppProcess  # STUDIO_PUBLIC=1 with server keys, STUDIO_MAX_JOBS_PER_HOUR


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    root = tmp_path_factory.mktemp("access")
    with fake_process(root / "fake", queue_seconds=0.2, run_seconds=0.3) as fake:
        auth = ",".join(f"{user}:{password}" for user, password in USERS.items())
        signed_in_env = app_env(
            root / "signed-in",
            fake_url=fake.url,
            **KEYS,
            extra={"STUDIO_AUTH": auth, "STUDIO_MAX_JOBS_PER_HOUR": str(HOURLY)},
        )
        public_env = app_env(
            root / "public",
            fake_url=fake.url,
            **KEYS,
            extra={"STUDIO_PUBLIC": "1", "STUDIO_MAX_JOBS_PER_HOUR": str(HOURLY)},
        )
        with (
            running_app(root / "signed-in", signed_in_env) as signed_in,
            running_app(root / "public", public_env) as public,
        ):
            yield Deployments(fake, signed_in, public)


def as_user(app: AppProcess, user: str) -> Any:
    return studio_client(app.url, auth=(user, USERS[user]))


def logged_in_http(app: AppProcess, user: str) -> httpx.Client:
    session = httpx.Client(base_url=app.url, timeout=30)
    assert session.post("login", data={"username": user, "password": USERS[user]}).status_code == 200
    return session


# --- sign-in ------------------------------------------------------------------------------


def test_password_sign_in_lets_users_in_and_keeps_everyone_else_out(deployments: Deployments) -> None:
    from gradio_client.exceptions import AuthenticationError

    app = deployments.signed_in
    assert as_user(app, "alice").predict(limit=1, api_name="/history")["total"] >= 0
    with pytest.raises(AuthenticationError):
        studio_client(app.url)
    with pytest.raises(ValueError, match="Could not login"):
        studio_client(app.url, auth=("alice", "not-her-password"))
    with pytest.raises(ValueError, match="Could not login"):
        studio_client(app.url, auth=("mallory", USERS["alice"]))
    # Raw HTTP without the sign-in cookie: the config, the API description, every call.
    refused = {
        "GET config": httpx.get(app.url + "config").status_code,
        "GET gradio_api/info": httpx.get(app.url + "gradio_api/info").status_code,
        "POST call/text_to_video": httpx.post(
            app.url + "gradio_api/call/text_to_video", json={"data": ["x"]}
        ).status_code,
        "POST call/history": httpx.post(app.url + "gradio_api/call/history", json={"data": []}).status_code,
        "POST queue/join": httpx.post(
            app.url + "gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}
        ).status_code,
        "POST upload": httpx.post(
            app.url + "gradio_api/upload", files={"files": ("a.png", b"x")}
        ).status_code,
    }
    assert all(code == 401 for code in refused.values()), refused


# --- owners: two signed-in users ------------------------------------------------------------


def private_event(config: dict[str, Any], elem_id: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the click handler of the component with `elem_id`."""
    component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    dependency = next(d for d in config["dependencies"] if [component, "click"] in d["targets"])
    return dependency["id"], component


def call_raw(session: httpx.Client, fn_index: int, trigger: int, data: list[Any]) -> list[dict[str, Any]]:
    """Call an event the way the browser does (queue/join, then the SSE stream): the
    route any client can use for the UI's private events. Fails unless the handler ran."""
    session_hash = secrets.token_hex(8)
    body = {
        "data": data,
        "fn_index": fn_index,
        "trigger_id": trigger,
        "session_hash": session_hash,
        "event_data": None,
    }
    joined = session.post("gradio_api/queue/join", json=body)
    assert joined.status_code == 200, joined.text
    messages = []
    with session.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                messages.append(message)
                if message.get("msg") in ("process_completed", "close_stream"):
                    break
    assert any(m.get("msg") == "process_completed" for m in messages), messages
    return messages


def test_a_signed_in_user_cannot_reach_another_users_jobs(deployments: Deployments) -> None:
    app = deployments.signed_in
    alice, bob = as_user(app, "alice"), as_user(app, "bob")
    video, job = alice.predict(
        prompt="alice's private lighthouse", model=MODELS["rc_t2v"], api_name="/text_to_video"
    )
    assert "owner" not in job and job["state"] == "succeeded"
    deployments.fake.config(queue_seconds=30)
    running = alice.submit(prompt="alice's queued job", model=MODELS["rc_t2v"], api_name="/text_to_video")
    queued_id = next(
        item["id"] for item in _wait_items(alice, lambda items: [i for i in items if i["state"] == "queued"])
    )
    deployments.fake.config(queue_seconds=0.2)
    tried = 0

    # list
    assert job["id"] not in {item["id"] for item in all_history(bob, state="")}
    tried += 1
    # open
    for job_id in (job["id"], queued_id):
        assert "no job" in refusal(bob, "/job", job_id=job_id)
        tried += 1
    # cancel
    assert "no job" in refusal(bob, "/cancel", job_id=queued_id)
    tried += 1
    assert alice.predict(job_id=queued_id, api_name="/job")["state"] == "queued", "bob's cancel touched it"
    assert alice.predict(job_id=queued_id, api_name="/cancel")["state"] == "cancelled"
    assert running.exception(timeout=60) is not None, "the cancelled job's stream should end in an error"

    # reuse and delete: the page's private events, called straight through the queue with
    # alice's name and job id in place of bob's session state.
    session = logged_in_http(app, "bob")
    config = session.get("config").json()
    for elem_id, data in (
        ("result-delete-confirm", ["alice", job["id"]]),
        ("result-reuse", ["alice", job["id"], None]),
    ):
        fn_index, trigger = private_event(config, elem_id)
        messages = call_raw(session, fn_index, trigger, data)
        tried += 1
        assert "alice's private lighthouse" not in json.dumps(messages), f"{elem_id} revealed alice's job"
    assert alice.predict(job_id=job["id"], api_name="/job")["state"] == "succeeded", "bob deleted alice's job"
    video_path = str(stored_files(app, job["id"])["video_path"])
    assert Path(video_path).is_file()

    # files: not without signing in, and bob is never given alice's file URLs
    assert httpx.get(video["url"]).status_code in (401, 403, 404)
    assert httpx.get(app.url + "gradio_api/file=" + video_path).status_code in (401, 403, 404)
    assert httpx.get(job["video_url"]).status_code in (401, 403, 404)
    listing = session.get("gradio_api/file=" + str(Path(video_path).parent))
    assert listing.status_code in (403, 404)
    tried += 3
    print(f"\naccess: {tried} attempts by bob on alice's jobs and files, all refused")


def _wait_items(client: Any, pick: Any, timeout: float = 30) -> list[dict[str, Any]]:
    from tests.reliability.harness import wait_until

    return wait_until(
        lambda: pick(client.predict(limit=50, state="", api_name="/history")["items"]), timeout, "a job"
    )


def test_another_signed_in_user_cannot_fetch_a_video_even_with_its_url(deployments: Deployments) -> None:
    """Media are owner-only (ui/media_links.py, ui/gate.py): bob's page link, his API URL
    and the file's path on the server all answer 404 to alice, and work for bob. (Bob
    makes the video: alice has used her hour in the test above.)"""
    app = deployments.signed_in
    video, job = as_user(app, "bob").predict(
        prompt="bob's file", model=MODELS["rc_t2v"], api_name="/text_to_video"
    )
    files = stored_files(app, job["id"])
    owner, intruder = logged_in_http(app, "bob"), logged_in_http(app, "alice")
    assert owner.get(video["url"]).status_code == 200
    assert owner.get(job["video_url"]).status_code == 200 and owner.get(job["poster_url"]).status_code == 200
    tried = {
        "page link": intruder.get(video["url"]).status_code,
        "API video URL": intruder.get(job["video_url"]).status_code,
        "API poster URL": intruder.get(job["poster_url"]).status_code,
        "server path": intruder.get("gradio_api/file=" + str(files["video_path"])).status_code,
        "poster path": intruder.get("gradio_api/file=" + str(files["poster_path"])).status_code,
        "API URL, expiry changed": intruder.get(
            job["video_url"].replace("/studio-media/", "/studio-media/9")
        ).status_code,
    }
    assert all(code in (401, 403, 404) for code in tried.values()), tried
    assert owner.get(job["video_url"].replace("/studio-media/", "/studio-media/9")).status_code == 404


def test_the_hourly_limit_refuses_the_next_job_clearly(deployments: Deployments) -> None:
    fake = deployments.fake
    carol, bob = as_user(deployments.signed_in, "carol"), as_user(deployments.signed_in, "bob")
    for i in range(HOURLY):
        assert (
            carol.predict(prompt=f"carol {i}", model=MODELS["ws_t2v"], api_name="/text_to_video")[1]["state"]
            == "succeeded"
        )
    before = len(fake.submits())
    message = refusal(carol, "/text_to_video", prompt="one too many", model=MODELS["ws_t2v"])
    assert f"allows {HOURLY} videos per hour" in message and "0 left" in message
    assert re.search(r"The next one frees up at \d\d:\d\d UTC \(in \d+ min\)", message), message
    assert len(fake.submits()) == before, "the refused job reached the provider"
    assert (
        bob.predict(prompt="bob still can", model=MODELS["ws_t2v"], api_name="/text_to_video")[1]["state"]
        == "succeeded"
    )


# --- owners: a public demo ------------------------------------------------------------------


def test_anonymous_sessions_of_a_public_demo_cannot_reach_each_others_jobs(deployments: Deployments) -> None:
    app = deployments.public
    first, second = app.client(), app.client()
    _, job = first.predict(
        prompt="first visitor's harbour", model=MODELS["rc_t2v"], api_name="/text_to_video"
    )
    assert "owner" not in job
    assert job["id"] in {item["id"] for item in all_history(first, state="")}
    assert job["id"] not in {item["id"] for item in all_history(second, state="")}
    assert "no job" in refusal(second, "/job", job_id=job["id"])
    assert "no job" in refusal(second, "/cancel", job_id=job["id"])
    # The page's private events with the first visitor's job id: the session state wins.
    session = httpx.Client(base_url=app.url, timeout=30)
    config = session.get("config").json()
    for elem_id, data in (
        ("result-delete-confirm", ["api-first-visitor", job["id"]]),
        ("result-reuse", ["api-first-visitor", job["id"], None]),
    ):
        fn_index, trigger = private_event(config, elem_id)
        assert "first visitor's harbour" not in json.dumps(call_raw(session, fn_index, trigger, data))
    assert first.predict(job_id=job["id"], api_name="/job")["state"] == "succeeded"


def test_the_public_demo_says_it_spends_the_owners_credits(deployments: Deployments) -> None:
    def notice(page: Any) -> str:
        page.goto(deployments.public.url)
        banner = page.locator("#credits-notice")
        banner.wait_for(state="visible", timeout=60_000)
        return banner.inner_text()

    text = run_in_browser(notice)
    assert "spends the owner's credits" in text and f"{HOURLY} videos per hour" in text
    signed_in_config = logged_in_http(deployments.signed_in, "alice").get("config").text
    assert "credits-notice" not in signed_in_config, "a private studio shows the public notice"


def until_refused(app: AppProcess, client: Any, label: str) -> tuple[int, str]:
    """Jobs made by `client` before the hourly limit refused one, and the refusal."""
    from gradio_client.exceptions import AppError

    for made in range(HOURLY + 1):
        try:
            client.predict(prompt=f"{label} {made}", model=MODELS["ws_t2v"], api_name="/text_to_video")
        except AppError as error:
            return made, str(error)
    raise AssertionError(f"{HOURLY + 1} jobs in a row were accepted: no hourly limit")


def test_the_public_hourly_limit_applies_per_visitor(deployments: Deployments) -> None:
    """A visitor is refused once the limit is reached (or earlier, when the demo also counts
    their address, which every test here shares)."""
    before = len(deployments.fake.submits())
    made, message = until_refused(deployments.public, deployments.public.client(), "visitor")
    assert made <= HOURLY and f"allows {HOURLY} videos per hour" in message and "frees up at" in message
    assert len(deployments.fake.submits()) - before == made, "the refused job reached the provider"


def test_a_new_session_does_not_reset_the_public_hourly_limit(deployments: Deployments) -> None:
    """A visitor cannot renew the limit with a fresh gradio_client session (a new owner id):
    their address pays it too."""
    app = deployments.public
    until_refused(app, app.client(), "burst")  # this address has now used its hour
    assert "per hour" in refusal(
        app.client(), "/text_to_video", prompt="a fresh session", model=MODELS["ws_t2v"]
    )


# --- the Hugging Face allow-list, at the unit level ---------------------------------------


def hf_request(user: str | None = None, session_hash: str = "s1") -> Any:
    """A stand-in gr.Request: Hugging Face sign-in puts the user in the OAuth session."""
    session = {"oauth_info": {"userinfo": {"preferred_username": user}}} if user else {}
    return SimpleNamespace(username=None, session=session, session_hash=session_hash)


def test_the_allow_list_admits_only_listed_hugging_face_users() -> None:
    space = Settings(allowed_users=("alice", "bob"), public=True)
    assert owners.login_mode(space) == "huggingface"
    assert owners.owner_for_api(space, hf_request("alice")) == "alice"
    assert owners.owner_for_browser(space, hf_request("bob")) == "bob"
    for call in (
        lambda: owners.owner_for_api(space, hf_request("mallory")),
        lambda: owners.owner_for_browser(space, hf_request("mallory")),
    ):
        with pytest.raises(owners.SignInRequired, match="mallory is not on this studio's list"):
            call()
    # Not signed in at all: no anonymous owner, whatever the page sends as its browser id.
    with pytest.raises(owners.SignInRequired, match="needs a signed-in user"):
        owners.owner_for_api(space, hf_request(None))
    with pytest.raises(owners.SignInRequired, match="Sign in with Hugging Face"):
        owners.owner_for_browser(space, hf_request(None))
    assert owners.on_load(space, hf_request(None)) is None
    assert owners.on_load(space, hf_request("alice")) == "alice"
    # Names are matched exactly: a look-alike is a different person.
    with pytest.raises(owners.SignInRequired):
        owners.owner_for_api(space, hf_request("alice "))


def test_an_allow_list_without_a_way_to_sign_in_refuses_everyone_and_says_why() -> None:
    local = Settings(allowed_users=("alice",), public=False)
    assert owners.login_mode(local) == "none"
    with pytest.raises(owners.SignInRequired, match="no way to sign in"):
        owners.owner_for_browser(local, hf_request(None))
    with pytest.raises(owners.SignInRequired):
        owners.owner_for_api(local, hf_request(None))
    # With password sign-in as well, the allow-list still applies to the signed-in name.
    both = Settings(allowed_users=("alice",), auth=(("alice", "a"), ("bob", "b")))
    assert owners.owner_for_api(both, SimpleNamespace(username="alice", session_hash="s")) == "alice"
    with pytest.raises(owners.SignInRequired, match="bob is not on"):
        owners.owner_for_api(both, SimpleNamespace(username="bob", session_hash="s"))
