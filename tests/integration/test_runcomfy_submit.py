"""RunComfyProvider's submits against the local fake RunComfy API: the exact payload each model is sent
(pixel labels, frames, resolution, images as data URIs by their real format, defaults), and what is
refused before anything is sent (an option the model does not take, a missing or unreadable image, a
missing key) or by RunComfy (a bad key, another account's request, a validation error naming the
form field)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from PIL import Image

from providers.base import ProviderError, Secret, ValidationError
from providers.runcomfy import RunComfyProvider
from tests.fakes.server import FakeProviders
from tests.integration.runcomfy_support import (  # noqa: F401 (the *_fixture names are fixtures)
    FAST_RETRY,
    KEY,
    PROMPT,
    SleepLog,
    request,
    run_to_end,
    runcomfy_fixture,
    sleep_fixture,
    write_image,
)


async def test_pro_text_to_video_sends_pixel_label_and_frames(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("pro/text-to-video", aspect_ratio="9:16", frames=241, seed=42))
    [submit] = fake_providers.submits("runcomfy")
    assert submit.method == "POST"
    assert submit.path == "/v1/models/bytedance/dreamina-3-0/pro/text-to-video"
    assert submit.header("Authorization") == "Bearer rc-test-key"
    assert submit.json == {
        "prompt": PROMPT,
        "aspect_ratio": "1088\u00d71920(9:16)",
        "frames": 241,
        "seed": 42,
    }
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded"
    assert final.video_url == f"{fake_providers.base_url}/files/out/{rid}.mp4"


async def test_text_to_video_sends_number_of_frames_and_resolution(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video", frames=241, resolution="1080P", seed=7))
    [submit] = fake_providers.submits("runcomfy")
    assert submit.path == "/v1/models/bytedance/dreamina-3-0/text-to-video"
    assert submit.json == {"prompt": PROMPT, "number_of_frames": 241, "resolution": "1080P", "seed": 7}
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded" and final.video_url and rid in final.video_url


async def test_pro_image_to_video_sends_png_as_data_uri_and_frames(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "input.png", "PNG")
    rid = await runcomfy.submit(request("pro/image-to-video", image=image, frames=121, seed=-1))
    [submit] = fake_providers.submits("runcomfy")
    assert submit.path == "/v1/models/bytedance/dreamina-3-0/pro/image-to-video"
    data_uri = "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()
    assert submit.json == {"prompt": PROMPT, "frames": 121, "seed": -1, "image_urls": [data_uri]}
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded" and final.video_url and rid in final.video_url


async def test_image_to_video_sends_jpeg_by_its_real_format(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, tmp_path: Path
) -> None:
    # Named .png but JPEG inside: the data URI must say what the bytes are.
    image = write_image(tmp_path / "misnamed.png", "JPEG")
    rid = await runcomfy.submit(request("image-to-video", image=image, frames=241, resolution="720P", seed=3))
    [submit] = fake_providers.submits("runcomfy")
    assert submit.path == "/v1/models/bytedance/dreamina-3-0/image-to-video"
    data_uri = "data:image/jpeg;base64," + base64.b64encode(image.read_bytes()).decode()
    assert submit.json == {
        "prompt": PROMPT,
        "number_of_frames": 241,
        "resolution": "720P",
        "seed": 3,
        "image_urls": [data_uri],
    }
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded" and final.video_url and rid in final.video_url


async def test_defaults_are_sent_for_options_left_out(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    await runcomfy.submit(request("pro/text-to-video"))
    assert fake_providers.submits("runcomfy")[0].json == {
        "prompt": PROMPT,
        "aspect_ratio": "1920\u00d71088(16:9)",
        "frames": 121,
        "seed": -1,
    }


async def test_option_the_model_does_not_take_is_refused_and_nothing_sent(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    with pytest.raises(ValidationError) as info:
        await runcomfy.submit(request("pro/image-to-video", image=None, resolution="1080P"))
    assert info.value.field == "resolution"
    assert fake_providers.requests == []


async def test_image_model_without_image_is_refused(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    with pytest.raises(ValidationError) as info:
        await runcomfy.submit(request("image-to-video"))
    assert info.value.field == "image"
    assert fake_providers.requests == []


async def test_image_that_is_not_jpeg_or_png_is_refused(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, tmp_path: Path
) -> None:
    gif = tmp_path / "a.png"
    Image.new("RGB", (640, 360)).save(gif, format="GIF")
    with pytest.raises(ValidationError) as info:
        await runcomfy.submit(request("image-to-video", image=gif))
    assert info.value.field == "image"
    assert fake_providers.requests == []


async def test_missing_key_fails_as_auth_without_a_request(fake_providers: FakeProviders) -> None:
    provider = RunComfyProvider(fake_providers.base_url, None)
    try:
        assert not provider.has_key()
        with pytest.raises(ProviderError) as info:
            await provider.submit(request("text-to-video"))
        assert info.value.kind == "auth"
        assert "No RunComfy API key" in info.value.message
        with pytest.raises(ProviderError):
            await provider.poll("abc")
        assert fake_providers.requests == []
    finally:
        await provider.aclose()


async def test_a_per_call_key_overrides_the_missing_default(fake_providers: FakeProviders) -> None:
    provider = RunComfyProvider(fake_providers.base_url, None, retry=FAST_RETRY)
    try:
        rid = await provider.submit(request("text-to-video"), KEY)
        assert (await run_to_end(provider, rid, KEY))[-1].state == "succeeded"
        assert {r.header("Authorization") for r in fake_providers.requests} == {"Bearer rc-test-key"}
    finally:
        await provider.aclose()


async def test_bad_key_is_auth_and_never_shows_the_key(
    fake_providers: FakeProviders, sleep: SleepLog
) -> None:
    wrong = Secret("rc-wrong-secret-9f8e7d")
    provider = RunComfyProvider(fake_providers.base_url, wrong, retry=FAST_RETRY, sleep=sleep)
    try:
        with pytest.raises(ProviderError) as info:
            await provider.submit(request("text-to-video"))
        assert info.value.kind == "auth"
        assert info.value.status_code == 401
        assert len(fake_providers.submits("runcomfy")) == 1
        with pytest.raises(ProviderError) as polled:
            await provider.poll("some-request")
        assert polled.value.kind == "auth"
        for text in (info.value.message, repr(info.value), polled.value.message, repr(provider)):
            assert "rc-wrong-secret-9f8e7d" not in text
    finally:
        await provider.aclose()


async def test_another_accounts_request_is_not_found(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll(rid, Secret(FakeProviders.RUNCOMFY_OTHER_KEY))
    assert info.value.kind == "not_found"
    assert info.value.provider_code == 403001
    assert "another account" in info.value.message


async def test_unknown_request_id_is_not_found(runcomfy: RunComfyProvider) -> None:
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll("no-such-request")
    assert info.value.kind == "not_found"
    assert "not found or expired" in info.value.message


async def test_validation_error_points_at_the_form_field(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, tmp_path: Path
) -> None:
    body = {
        "error_code": 422001,
        "error_message": "Validation Error",
        "detail": [{"loc": ["body", "number_of_frames"], "msg": "value is not a valid enumeration member"}],
    }
    fake_providers.add_fault("submit", "status", provider="runcomfy", status=422, body=body)
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("image-to-video", image=write_image(tmp_path / "i.png", "PNG")))
    assert info.value.kind == "validation"
    assert info.value.field == "frames"
    assert "not a valid enumeration member" in info.value.message
    assert len(fake_providers.submits("runcomfy")) == 1
