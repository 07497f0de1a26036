"""WaveSpeedProvider against the local fake WaveSpeedAI API: uploads, payloads, polling, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from providers.base import ProviderError, ProviderStatus, Secret, SubmitRequest, ValidationError
from providers.catalog import get_model
from providers.http import RetryPolicy
from providers.wavespeed import WaveSpeedProvider, normalise_state
from tests.fakes.server import FakeProviders

WS = "wavespeed/bytedance/dreamina-v3.0"
WS_PRO = "wavespeed/bytedance/dreamina-v3.0-pro"
KEY = Secret(FakeProviders.WAVESPEED_KEY)
FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)
PROMPT = "slow dolly-in on a lighthouse at dusk, waves breaking"


class SleepLog:
    """An injected sleep: records each backoff delay, waits for none of them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleep() -> SleepLog:
    return SleepLog()


@pytest.fixture
async def wavespeed(fake_providers: FakeProviders, sleep: SleepLog) -> AsyncIterator[WaveSpeedProvider]:
    provider = WaveSpeedProvider(
        fake_providers.base_url, KEY, retry=FAST_RETRY, request_timeout=5.0, submit_timeout=5.0, sleep=sleep
    )
    yield provider
    await provider.aclose()


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "input.png"
    Image.new("RGB", (640, 360), (200, 120, 40)).save(path, format="PNG")
    return path


def request(
    model: str, *, prompt: str = PROMPT, image: Path | None = None, **options: int | str
) -> SubmitRequest:
    return SubmitRequest(spec=get_model(model), prompt=prompt, options=options, image=image)


def ops(fake: FakeProviders, op: str) -> int:
    return len([r for r in fake.requests if r.provider == "wavespeed" and r.op == op])


def envelope(data: object, code: int = 200, message: str = "success") -> dict[str, object]:
    return {"code": code, "message": message, "data": data}


async def run_to_end(provider: WaveSpeedProvider, request_id: str) -> list[ProviderStatus]:
    seen: list[ProviderStatus] = []
    for _ in range(300):
        status = await provider.poll(request_id)
        seen.append(status)
        if status.state in ("succeeded", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"job never finished; last state {seen[-1].state}")


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


async def test_poll_walks_queued_then_running_then_succeeded(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.set_timing(queue_seconds=0.3, run_seconds=0.3)
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    seen = await run_to_end(wavespeed, task_id)
    states = [s.state for s in seen]
    assert states[0] == "queued"
    assert "running" in states and states[-1] == "succeeded"
    assert states.index("running") > states.index("queued")
    assert all(
        r.path == f"/api/v3/predictions/{task_id}/result" for r in fake_providers.requests if r.op == "result"
    )


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


async def test_another_accounts_task_is_not_found(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    other = WaveSpeedProvider(fake_providers.base_url, Secret(FakeProviders.WAVESPEED_OTHER_KEY))
    try:
        with pytest.raises(ProviderError) as info:
            await other.poll(task_id)
    finally:
        await other.aclose()
    assert info.value.kind == "not_found"


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


# --- poll faults -----------------------------------------------------------------------------


async def test_429_storm_is_retried_honouring_retry_after(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, sleep: SleepLog
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "status", provider="wavespeed", status=429, retry_after=3, times=3)
    status = await wavespeed.poll(task_id)
    assert status.state in ("queued", "running", "succeeded")
    assert ops(fake_providers, "result") == 4
    assert sleep.delays == [3.0, 3.0, 3.0]


async def test_5xx_burst_is_retried_and_recovers(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, sleep: SleepLog
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "status", provider="wavespeed", status=502, times=3)
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "succeeded"
    assert len(sleep.delays) == 3


async def test_5xx_forever_raises_server_after_the_policy_runs_out(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "status", provider="wavespeed", status=503, times=50)
    with pytest.raises(ProviderError) as info:
        await wavespeed.poll(task_id)
    assert info.value.kind == "server" and info.value.retryable
    assert "service unavailable" in info.value.message
    assert ops(fake_providers, "result") == FAST_RETRY.attempts


async def test_hung_poll_times_out_as_network_after_bounded_tries(fake_providers: FakeProviders) -> None:
    provider = WaveSpeedProvider(
        fake_providers.base_url,
        KEY,
        retry=RetryPolicy(attempts=3, base=0.01),
        request_timeout=0.2,
        sleep=SleepLog(),
    )
    try:
        task_id = await provider.submit(request(f"{WS_PRO}/text-to-video"))
        fake_providers.add_fault("result", "hang", provider="wavespeed", times=3)
        with pytest.raises(ProviderError) as info:
            await provider.poll(task_id)
    finally:
        await provider.aclose()
    assert info.value.kind == "network"
    assert "3 tries" in info.value.message
    assert ops(fake_providers, "result") == 3


async def test_connection_reset_mid_poll_is_retried(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, sleep: SleepLog
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "reset", provider="wavespeed", times=2)
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "succeeded"
    assert len(sleep.delays) == 2


async def test_malformed_json_poll_is_a_retryable_server_error(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "malformed_json", provider="wavespeed")
    with pytest.raises(ProviderError) as info:
        await wavespeed.poll(task_id)
    assert info.value.kind == "server" and info.value.retryable
    assert "unreadable" in info.value.message
    assert (await run_to_end(wavespeed, task_id))[-1].state == "succeeded"


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [(None, "server", "internal server error"), (401, "auth", "invalid authentication"),
     (429, "rate_limited", "too many requests")],
)  # fmt: skip
async def test_error_inside_http_200_poll_is_classified_with_the_providers_words(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, status: int | None, kind: str, text: str
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    fake_providers.add_fault("result", "error_in_200", provider="wavespeed", status=status)
    with pytest.raises(ProviderError) as info:
        await wavespeed.poll(task_id)
    assert info.value.kind == kind
    assert text in info.value.message
    assert info.value.status_code == 200


# --- job outcomes ----------------------------------------------------------------------------


async def test_moderation_failure_is_reported_as_failed_moderation(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.next_outcome("moderation")
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "moderation"
    assert final.error.provider_code == 1200
    assert "flagged as sensitive" in final.error.message


async def test_unreachable_input_1402_says_the_image_could_not_be_downloaded(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, png: Path
) -> None:
    fake_providers.next_outcome("unreachable_input")
    task_id = await wavespeed.submit(request(f"{WS}/image-to-video-720p", image=png))
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "job_failed"
    assert final.error.provider_code == 1402
    assert "could not download the input image" in final.error.message


async def test_generic_failure_is_job_failed_with_the_providers_words(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video", prompt="a storm [fake:failed]"))
    final = (await run_to_end(wavespeed, task_id))[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "job_failed"
    assert "Task execution failed" in final.error.message


async def test_timeout_status_is_a_failed_job_of_kind_timeout(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    data = {"id": "t1", "status": "timeout", "outputs": [], "error": "Task timed out after 600s"}
    fake_providers.add_fault("result", "error_in_200", provider="wavespeed", body=envelope(data))
    status = await wavespeed.poll("t1")
    assert status.state == "failed" and status.error is not None
    assert status.error.kind == "timeout"
    assert "timed out after 600s" in status.error.message


async def test_nsfw_flag_and_inference_time_are_read(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    data = {
        "id": "t2",
        "status": "completed",
        "outputs": ["https://cdn.example/a.mp4", "https://cdn.example/b.mp4"],
        "has_nsfw_contents": [True, False],
        "timings": {"inference": 25729},
    }
    fake_providers.add_fault("result", "error_in_200", provider="wavespeed", body=envelope(data))
    status = await wavespeed.poll("t2")
    assert status.state == "succeeded"
    assert status.video_url == "https://cdn.example/a.mp4"
    assert status.nsfw is True
    assert status.inference_seconds == pytest.approx(25.729)


async def test_completed_without_outputs_is_a_failed_job(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    data = {"id": "t3", "status": "completed", "outputs": []}
    fake_providers.add_fault("result", "error_in_200", provider="wavespeed", body=envelope(data))
    status = await wavespeed.poll("t3")
    assert status.state == "failed" and status.error is not None
    assert status.error.kind == "job_failed"


@pytest.mark.parametrize(
    ("word", "state"),
    [("created", "queued"), ("pending", "queued"), ("processing", "running"), ("completed", "succeeded"),
     ("failed", "failed"), ("cancelled", "cancelled"), ("canceled", "cancelled"), ("timeout", "failed"),
     ("PROCESSING", "running"), ("Completed", "succeeded"), ("warming", "running"), (None, "running")],
)  # fmt: skip
def test_every_wavespeed_status_spelling_is_normalised(word: str | None, state: str) -> None:
    assert normalise_state(word) == state


@pytest.mark.parametrize(
    ("word", "state"), [("pending", "queued"), ("Cancelled", "cancelled"), ("booting", "running")]
)
async def test_status_words_through_the_wire(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, word: str, state: str
) -> None:
    fake_providers.add_fault(
        "result", "error_in_200", provider="wavespeed", body=envelope({"id": "t", "status": word})
    )
    assert (await wavespeed.poll("t")).state == state


# --- cancel ----------------------------------------------------------------------------------


async def test_cancel_is_not_cancellable_without_a_request(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider
) -> None:
    fake_providers.set_timing(queue_seconds=30, run_seconds=1)
    task_id = await wavespeed.submit(request(f"{WS_PRO}/text-to-video"))
    before = len(fake_providers.requests)
    assert await wavespeed.cancel(task_id) == "not_cancellable"
    assert len(fake_providers.requests) == before
    assert (await wavespeed.poll(task_id)).state == "queued"


async def test_repr_never_shows_the_key() -> None:
    provider = WaveSpeedProvider("http://127.0.0.1:9", Secret("ws-very-secret"))
    assert "ws-very-secret" not in repr(provider)
    await provider.aclose()


@pytest.mark.parametrize(
    ("code", "kind"),
    [(1400, "validation"), (1401, "validation"), (5000, "server"), (5003, "server"), (5004, "server"),
     (401, "auth"), (403, "auth"), (402, "insufficient_balance")],
)  # fmt: skip
async def test_envelope_codes_inside_http_200_map_to_the_taxonomy(
    fake_providers: FakeProviders, wavespeed: WaveSpeedProvider, code: int, kind: str
) -> None:
    body = {"code": code, "message": f"problem {code}", "data": None}
    fake_providers.add_fault("result", "error_in_200", provider="wavespeed", body=body)
    with pytest.raises(ProviderError) as info:
        await wavespeed.poll("any")
    assert info.value.kind == kind
    assert info.value.provider_code == code
    assert f"problem {code}" in info.value.message
