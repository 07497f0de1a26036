"""RunComfyProvider against the local fake RunComfy Model API: payloads, polling, faults."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from providers.base import ProviderError, ProviderStatus, Secret, SubmitRequest, ValidationError
from providers.catalog import get_model
from providers.http import RetryPolicy
from providers.runcomfy import RunComfyProvider, normalise_state
from tests.fakes.server import FakeProviders

RC = "runcomfy/bytedance/dreamina-3-0"
KEY = Secret(FakeProviders.RUNCOMFY_KEY)
FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.05)
PROMPT = "a paper boat drifting down a rain-soaked street, golden hour"


class SleepLog:
    """An injected sleep: records each backoff delay, waits for none of them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def write_image(path: Path, fmt: str) -> Path:
    Image.new("RGB", (640, 360), (30, 90, 160)).save(path, format=fmt)
    return path


@pytest.fixture
def sleep() -> SleepLog:
    return SleepLog()


@pytest.fixture
async def runcomfy(fake_providers: FakeProviders, sleep: SleepLog) -> AsyncIterator[RunComfyProvider]:
    provider = RunComfyProvider(
        fake_providers.base_url, KEY, retry=FAST_RETRY, request_timeout=5.0, submit_timeout=5.0, sleep=sleep
    )
    yield provider
    await provider.aclose()


def request(
    model: str, *, prompt: str = PROMPT, image: Path | None = None, **options: int | str
) -> SubmitRequest:
    return SubmitRequest(spec=get_model(f"{RC}/{model}"), prompt=prompt, options=options, image=image)


def ops(fake: FakeProviders, op: str) -> int:
    return len([r for r in fake.requests if r.provider == "runcomfy" and r.op == op])


async def run_to_end(
    provider: RunComfyProvider, request_id: str, key: Secret | None = None
) -> list[ProviderStatus]:
    seen: list[ProviderStatus] = []
    for _ in range(300):
        status = await provider.poll(request_id, key)
        seen.append(status)
        if status.state in ("succeeded", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"job never finished; last state {seen[-1].state}")


# --- every model: the exact payload, polled to a video URL ---------------------------------


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


async def test_poll_walks_queued_with_position_then_running_then_succeeded(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.set_timing(queue_seconds=0.3, run_seconds=0.3, queue_length=3)
    rid = await runcomfy.submit(request("text-to-video"))
    seen = await run_to_end(runcomfy, rid)
    states = [s.state for s in seen]
    assert states[0] == "queued" and seen[0].queue_position in (1, 2, 3)
    assert "running" in states and states[-1] == "succeeded"
    assert states.index("running") > states.index("queued")
    assert all(s.queue_position is None for s in seen if s.state != "queued")
    # /status while it queues (its place in line), up to the poll that first sees it run;
    # from then on /result alone, which says in_progress until the end: one request a poll,
    # the poll that sees the end included.
    first_run = states.index("running")
    assert ops(fake_providers, "status") == first_run + 1
    assert ops(fake_providers, "result") == len(seen) - first_run - 1


async def test_a_poll_the_schedule_expects_to_see_the_end_asks_result_alone(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.set_timing(queue_seconds=0.0, run_seconds=0.0)
    rid = await runcomfy.submit(request("text-to-video"))
    final = await runcomfy.poll(rid, ending=True)
    assert final.state == "succeeded" and final.video_url
    assert (ops(fake_providers, "status"), ops(fake_providers, "result")) == (0, 1)


async def test_an_expected_end_that_is_still_in_line_keeps_its_place(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    # /result says only in_queue: /status then says where in line (the page shows it)
    fake_providers.set_timing(queue_seconds=30, run_seconds=1, queue_length=3)
    rid = await runcomfy.submit(request("text-to-video"))
    status = await runcomfy.poll(rid, ending=True)
    assert status.state == "queued" and status.queue_position == 3
    assert (ops(fake_providers, "status"), ops(fake_providers, "result")) == (1, 1)


async def test_a_finished_job_says_how_long_runcomfy_took_on_its_own_clock(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    # created_at and finished_at (providers.md §1), from a clock an hour ahead of ours
    fake_providers.set_timing(queue_seconds=0.2, run_seconds=0.3)
    fake_providers.set_clock_skew(3600)
    rid = await runcomfy.submit(request("text-to-video"))
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded"
    assert final.run_seconds == pytest.approx(0.5, abs=0.002)  # the fake states milliseconds


@pytest.mark.parametrize(
    "times",
    [
        {},  # not stated
        {"created_at": "…", "finished_at": "…"},  # placeholders, as in the docs
        {"created_at": "2026-12-02T10:00:05Z", "finished_at": "2026-12-02T10:00:00Z"},  # backwards
        {"created_at": 17, "finished_at": None},
    ],
)
async def test_absent_or_broken_times_are_no_run_time_and_no_failure(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, times: dict[str, object]
) -> None:
    fake_providers.set_timing(queue_seconds=0.0, run_seconds=0.0)
    rid = await runcomfy.submit(request("text-to-video"))
    url = f"{fake_providers.base_url}/files/out.mp4"
    body = {"request_id": rid, "status": "succeeded", "output": {"video": url}, **times}
    fake_providers.add_fault("result", "error_in_200", body=body)
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded" and final.video_url == url and final.run_seconds is None


# --- refusing before anything is sent --------------------------------------------------------


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


# --- provider errors -------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "not_found"),
        (401, "auth"),
        (402, "insufficient_balance"),
        (429, "rate_limited"),
        (500, "server"),
    ],
)
async def test_definite_submit_refusals_are_classified_and_not_retried(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, status: int, kind: str
) -> None:
    # The fake's 400 body is RunComfy's 400001 (unknown model id).
    fake_providers.add_fault("submit", "status", provider="runcomfy", status=status, times=5)
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == kind
    assert info.value.status_code == status
    assert len(fake_providers.submits("runcomfy")) == 1
    assert fake_providers.jobs == {}


async def test_rate_limited_submit_carries_retry_after(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("submit", "status", provider="runcomfy", status=429, retry_after=17)
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "rate_limited" and info.value.retry_after == 17.0
    assert len(fake_providers.submits("runcomfy")) == 1


# --- submit faults: never sent twice ---------------------------------------------------------


@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_error_on_submit_is_unknown_and_sent_once(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, status: int
) -> None:
    fake_providers.add_fault("submit", "status", provider="runcomfy", status=status, times=5)
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("runcomfy")) == 1


async def test_reset_after_submit_is_unknown_and_sent_once(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("submit", "reset_after_submit", provider="runcomfy")
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("runcomfy")) == 1
    assert len(fake_providers.jobs) == 1  # the job exists: resubmitting would bill twice


async def test_submit_slower_than_submit_timeout_is_unknown_and_sent_once(
    fake_providers: FakeProviders,
) -> None:
    fake_providers.add_fault("submit", "slow_after_submit", provider="runcomfy", delay=3.0)
    provider = RunComfyProvider(fake_providers.base_url, KEY, retry=FAST_RETRY, submit_timeout=0.3)
    try:
        with pytest.raises(ProviderError) as info:
            await provider.submit(request("text-to-video"))
    finally:
        await provider.aclose()
    assert info.value.kind == "submit_unknown"
    assert "ReadTimeout" in info.value.message
    assert len(fake_providers.submits("runcomfy")) == 1


async def test_malformed_submit_reply_is_unknown_and_sent_once(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("submit", "malformed_json", provider="runcomfy")
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("runcomfy")) == 1


async def test_submit_reply_without_request_id_is_unknown(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("submit", "error_in_200", provider="runcomfy", body={"status_url": "x"})
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "submit_unknown"
    assert len(fake_providers.submits("runcomfy")) == 1


async def test_error_in_200_on_submit_is_a_definite_refusal(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("submit", "error_in_200", provider="runcomfy", status=402)
    with pytest.raises(ProviderError) as info:
        await runcomfy.submit(request("text-to-video"))
    assert info.value.kind == "insufficient_balance"
    assert "Insufficient balance" in info.value.message
    assert len(fake_providers.submits("runcomfy")) == 1


async def test_connection_refused_on_submit_is_network(fake_providers: FakeProviders) -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    provider = RunComfyProvider(f"http://127.0.0.1:{port}", KEY)
    try:
        with pytest.raises(ProviderError) as info:
            await provider.submit(request("text-to-video"))
    finally:
        await provider.aclose()
    assert info.value.kind == "network"
    assert "nothing was sent" in info.value.message


# --- poll faults -----------------------------------------------------------------------------


async def test_429_storm_is_retried_honouring_retry_after(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, sleep: SleepLog
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "status", provider="runcomfy", status=429, retry_after=2, times=3)
    status = await runcomfy.poll(rid)
    assert status.state in ("queued", "running", "succeeded")
    assert ops(fake_providers, "status") == 4
    assert sleep.delays == [2.0, 2.0, 2.0]


async def test_5xx_burst_is_retried_and_recovers(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, sleep: SleepLog
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "status", provider="runcomfy", status=503, times=2)
    fake_providers.add_fault("result", "status", provider="runcomfy", status=500, times=1)
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded"
    assert len(sleep.delays) == 3
    assert sleep.delays[1] > sleep.delays[0]  # exponential backoff between the 503s


async def test_5xx_forever_raises_server_after_the_policy_runs_out(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "status", provider="runcomfy", status=500, times=50)
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll(rid)
    assert info.value.kind == "server" and info.value.retryable
    assert "Internal Server Error" in info.value.message
    assert ops(fake_providers, "status") == FAST_RETRY.attempts


async def test_429_forever_raises_rate_limited_with_retry_after(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "status", provider="runcomfy", status=429, retry_after=9, times=50)
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll(rid)
    assert info.value.kind == "rate_limited" and info.value.retry_after == 9.0


async def test_hung_poll_times_out_as_network_after_bounded_tries(fake_providers: FakeProviders) -> None:
    provider = RunComfyProvider(
        fake_providers.base_url,
        KEY,
        retry=RetryPolicy(attempts=2, base=0.01),
        request_timeout=0.2,
        sleep=SleepLog(),
    )
    try:
        rid = await provider.submit(request("text-to-video"))
        fake_providers.add_fault("status", "hang", provider="runcomfy", times=2)
        with pytest.raises(ProviderError) as info:
            await provider.poll(rid)
    finally:
        await provider.aclose()
    assert info.value.kind == "network"
    assert "2 tries" in info.value.message and "ReadTimeout" in info.value.message
    assert ops(fake_providers, "status") == 2


async def test_slow_poll_within_the_timeout_just_answers(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, sleep: SleepLog
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "slow", provider="runcomfy", delay=0.05)
    assert (await runcomfy.poll(rid)).state in ("queued", "running", "succeeded")
    assert sleep.delays == []


async def test_connection_reset_mid_poll_is_retried(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, sleep: SleepLog
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "reset", provider="runcomfy")
    fake_providers.add_fault("result", "reset", provider="runcomfy")
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "succeeded"
    assert len(sleep.delays) == 2


async def test_malformed_json_poll_is_a_retryable_server_error(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "malformed_json", provider="runcomfy")
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll(rid)
    assert info.value.kind == "server" and info.value.retryable
    assert "not JSON" in info.value.message
    assert (await run_to_end(runcomfy, rid))[-1].state == "succeeded"


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [(None, "server", "Internal Server Error"), (401, "auth", "Invalid or missing API token"),
     (404, "not_found", "Resource not found")],
)  # fmt: skip
async def test_error_inside_http_200_poll_is_classified_with_the_providers_words(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, status: int | None, kind: str, text: str
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", status=status)
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll(rid)
    assert info.value.kind == kind
    assert text in info.value.message
    assert info.value.status_code == 200


# --- job outcomes ----------------------------------------------------------------------------


async def test_moderation_failure_is_reported_as_failed_moderation(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.next_outcome("moderation")
    rid = await runcomfy.submit(request("text-to-video"))
    seen = await run_to_end(runcomfy, rid)
    final = seen[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "moderation"
    assert "content moderation" in final.error.message
    assert final.video_url is None


async def test_prompt_marker_failure_reads_result_not_status(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    # The fake's /status says "completed" for a failed job, as RunComfy's does.
    rid = await runcomfy.submit(request("text-to-video", prompt="a storm [fake:failed]"))
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "job_failed"
    assert "inference server" in final.error.message


async def test_unreachable_input_is_a_failed_job(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, tmp_path: Path
) -> None:
    fake_providers.next_outcome("unreachable_input")
    rid = await runcomfy.submit(request("image-to-video", image=write_image(tmp_path / "i.png", "PNG")))
    final = (await run_to_end(runcomfy, rid))[-1]
    assert final.state == "failed" and final.error is not None
    assert final.error.kind == "job_failed"
    assert "download the input image" in final.error.message


async def test_status_completed_but_result_still_running_keeps_polling(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", body={"status": "completed"})
    fake_providers.add_fault("result", "error_in_200", provider="runcomfy", body={"status": "in_progress"})
    assert (await runcomfy.poll(rid)).state == "running"


@pytest.mark.parametrize(
    ("output", "url"),
    [({"video": "https://x.runcomfy.net/a.mp4"}, "https://x.runcomfy.net/a.mp4"),
     ({"videos": ["https://x.runcomfy.net/b.mp4", "https://x.runcomfy.net/c.mp4"]}, "https://x.runcomfy.net/b.mp4"),
     ({"video": "https://x.runcomfy.net/v.mp4", "videos": ["https://x.runcomfy.net/w.mp4"]},
      "https://x.runcomfy.net/v.mp4")],
)  # fmt: skip
async def test_video_url_is_output_video_else_first_of_videos(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, output: dict[str, object], url: str
) -> None:
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", body={"status": "completed"})
    fake_providers.add_fault(
        "result", "error_in_200", provider="runcomfy", body={"status": "succeeded", "output": output}
    )
    status = await runcomfy.poll("any")
    assert status.state == "succeeded" and status.video_url == url


async def test_success_without_a_video_url_is_a_failed_job(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", body={"status": "succeeded"})
    fake_providers.add_fault(
        "result", "error_in_200", provider="runcomfy", body={"status": "succeeded", "output": {"image": "x"}}
    )
    status = await runcomfy.poll("any")
    assert status.state == "failed" and status.error is not None
    assert status.error.kind == "job_failed"


@pytest.mark.parametrize(
    ("error", "kind"),
    [("NSFW content detected", "moderation"), ({"type": "policy", "message": "Violates usage policy"}, "moderation"),
     ({"message": "Sensitive content in the image"}, "moderation"), ("CUDA out of memory", "job_failed"),
     (None, "job_failed")],
)  # fmt: skip
async def test_failure_text_decides_moderation_or_job_failed(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, error: object, kind: str
) -> None:
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", body={"status": "FAILED"})
    fake_providers.add_fault(
        "result", "error_in_200", provider="runcomfy", body={"status": "failed", "error": error}
    )
    status = await runcomfy.poll("any")
    assert status.state == "failed" and status.error is not None
    assert status.error.kind == kind


@pytest.mark.parametrize(
    ("word", "state"),
    [("in_queue", "queued"), ("IN_QUEUE", "queued"), ("in_progress", "running"), ("completed", "succeeded"),
     ("succeeded", "succeeded"), ("failed", "failed"), ("cancelled", "cancelled"), ("canceled", "cancelled"),
     (" Canceled ", "cancelled"), ("warming_up", "running"), ("", "running"), (None, "running")],
)  # fmt: skip
def test_every_runcomfy_status_spelling_is_normalised(word: str | None, state: str) -> None:
    assert normalise_state(word) == state


async def test_unknown_status_word_keeps_polling(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.add_fault("status", "error_in_200", provider="runcomfy", body={"status": "warming_up"})
    assert (await runcomfy.poll("any")).state == "running"
    assert ops(fake_providers, "result") == 0


# --- cancel ----------------------------------------------------------------------------------


async def test_cancel_while_queued_cancels(fake_providers: FakeProviders, runcomfy: RunComfyProvider) -> None:
    fake_providers.set_timing(queue_seconds=30, run_seconds=1)
    rid = await runcomfy.submit(request("text-to-video"))
    assert await runcomfy.cancel(rid) == "cancelled"
    [cancel] = [r for r in fake_providers.requests if r.op == "cancel"]
    assert cancel.method == "POST" and cancel.path == f"/v1/requests/{rid}/cancel"
    assert (await runcomfy.poll(rid)).state == "cancelled"


async def test_cancel_once_running_is_not_cancellable(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    fake_providers.set_timing(queue_seconds=0, run_seconds=30)
    rid = await runcomfy.submit(request("text-to-video"))
    assert await runcomfy.cancel(rid) == "not_cancellable"
    assert (await runcomfy.poll(rid)).state == "running"


async def test_cancel_is_retried_on_5xx(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, sleep: SleepLog
) -> None:
    fake_providers.set_timing(queue_seconds=30, run_seconds=1)
    rid = await runcomfy.submit(request("text-to-video"))
    fake_providers.add_fault("cancel", "status", provider="runcomfy", status=503)
    assert await runcomfy.cancel(rid) == "cancelled"
    assert ops(fake_providers, "cancel") == 2


async def test_cancel_of_unknown_request_is_not_found(runcomfy: RunComfyProvider) -> None:
    with pytest.raises(ProviderError) as info:
        await runcomfy.cancel("nope")
    assert info.value.kind == "not_found"


async def test_repr_never_shows_the_key() -> None:
    provider = RunComfyProvider("http://127.0.0.1:9", Secret("rc-very-secret"))
    assert "rc-very-secret" not in repr(provider)
    assert provider.has_key()
    await provider.aclose()


# --- error codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http_status", "code", "kind"),
    [(401, 400004, "auth"), (401, 401001, "auth"), (403, 403003, "auth"), (402, 400002, "insufficient_balance"),
     (400, 400002, "insufficient_balance"), (422, 422001, "validation"), (404, 404001, "not_found"),
     (400, 400001, "not_found"), (403, 403001, "not_found"), (500, 500001, "server"), (503, None, "server"),
     (409, None, "validation")],
)  # fmt: skip
async def test_runcomfy_error_codes_map_to_the_taxonomy(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider, http_status: int, code: int | None, kind: str
) -> None:
    body = {"error_code": code, "error_message": f"code {code}"} if code else {"detail": "nope"}
    fake_providers.add_fault("cancel", "status", provider="runcomfy", status=http_status, body=body, times=9)
    with pytest.raises(ProviderError) as info:
        await runcomfy.cancel("any")
    assert info.value.kind == kind
    assert info.value.provider_code == code


async def test_a_key_echoed_back_by_the_provider_is_cut_out(
    fake_providers: FakeProviders, runcomfy: RunComfyProvider
) -> None:
    body = {"error_code": 400004, "error_message": f"token {FakeProviders.RUNCOMFY_KEY} was revoked"}
    fake_providers.add_fault("status", "status", provider="runcomfy", status=401, body=body)
    with pytest.raises(ProviderError) as info:
        await runcomfy.poll("any")
    assert info.value.kind == "auth"
    assert FakeProviders.RUNCOMFY_KEY not in info.value.message
    assert "token *** was revoked" in info.value.message
