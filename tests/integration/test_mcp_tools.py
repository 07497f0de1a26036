"""The studio's MCP tools through a real MCP client: exactly the five tools with described arguments,
models with options, prices and key state, a simulated video from submit to fetched mp4, a provider
model with the caller's key in a header, bad input refused naming the field before anything is sent,
images only as data URIs, cancel, and comparisons (blind ones naming no model, provider or price)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from providers.registry import builtin_registry
from tests.e2e.launcher import RunningApp
from tests.fakes import FakeProviders
from tests.integration.mcp_support import (  # noqa: F401 (the *_fixture names are fixtures)
    SIM_T2V,
    WS_720,
    app_fixture,
    call,
    fake_fixture,
    fetch,
    mcp_url,
    refusal,
    session,
    until_finished,
)
from ui.mcp_tools import TOOLS

SIM_I2V = "simulator/dreamina-3-0/image-to-video"


def png_data_uri(width: int = 800, height: int = 600) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


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
