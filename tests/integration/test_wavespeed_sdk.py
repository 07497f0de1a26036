"""The official `wavespeed` SDK (2.0.5) works against the fake unchanged: proof that the
fake speaks WaveSpeed's real wire format, uploads included."""

from __future__ import annotations

import httpx
import pytest
import wavespeed

from tests.fakes import FakeProviders
from tests.fakes.media import make_image

PRO_T2V = "bytedance/dreamina-v3.0-pro/text-to-video"
I2V_720P = "bytedance/dreamina-v3.0/image-to-video-720p"


@pytest.fixture
def sdk(fake_providers: FakeProviders) -> wavespeed.Client:
    return wavespeed.Client(
        api_key=FakeProviders.WAVESPEED_KEY,
        base_url=fake_providers.base_url,
        connection_timeout=5,
        max_connection_retries=3,
        retry_interval=0.01,
    )


def test_sdk_runs_a_dreamina_job_and_gets_a_playable_video_url(fake_providers, sdk):
    output = sdk.run(
        PRO_T2V,
        {"prompt": "a lighthouse at dusk", "aspect_ratio": "9:21", "seed": 5},
        timeout=30,
        poll_interval=0.02,
    )
    [url] = output["outputs"]
    assert url.startswith(f"{fake_providers.base_url}/files/out/")
    video = httpx.get(url)
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    [submit] = fake_providers.submits("wavespeed")
    assert submit.json == {"prompt": "a lighthouse at dusk", "aspect_ratio": "9:21", "seed": 5}
    assert submit.header("Authorization") == f"Bearer {FakeProviders.WAVESPEED_KEY}"
    assert submit.header("X-Client-Name") == "wavespeed-python"
    assert {r.path for r in fake_providers.requests if r.op == "result"} == {
        f"/api/v3/predictions/{next(iter(fake_providers.jobs))}/result"
    }


def test_sdk_upload_uses_the_ticket_flow_and_feeds_image_to_video(fake_providers, sdk, tmp_path):
    image = tmp_path / "frame.png"
    image.write_bytes(make_image(640, 640))
    url = sdk.upload(str(image))
    assert httpx.get(url).content == image.read_bytes()
    ticket, put = (r for r in fake_providers.requests if r.op in ("upload", "upload_put"))
    assert (ticket.method, ticket.path, ticket.json["filename"]) == (
        "POST",
        "/api/v3/media/uploads",
        "frame.png",
    )
    assert put.method == "PUT" and put.header("Authorization") is None and put.body == image.read_bytes()
    output = sdk.run(
        I2V_720P, {"prompt": "pan left", "image": url, "duration": 10}, timeout=30, poll_interval=0.02
    )
    assert len(output["outputs"]) == 1


def test_sdk_reports_a_moderation_failure(fake_providers, sdk):
    fake_providers.next_outcome("moderation")
    with pytest.raises(RuntimeError, match="Prediction failed .*moderation"):
        sdk.run(PRO_T2V, {"prompt": "x"}, timeout=30, poll_interval=0.02)
    result = sdk.run_no_throw(
        I2V_720P, {"prompt": "x", "image": "https://example.com/a.png"}, timeout=30, poll_interval=0.02
    )
    assert result["status"] == "failed" and "Failed to download image" in result["error"]
    assert result["task_id"] in fake_providers.jobs


def test_sdk_surfaces_validation_and_auth_errors(fake_providers, sdk):
    with pytest.raises(RuntimeError, match="HTTP 400.*duration"):
        sdk.run("bytedance/dreamina-v3.0/image-to-video-1080p", {"prompt": "x", "image": "u", "duration": 10})
    stranger = wavespeed.Client(api_key="wrong", base_url=fake_providers.base_url)
    with pytest.raises(RuntimeError, match="HTTP 401.*invalid authentication"):
        stranger.run(PRO_T2V, {"prompt": "x"})
    assert fake_providers.jobs == {}


def test_sdk_retries_polls_through_503s_but_never_resubmits(fake_providers, sdk):
    fake_providers.add_fault("result", "status", status=503, times=2)
    output = sdk.run(PRO_T2V, {"prompt": "x"}, timeout=30, poll_interval=0.02)
    assert output["outputs"]
    fake_providers.add_fault("submit", "reset_after_submit")
    with pytest.raises(RuntimeError, match="will not retry the POST"):
        sdk.run(PRO_T2V, {"prompt": "y"}, timeout=30, poll_interval=0.02)
    assert len(fake_providers.submits("wavespeed")) == 2
    assert len(fake_providers.jobs) == 2  # the unanswered submit still made a job


def test_module_level_upload_and_run_read_the_sdk_config(fake_providers, tmp_path, monkeypatch):
    import wavespeed.api

    monkeypatch.setattr(wavespeed.api, "_default_client", None)  # built from config on first use
    image = tmp_path / "still.jpg"
    image.write_bytes(make_image(480, 640, "JPEG"))
    settings = {"api.api_key": FakeProviders.WAVESPEED_KEY, "api.base_url": fake_providers.base_url}
    with wavespeed.config.patch(settings):
        url = wavespeed.upload(str(image))
        output = wavespeed.run(
            "bytedance/dreamina-v3.0/image-to-video-1080p",
            {"prompt": "she turns", "image": url, "duration": 5},
            timeout=30,
            poll_interval=0.02,
        )
    [job] = fake_providers.jobs.values()
    assert output["outputs"] == [job.output_url]
    assert job.payload["image"] == url
