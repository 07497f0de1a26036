"""The MCP server, driven by the official `mcp` Python client over streamable HTTP against
`python app.py` on 127.0.0.1: the tool list and its schemas, a simulated video from submit
to fetched MP4, a provider model against the local fake with the key in a header, refusals
that name the field, images as data URIs (and never from a private address), and who sees
whose jobs in a public and a password-protected studio."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from PIL import Image

from providers.registry import builtin_registry
from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.fakes import FakeProviders
from ui.mcp_tools import TOOLS

SIM_T2V = "simulator/dreamina-3-0/text-to-video"
SIM_I2V = "simulator/dreamina-3-0/image-to-video"
WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
TOKEN_A = "caller-a-" + "a" * 24
TOKEN_B = "caller-b-" + "b" * 24


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.3, run_seconds=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    """A local studio with no server keys: the simulator, or a caller's key for the fake."""
    env = {
        "WAVESPEED_BASE_URL": fake.base_url,
        "RUNCOMFY_BASE_URL": fake.base_url,
        "STUDIO_SIM_QUEUE_SECONDS": "3",  # long enough to cancel a queued job in
    }
    with launch_app(tmp_path_factory.mktemp("mcp"), env) as running:
        yield running


def mcp_url(app: RunningApp) -> str:
    return app.url + "gradio_api/mcp/"


@asynccontextmanager
async def session(app: RunningApp, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers=headers or {}, timeout=httpx.Timeout(30, read=60)) as http,
        streamable_http_client(mcp_url(app), http_client=http) as (read, write, _),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


async def call(client: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.isError, text
    return dict(json.loads(text))


async def refusal(client: ClientSession, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    text = str(result.content[0].text)  # type: ignore[union-attr]
    assert result.isError, f"{tool} was not refused: {text}"
    return text


async def until_finished(client: ClientSession, job_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await call(client, "get_job", job_id=job_id)
        if job["finished"]:
            return job
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s: {job}")


def fetch(url: str) -> httpx.Response:
    """As an agent would: a plain GET, no cookies, no sign-in."""
    return httpx.get(url, timeout=30)


def png_data_uri(width: int = 800, height: int = 600) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- the tools -----------------------------------------------------------------------------


async def test_the_tools_are_exactly_the_five_with_described_arguments(app: RunningApp) -> None:
    async with session(app) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == set(TOOLS)
        for tool in tools.values():
            assert tool.description and "Returns:" in tool.description, tool.name
            for name, schema in tool.inputSchema["properties"].items():
                assert schema.get("description"), f"{tool.name}.{name} has no description"
        generate = tools["generate_video"].inputSchema
        assert generate["required"] == ["prompt", "model"]
        properties = generate["properties"]
        assert set(properties) == {
            "prompt", "model", "image", "fit_image", "aspect_ratio", "frames", "resolution", "duration", "seed"
        }  # fmt: skip
        registry = builtin_registry()
        for spec in registry.models():
            assert spec.id in properties["model"]["description"]
        assert "9:21" in properties["aspect_ratio"]["description"]  # the simulator's extra ratio
        assert "121, 241" in properties["frames"]["description"]
        assert "-1 = random" in properties["seed"]["description"]
        assert {"type": "integer"} in properties["frames"]["oneOf"]
        assert "data URI" in properties["image"]["description"]
        # The page's streaming endpoints are not tools, and cannot be called as tools.
        for old in ("generate", "job", "history", "spend", "cancel"):
            result = await client.call_tool(old, {})
            assert result.isError
    schema = httpx.get(mcp_url(app) + "schema", timeout=10).json()
    headers = next(t["meta"]["headers"] for t in schema if t["name"] == "generate_video")
    assert set(headers) == {"x-runcomfy-key", "x-wavespeed-key"}


async def test_list_models_reports_options_prices_and_key_state(app: RunningApp, fake: FakeProviders) -> None:
    async with session(app) as client:
        models = {m["id"]: m for m in (await call(client, "list_models"))["models"]}
        assert set(models) == {spec.id for spec in builtin_registry().models()}
        sim = models[SIM_T2V]
        assert sim["key_configured"] is True and sim["offline_simulator"] and sim["price_usd"] == 0
        assert sim["options"]["aspect_ratio"]["allowed"][-1] == "9:21"
        assert sim["options"]["seed"]["type"] == "integer"
        ws = models[WS_720]
        assert ws["key_configured"] is False and ws["key_header"] == "X-Wavespeed-Key"
        assert ws["price_usd"] == pytest.approx(0.30)
        only_i2v = (await call(client, "list_models", kind="i2v"))["models"]
        assert only_i2v and all(m["kind"] == "i2v" and m["needs_image"] for m in only_i2v)
    async with session(app, {"X-Wavespeed-Key": fake.WAVESPEED_KEY}) as client:
        models = {m["id"]: m for m in (await call(client, "list_models"))["models"]}
        assert models[WS_720]["key_configured"] is True


async def test_a_simulated_video_from_submit_to_fetched_mp4(app: RunningApp) -> None:
    async with session(app) as client:
        job = await call(client, "generate_video", prompt="A paper boat in the rain", model=SIM_T2V, seed=42)
        assert job["state"] in ("submitting", "queued") and job["finished"] is False
        assert job["seed"] == 42 and job["price_usd"] == 0 and job["poll_after_seconds"] > 0
        assert "estimated_seconds" in job and job["video_url"] is None
        done = await until_finished(client, job["job_id"])
        assert done["state"] == "succeeded", done
        assert done["progress"] == 1.0 and done["download_name"].endswith("_seed42.mp4")
        history = await call(client, "list_history", limit=5)
        assert job["job_id"] in [item["job_id"] for item in history["items"]]
    assert "owner" not in json.dumps(done)
    video = fetch(done["video_url"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert len(video.content) > 10_000
    poster = fetch(done["poster_url"])
    assert poster.status_code == 200 and poster.content[:4] == b"RIFF"
    # The link is the gate's signed route: a changed signature is refused.
    root, _, rest = done["video_url"].partition("/studio-media/")
    token, _, tail = rest.partition("/")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    tampered = f"{root}/studio-media/{forged}/{tail}"
    assert fetch(tampered).status_code == 404


async def test_a_provider_model_with_the_callers_key_in_a_header(
    app: RunningApp, fake: FakeProviders
) -> None:
    before = len(fake.submits("wavespeed"))
    async with session(app) as client:
        text = await refusal(client, "generate_video", prompt="A lighthouse", model=WS_720)
        assert text.startswith("model:") and "X-Wavespeed-Key" in text, text
    assert len(fake.submits("wavespeed")) == before
    async with session(app, {"X-Wavespeed-Key": fake.WAVESPEED_KEY}) as client:
        job = await call(client, "generate_video", prompt="A lighthouse at dawn", model=WS_720, duration=5)
        assert job["price_usd"] == pytest.approx(0.30) and job["price_source"] == "quote"
        done = await until_finished(client, job["job_id"])
        assert done["state"] == "succeeded", done
    assert len(fake.submits("wavespeed")) == before + 1
    assert fetch(done["video_url"]).content[4:8] == b"ftyp"
    # The key was used, and is kept nowhere: not in the log, the database or any file.
    key = fake.WAVESPEED_KEY.encode()
    assert key not in app.log().encode()
    for path in app.data_dir.rglob("*"):
        if path.is_file():
            assert key not in path.read_bytes(), path


async def test_bad_input_is_refused_naming_the_field_before_anything_is_sent(
    app: RunningApp, fake: FakeProviders
) -> None:
    before = len(fake.submits())
    async with session(app, {"X-Wavespeed-Key": fake.WAVESPEED_KEY}) as client:
        assert (await refusal(client, "generate_video", prompt="x", model="nope/model")).startswith("model:")
        text = await refusal(client, "generate_video", prompt="x", model=SIM_T2V, aspect_ratio="5:7")
        assert text.startswith("aspect_ratio:") and "9:16" in text
        text = await refusal(client, "generate_video", prompt="x", model=WS_720, frames=121)
        assert text.startswith("frames:") and "does not take" in text
        text = await refusal(client, "generate_video", prompt="x", model=WS_720, duration=7)
        assert text.startswith("duration:")
        assert (await refusal(client, "generate_video", prompt="x" * 801, model=SIM_T2V)).startswith(
            "prompt:"
        )
        text = await refusal(client, "generate_video", prompt="x", model=SIM_T2V, image=png_data_uri())
        assert text.startswith("image:")
        assert (await refusal(client, "generate_video", prompt="x", model=SIM_I2V)).startswith("image:")
        assert (await refusal(client, "get_job", job_id="no-such-job")).startswith("job_id:")
        assert (await refusal(client, "list_models", kind="movie")).startswith("kind:")
    assert len(fake.submits()) == before


async def test_images_come_as_data_uris_never_from_a_private_address(
    app: RunningApp, fake: FakeProviders, tmp_path: Path
) -> None:
    file_requests = sum(1 for r in fake.requests if r.provider == "files")
    async with session(app) as client:
        job = await call(client, "generate_video", prompt="Slow push-in", model=SIM_I2V, image=png_data_uri())
        done = await until_finished(client, job["job_id"])
        assert done["state"] == "succeeded" and done["kind"] == "i2v"
        picture = tmp_path / "photo.png"
        Image.new("RGB", (800, 600)).save(picture)
        local_url = fake.serve_file(picture)  # reachable, but on 127.0.0.1
        text = await refusal(client, "generate_video", prompt="x", model=SIM_I2V, image=local_url)
        assert text.startswith("image:") and "public" in text
        text = await refusal(client, "generate_video", prompt="x", model=SIM_I2V, image="/etc/passwd")
        assert text.startswith("image:")
        wide = png_data_uri(2000, 400)  # 5:1, past the 3:1 limit: the page's image rules apply
        text = await refusal(client, "generate_video", prompt="x", model=SIM_I2V, image=wide)
        assert text.startswith("image:") and "3:1" in text
        job = await call(client, "generate_video", prompt="x", model=SIM_I2V, image=wide, fit_image=True)
        assert (await until_finished(client, job["job_id"]))["state"] == "succeeded"
    assert sum(1 for r in fake.requests if r.provider == "files") == file_requests  # never fetched


async def test_cancel_job(app: RunningApp) -> None:
    async with session(app) as client:
        job = await call(client, "generate_video", prompt="Cancel me", model=SIM_T2V)
        cancelled = await call(client, "cancel_job", job_id=job["job_id"])
        assert cancelled["state"] == "cancelled" and cancelled["finished"], cancelled
        again = await call(client, "get_job", job_id=job["job_id"])
        assert again["state"] == "cancelled" and again["video_url"] is None


async def test_compare_models_sends_every_member_at_once(app: RunningApp, fake: FakeProviders) -> None:
    async with session(app) as client:
        takes = await call(client, "compare_models", prompt="Two takes", models=[SIM_T2V], takes=2, seed=10)
        assert len(takes["members"]) == 2 and takes["group_id"]
        assert sorted(m["seed"] for m in takes["members"]) == [10, 11]
        for member in takes["members"]:
            assert (await until_finished(client, member["job_id"]))["state"] == "succeeded"
        text = await refusal(client, "compare_models", prompt="x", models=[SIM_T2V], takes=1)
        assert text.startswith("models:")
        text = await refusal(client, "compare_models", prompt="x", models=[SIM_T2V, SIM_I2V])
        assert text.startswith("models:")
        text = await refusal(client, "compare_models", prompt="x", models=[SIM_T2V, WS_720])
        assert text.startswith("model:") and "X-Wavespeed-Key" in text
    before = len(fake.submits("wavespeed"))
    async with session(app, {"X-Wavespeed-Key": fake.WAVESPEED_KEY}) as client:
        text = await refusal(
            client, "compare_models", prompt="x", models=[SIM_T2V, WS_720], aspect_ratio="5:7"
        )
        assert text.startswith("aspect_ratio:"), text
        assert len(fake.submits("wavespeed")) == before  # refused whole: nothing sent
        pair = await call(client, "compare_models", prompt="A lighthouse", models=[SIM_T2V, WS_720])
        assert {m["model"] for m in pair["members"]} == {SIM_T2V, WS_720}
        assert pair["total_price_usd"] == pytest.approx(0.30)
        for member in pair["members"]:
            done = await until_finished(client, member["job_id"])
            assert done["state"] == "succeeded" and fetch(done["video_url"]).status_code == 200
    assert len(fake.submits("wavespeed")) == before + 1


async def test_a_blind_compare_models_names_no_model_provider_or_price_in_any_answer(
    app: RunningApp, fake: FakeProviders
) -> None:
    hidden = (SIM_T2V, WS_720, "simulator", "wavespeed", "WaveSpeedAI", "Simulator", "sim-t2v", "ws-")
    async with session(app, {"X-Wavespeed-Key": fake.WAVESPEED_KEY}) as client:
        pair = await call(
            client, "compare_models", prompt="A blind lighthouse", models=[SIM_T2V, WS_720], blind=True
        )
        answers: list[Any] = [pair]
        assert pair["blind"] is True and len(pair["members"]) == 2
        assert {m["blind_name"] for m in pair["members"]} == {"Model A", "Model B"}
        assert not any("price_usd" in m for m in pair["members"]) and pair["total_price_usd"] > 0
        for member in pair["members"]:
            answers.append(await call(client, "get_job", job_id=member["job_id"]))  # while it runs
            done = await until_finished(client, member["job_id"])
            assert done["state"] == "succeeded" and done["model"] is None and done["options"] == {}
            assert fetch(done["video_url"]).status_code == 200
            answers.append(done)
        listed = await call(client, "list_history", limit=50, text="A blind lighthouse")
        assert listed["total"] == 0  # a blind comparison's members are not listed one by one
        answers.append(listed)
        words = repr(answers)
        for name in hidden:
            assert name not in words, name
        # Without blind the same tool names every model and price: the check above can fail.
        seen = await call(client, "compare_models", prompt="A seen lighthouse", models=[SIM_T2V, WS_720])
        assert {m["model"] for m in seen["members"]} == {SIM_T2V, WS_720}
        assert all("price_usd" in m for m in seen["members"]) and seen["blind"] is False
        for member in seen["members"]:
            await until_finished(client, member["job_id"])


async def test_get_job_names_no_model_for_a_member_of_a_blind_comparison(app: RunningApp) -> None:
    from gradio_client import Client

    _video, group = Client(app.url, verbose=False).predict(
        prompt="Blind pair", models=[SIM_T2V], takes=2, blind=True, api_name="/compare"
    )
    async with session(app) as client:
        job = await call(client, "get_job", job_id=group["jobs"][0]["id"])
    assert job["state"] == "succeeded" and job["model"] is None and job["blind_name"] in ("Model A", "Model B")
    assert "simulator" not in repr(job).lower()


# --- owners ------------------------------------------------------------------------------


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


# --- Hugging Face sign-in: callers pay with their own key ----------------------------------


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


# --- a header key after a restart -------------------------------------------------------------


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
