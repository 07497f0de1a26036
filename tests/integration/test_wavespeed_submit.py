"""WaveSpeedProvider's submit against the local fake WaveSpeedAI API: the exact payload each
model is sent (polled to a video URL), image uploads and their retries and odd answers, requests
refused before anything is sent (options, image, model, prompt length, missing key), the provider's
definite refusals and how they are classified (bad key, 4xx/5xx, envelope codes, errors inside an
HTTP 200), and the submit faults after which the job is reported unknown but never sent twice."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from providers.base import ProviderError, Secret, SubmitRequest, ValidationError
from providers.catalog import get_model
from providers.wavespeed import WaveSpeedProvider
from tests.fakes.server import FakeProviders
from tests.integration.wavespeed_support import (  # noqa: F401 (the *_fixture names are fixtures)
    FAST_RETRY,
    KEY,
    PROMPT,
    WS,
    WS_PRO,
    SleepLog,
    envelope,
    ops,
    png_fixture,
    request,
    run_to_end,
    sleep_fixture,
    wavespeed_fixture,
)


async def served_bytes(url: str) -> bytes:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content


# --- every model: the exact payload, polled to a video URL ---------------------------------

T2V_CASES = [
    (f"{WS_PRO}/text-to-video", {"aspect_ratio": "9:21", "seed": 5}, {"aspect_ratio": "9:21", "seed": 5}),
    (
        f"{WS}/text-to-video-720p",
        {"aspect_ratio": "4:3", "duration": 10, "seed": 1},
        {"aspect_ratio": "4:3", "duration": 10, "seed": 1},
    ),
    (
        f"{WS}/text-to-video-1080p",
        {"aspect_ratio": "21:9"},
        {"aspect_ratio": "21:9", "duration": 5, "seed": -1},
    ),
]
I2V_CASES = [
    (f"{WS_PRO}/image-to-video", {"aspect_ratio": "1:1", "seed": 8}, {"aspect_ratio": "1:1", "seed": 8}),
    (f"{WS}/image-to-video-720p", {"duration": 5, "seed": 9}, {"duration": 5, "seed": 9}),
    (f"{WS}/image-to-video-1080p", {}, {"duration": 5, "seed": -1}),
]


@pytest.mark.parametrize(("model", "options", "wire"), T2V_CASES)
async def test_text_to_video_payload_and_result(
    fake_providers: FakeProviders,
    wavespeed: WaveSpeedProvider,
    model: str,
    options: dict[str, int | str],
    wire: dict[str, object],
) -> None:
    task_id = await wavespeed.submit(SubmitRequest(spec=get_model(model), prompt=PROMPT, options=options))
    [submit] = fake_providers.submits("wavespeed")
    assert submit.method == "POST"
    assert submit.path == "/api/v3/" + model.removeprefix("wavespeed/")
    assert submit.header("Authorization") == "Bearer ws-test-key"
    assert submit.json == {"prompt": PROMPT, **wire}
    assert ops(fake_providers, "upload") == 0
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "succeeded"
    assert final.video_url == f"{fake_providers.base_url}/files/out/{task_id}.mp4"
    assert final.nsfw is False
    assert final.inference_seconds == pytest.approx(0.15)  # the fake's run time, sent in ms


@pytest.mark.parametrize(("model", "options", "wire"), I2V_CASES)
async def test_image_to_video_uploads_then_sends_the_upload_url(
    fake_providers: FakeProviders,
    wavespeed: WaveSpeedProvider,
    png: Path,
    model: str,
    options: dict[str, int | str],
    wire: dict[str, object],
) -> None:
    task_id = await wavespeed.submit(
        SubmitRequest(spec=get_model(model), prompt=PROMPT, options=options, image=png)
    )
    [upload] = [r for r in fake_providers.requests if r.op == "upload"]
    assert upload.path == "/api/v3/media/upload/binary"
    assert (upload.header("Content-Type") or "").startswith("multipart/form-data")
    assert upload.header("Authorization") == "Bearer ws-test-key"
    assert b'name="file"' in upload.body and png.read_bytes() in upload.body
    [submit] = fake_providers.submits("wavespeed")
    assert submit.path == "/api/v3/" + model.removeprefix("wavespeed/")
    assert submit.json is not None and isinstance(submit.json, dict)
    image_url = submit.json["image"]
    assert submit.json == {"prompt": PROMPT, **wire, "image": image_url}
    assert image_url.startswith(f"{fake_providers.base_url}/files/uploads/")
    assert await served_bytes(image_url) == png.read_bytes()
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "succeeded", final.error
    assert final.video_url and task_id in final.video_url


# --- uploads ---------------------------------------------------------------------------------


async def test_upload_is_retried_on_5xx_and_the_job_submitted_once(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path, sleep: SleepLog
) -> None:
    fake_providers.add_fault("upload", "status", provider="wavespeed", status=503, times=2)
    await wavespeed.submit(request(f"{WS}/image-to-video-720p", image=png))
    assert ops(fake_providers, "upload") == 3
    assert len(fake_providers.submits("wavespeed")) == 1
    assert len(sleep.delays) == 2


async def test_upload_that_keeps_failing_submits_nothing(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    fake_providers.add_fault("upload", "status", provider="wavespeed", status=500, times=50)
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/image-to-video-720p", image=png))
    assert info.value.kind == "server"
    assert ops(fake_providers, "upload") == FAST_RETRY.attempts
    assert fake_providers.submits("wavespeed") == []


async def test_upload_answer_with_url_instead_of_download_url_is_accepted(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    served = fake_providers.serve_file(png, "input.png")
    fake_providers.add_fault("upload", "error_in_200", provider="wavespeed", body=envelope({"url": served}))
    await wavespeed.submit(request(f"{WS}/image-to-video-1080p", image=png))
    [submit] = fake_providers.submits("wavespeed")
    assert isinstance(submit.json, dict) and submit.json["image"] == served


async def test_upload_answer_without_a_url_is_a_server_error(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    fake_providers.add_fault("upload", "error_in_200", provider="wavespeed", body=envelope({"type": "image"}))
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/image-to-video-1080p", image=png))
    assert info.value.kind == "server"
    assert fake_providers.submits("wavespeed") == []


# --- refusing before anything is sent --------------------------------------------------------


async def test_option_the_model_does_not_take_is_refused_and_nothing_sent(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    with pytest.raises(ValidationError) as info:
        await wavespeed.submit(request(f"{WS_PRO}/text-to-video", duration=5))
    assert info.value.field == "duration"
    assert fake_providers.requests == []


async def test_text_model_with_an_image_is_refused(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    with pytest.raises(ValidationError) as info:
        await wavespeed.submit(request(f"{WS}/text-to-video-720p", image=png))
    assert info.value.field == "image"
    assert fake_providers.requests == []


async def test_model_of_the_other_provider_is_refused(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    with pytest.raises(ValidationError) as info:
        await wavespeed.submit(request("runcomfy/bytedance/dreamina-3-0/text-to-video"))
    assert info.value.field == "model"
    assert fake_providers.requests == []


async def test_prompt_over_800_characters_is_refused_before_sending(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    with pytest.raises(ValidationError) as info:
        await wavespeed.submit(request(f"{WS_PRO}/text-to-video", prompt="x" * 801))
    assert info.value.field == "prompt"
    assert fake_providers.requests == []


async def test_missing_key_fails_as_auth_without_a_request(fake_providers: FakeProviders, png: Path) -> None:
    provider = WaveSpeedProvider(fake_providers.base_url, Secret("   "))
    try:
        assert not provider.has_key()
        with pytest.raises(ProviderError) as info:
            await provider.submit(request(f"{WS}/image-to-video-720p", image=png))
        assert info.value.kind == "auth"
        assert "No WaveSpeedAI API key" in info.value.message
        assert fake_providers.requests == []
    finally:
        await provider.aclose()


# --- provider errors -------------------------------------------------------------------------


async def test_bad_key_is_auth_and_never_shows_the_key(fake_providers: FakeProviders, png: Path) -> None:
    wrong = Secret("ws-wrong-secret-1a2b3c")
    provider = WaveSpeedProvider(fake_providers.base_url, wrong, retry=FAST_RETRY, sleep=SleepLog())
    try:
        with pytest.raises(ProviderError) as info:
            await provider.submit(request(f"{WS_PRO}/text-to-video"))
        assert info.value.kind == "auth"
        assert "invalid authentication" in info.value.message
        assert len(fake_providers.submits("wavespeed")) == 1
        with pytest.raises(ProviderError) as uploaded:
            await provider.submit(request(f"{WS}/image-to-video-720p", image=png))
        assert uploaded.value.kind == "auth"
        assert len(fake_providers.submits("wavespeed")) == 1  # the upload failed; no submit
        for text in (info.value.message, repr(info.value), uploaded.value.message, repr(provider)):
            assert "ws-wrong-secret-1a2b3c" not in text
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "validation"), (401, "auth"), (402, "insufficient_balance"), (404, "not_found"),
     (429, "rate_limited"), (500, "server"), (503, "server")],
)  # fmt: skip
async def test_definite_submit_refusals_are_classified_and_not_retried(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, status: int, kind: str
) -> None:
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=status, times=5)
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/text-to-video-720p"))
    assert info.value.kind == kind
    assert len(fake_providers.submits("wavespeed")) == 1
    assert fake_providers.jobs == {}


async def test_invalid_parameter_code_1401_is_validation_with_the_providers_words(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    body = {"code": 1401, "message": "duration: 'duration' must be one of 5; got 10.", "data": None}
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=400, body=body)
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/text-to-video-720p"))
    assert info.value.kind == "validation"
    assert info.value.provider_code == 1401
    assert "must be one of 5" in info.value.message


async def test_error_in_200_on_submit_is_a_definite_refusal(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.add_fault("submit", "error_in_200", provider="wavespeed", status=402)
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/text-to-video-720p"))
    assert info.value.kind == "insufficient_balance"
    assert "insufficient balance" in info.value.message
    assert len(fake_providers.submits("wavespeed")) == 1


# --- submit faults: never sent twice ---------------------------------------------------------


@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_error_on_submit_is_unknown_and_sent_once(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, status: int
) -> None:
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=status, times=5)
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/text-to-video-720p"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("wavespeed")) == 1


async def test_reset_after_submit_is_unknown_and_sent_once(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    fake_providers.add_fault("submit", "reset_after_submit", provider="wavespeed")
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS}/image-to-video-720p", image=png))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("wavespeed")) == 1
    assert len(fake_providers.jobs) == 1


async def test_submit_slower_than_submit_timeout_is_unknown_and_sent_once(
    fake_providers: FakeProviders,
) -> None:
    fake_providers.add_fault("submit", "slow_after_submit", provider="wavespeed", delay=3.0)
    provider = WaveSpeedProvider(fake_providers.base_url, KEY, retry=FAST_RETRY, submit_timeout=0.3)
    try:
        with pytest.raises(ProviderError) as info:
            await provider.submit(request(f"{WS_PRO}/text-to-video"))
    finally:
        await provider.aclose()
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("wavespeed")) == 1


async def test_malformed_submit_reply_is_unknown_and_sent_once(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.add_fault("submit", "malformed_json", provider="wavespeed")
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("wavespeed")) == 1


async def test_submit_reply_without_task_id_is_unknown(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.add_fault(
        "submit", "error_in_200", provider="wavespeed", body=envelope({"status": "created"})
    )
    with pytest.raises(ProviderError) as info:
        await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("wavespeed")) == 1
