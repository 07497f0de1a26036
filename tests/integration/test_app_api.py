"""The studio's programmatic API, called with gradio_client exactly as the README shows.

The app runs as `python app.py` (simulator; a RunComfy key that must never show up
anywhere, pointed at a closed local port). Its queue is slow enough (4 s) to cancel in.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from tests.e2e.launcher import RunningApp, free_port, launch_app

T2V = "simulator/dreamina-3-0/text-to-video"
I2V = "simulator/dreamina-3-0/image-to-video"
CANARY = "rc-canary-do-not-leak-9f8e7d6c5b4a"
NAMED = {"/text_to_video", "/image_to_video", "/job", "/cancel", "/history", "/spend", "/compare", "/group"}
# The MCP server's tools (ui/mcp_tools.py) are named endpoints too; agents get only those.
MCP_TOOLS = {"/list_models", "/generate_video", "/get_job", "/cancel_job", "/list_history", "/compare_models"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {
        "STUDIO_SIM_QUEUE_SECONDS": "4",
        "STUDIO_SIM_RUN_SECONDS": "1",
        "RUNCOMFY_API_TOKEN": CANARY,
        "RUNCOMFY_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    with launch_app(tmp_path_factory.mktemp("api"), env) as running:
        yield running


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Client:
    return Client(app.url, verbose=False)


def test_the_api_page_lists_exactly_the_eight_named_endpoints_and_the_mcp_tools(client: Client) -> None:
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == NAMED | MCP_TOOLS
    assert api["unnamed_endpoints"] == {}
    common = ["prompt", "model", "image", "aspect_ratio", "frames", "resolution", "duration", "seed"]
    for name, expected in (("/text_to_video", common), ("/image_to_video", [*common, "fit_image"])):
        params = api["named_endpoints"][name]["parameters"]
        names = [p["parameter_name"] for p in params]
        assert names == expected
        optional = {p["parameter_name"] for p in params if p["parameter_has_default"]}
        assert optional == set(names) - {"prompt"}
    # With a RunComfy key configured, RunComfy (not the simulator) is the default model.
    model = next(
        p for p in api["named_endpoints"]["/text_to_video"]["parameters"] if p["parameter_name"] == "model"
    )
    assert model["parameter_default"].startswith("runcomfy/")


def test_text_to_video_returns_the_video_and_its_record(client: Client) -> None:
    video, job = client.predict(
        prompt="A red kite over green hills",
        model=T2V,
        aspect_ratio="9:16",
        seed=7,
        api_name="/text_to_video",
    )
    path = Path(video)
    assert path.is_file() and path.stat().st_size > 1000
    assert re.fullmatch(r"dreamina_sim-t2v_\d{8}-\d{4}_a-red-kite-over-green-hills_seed7\.mp4", path.name)
    assert job["state"] == "succeeded"
    assert job["seed"] == 7
    assert job["options"]["aspect_ratio"] == "9:16"
    assert job["simulated"] is True
    assert job["video_width"] < job["video_height"]  # 9:16 really is portrait


def test_streaming_shows_each_state_and_ends_with_the_video(client: Client) -> None:
    submission = client.submit(prompt="A streaming test", model=T2V, api_name="/text_to_video")
    states = [record["state"] for _, record in submission]
    video, final = submission.result()
    assert states[0] == "queued"
    assert "running" in states
    assert states[-1] == "succeeded"
    assert final["state"] == "succeeded" and Path(video).is_file()


def test_image_to_video_takes_an_uploaded_image(client: Client, tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    Image.new("RGB", (800, 600), (200, 80, 40)).save(picture)
    video, job = client.predict(
        prompt="Slow push-in",
        image=handle_file(str(picture)),
        model=I2V,
        frames=241,
        api_name="/image_to_video",
    )
    assert Path(video).name.startswith("dreamina_sim-i2v_")
    assert job["kind"] == "i2v" and job["options"]["frames"] == 241
    assert job["video_duration"] == pytest.approx(10, abs=0.5)


def test_image_to_video_fits_an_image_when_asked(client: Client, tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    Image.new("RGB", (5000, 1000), (20, 90, 160)).save(wide)
    with pytest.raises(Exception, match=r"3:1.*Turn on 'Fit image'"):
        client.predict(
            prompt="Pan across", image=handle_file(str(wide)), model=I2V, api_name="/image_to_video"
        )
    _, job = client.predict(
        prompt="Pan across",
        image=handle_file(str(wide)),
        fit_image=True,
        model=I2V,
        api_name="/image_to_video",
    )
    assert job["state"] == "succeeded"
    assert job["video_width"] <= 3 * job["video_height"]


def test_job_returns_one_record_and_refuses_unknown_ids(client: Client) -> None:
    _, job = client.predict(prompt="Fetch me later", model=T2V, api_name="/text_to_video")
    again = client.predict(job_id=job["id"], api_name="/job")
    assert again["id"] == job["id"] and again["state"] == "succeeded"
    with pytest.raises(Exception, match="no job 'nope' in your history"):
        client.predict(job_id="nope", api_name="/job")


def test_cancel_stops_a_queued_job(client: Client) -> None:
    submission = client.submit(prompt="Cancel me while I queue", model=T2V, api_name="/text_to_video")
    first = next(iter(submission))[1]
    assert first["state"] == "queued"
    cancelled = client.predict(job_id=first["id"], api_name="/cancel")
    assert cancelled["state"] == "cancelled"
    with pytest.raises(Exception, match="cancelled"):
        submission.result()
    assert client.predict(job_id=first["id"], api_name="/job")["state"] == "cancelled"


def test_history_is_newest_first_paged_and_filtered(client: Client, tmp_path: Path) -> None:
    for word in ("alpha", "beta", "gamma"):
        client.predict(prompt=f"history {word}", model=T2V, api_name="/text_to_video")
    first = client.predict(limit=2, text="history", api_name="/history")
    assert [j["prompt"] for j in first["items"]] == ["history gamma", "history beta"]
    assert first["total"] == 3 and first["next_cursor"]
    second = client.predict(cursor=first["next_cursor"], limit=2, text="history", api_name="/history")
    assert [j["prompt"] for j in second["items"]] == ["history alpha"]
    assert second["next_cursor"] is None
    only_i2v = client.predict(model=I2V, api_name="/history")
    assert all(j["model"] == I2V for j in only_i2v["items"])


def test_a_parameter_the_model_does_not_take_is_refused_by_name(client: Client) -> None:
    with pytest.raises(Exception, match=r"duration: .*does not take this setting; leave it empty"):
        client.predict(prompt="Too many options", model=T2V, duration=5, api_name="/text_to_video")


def test_bad_input_is_refused_with_the_field_and_the_limit(client: Client) -> None:
    with pytest.raises(Exception, match="Prompt: 801 characters; the limit is 800"):
        client.predict(prompt="x" * 801, model=T2V, api_name="/text_to_video")
    with pytest.raises(Exception, match="Frames: 100 is not allowed. Allowed: 121, 241"):
        client.predict(prompt="Odd frames", model=T2V, frames=100, api_name="/text_to_video")
    with pytest.raises(Exception, match="Image: this model animates an image"):
        client.predict(prompt="No image", model=I2V, api_name="/image_to_video")
    for seed in (1.5, "abc"):  # refused by name, never rounded into a different paid job
        with pytest.raises(Exception, match=r"Seed: .* is not allowed\. Allowed: a whole number"):
            client.predict(prompt="Odd seed", model=T2V, seed=seed, api_name="/text_to_video")
    assert (
        client.predict(prompt="Whole seed as text", model=T2V, seed="12", api_name="/text_to_video")[1][
            "seed"
        ]
        == 12
    )


def test_a_file_that_is_not_an_image_gets_the_preflight_message(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("these are not pixels")
    with pytest.raises(Exception, match=r"not an image.*Choose another image \(JPEG or PNG"):
        client.predict(
            prompt="Not a picture", image=handle_file(str(fake)), model=I2V, api_name="/image_to_video"
        )


def test_a_provider_failure_reads_plainly_and_never_shows_the_key(client: Client, app: RunningApp) -> None:
    with pytest.raises(Exception) as failure:
        client.predict(
            prompt="Real provider, unreachable",
            model="runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
            api_name="/text_to_video",
        )
    message = str(failure.value)
    assert "Traceback" not in message and CANARY not in message
    assert re.search(r"reach|network|connect|try again", message, re.IGNORECASE), message
    page = httpx.get(app.url, timeout=10).text + httpx.get(app.url + "config", timeout=10).text
    assert CANARY not in page
    assert CANARY not in app.log()
    for path in app.data_dir.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), f"the key reached {path}"


def test_the_video_is_answered_as_its_signed_url_and_served_from_where_it_is(app: RunningApp) -> None:
    # postprocess=False: the answer's file data is the video's signed URL (no server path,
    # issue 11), which Gradio passes through untouched: no hashed copy in its cache. The gate
    # serves it from the media folder, also when fetched the gradio_client way (file=<path>).
    video = _raw_generate(app, {"prompt": "Served in place", "model": T2V})
    assert video["path"] == video["url"] and "/studio-media/" in video["url"], video
    assert video["orig_name"].startswith("dreamina_sim-t2v_") and video["url"].endswith(video["orig_name"])
    assert str(app.data_dir) not in json.dumps(video) and "/tmp/" not in json.dumps(video)
    stored = video["url"].split("/studio-media/", 1)[1].split("/")  # <token>/videos/<file>/<name>
    saved = app.data_dir / "videos" / stored[2]
    served = httpx.get(video["url"], timeout=30)
    assert served.status_code == 200 and served.content == saved.read_bytes()
    fetched = httpx.get(f"{app.url}gradio_api/file={quote(video['path'], safe='/')}", timeout=30)
    assert fetched.status_code == 200 and fetched.content == served.content
    # The media folders themselves are still refused, and so is a page name never issued.
    assert httpx.get(f"{app.url}gradio_api/file={saved.resolve()}", timeout=30).status_code == 404
    stranger = "/tmp/dreamina-studio-served/0123456789abcdef/dreamina_sim-t2v_19990101-0000_never-issued_seed1.mp4"
    assert httpx.get(f"{app.url}gradio_api/file={stranger}", timeout=30).status_code == 404
    # A signature for another file, or a tampered one, serves nothing.
    forged = video["url"].replace(stored[2], "x" + stored[2])
    assert httpx.get(forged, timeout=30).status_code == 404


def _raw_generate(app: RunningApp, values: dict[str, str]) -> dict:
    """/text_to_video the way the page calls it (queue/join, then the event stream); the
    video's file data from the completed event."""
    config = httpx.get(f"{app.url}config", timeout=30).json()
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "text_to_video")
    labels = {c["id"]: (c.get("props") or {}).get("label") for c in config["components"]}
    session = uuid.uuid4().hex[:11]
    body = {
        "data": [values.get(labels[i]) for i in dep["inputs"]],
        "fn_index": dep["id"],
        "session_hash": session,
    }
    assert httpx.post(f"{app.url}gradio_api/queue/join", json=body, timeout=30).status_code == 200
    url = f"{app.url}gradio_api/queue/data"
    with httpx.stream("GET", url, params={"session_hash": session}, timeout=60) as events:
        for line in events.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                assert message["success"], message
                return dict(message["output"]["data"][0])
    raise AssertionError("the event stream ended without process_completed")
