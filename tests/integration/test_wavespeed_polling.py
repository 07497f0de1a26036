"""WaveSpeedProvider's polling against the local fake WaveSpeedAI API: a job walked from queued
through running to succeeded, another account's task not found, poll faults (429 storms honouring
Retry-After, 5xx bursts and their end, hung polls, connection resets, malformed JSON, errors inside
an HTTP 200 and their envelope codes), the job outcomes read from the result (moderation,
unreachable input, generic failure, timeout, NSFW flag and inference time, missing outputs, every
status spelling), cancel, which WaveSpeedAI does not offer, and a repr that never shows the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import ProviderError, Secret
from providers.http import RetryPolicy
from providers.wavespeed import WaveSpeedProvider, normalise_state
from tests.fakes.server import FakeProviders
from tests.integration.wavespeed_support import (  # noqa: F401 (the *_fixture names are fixtures)
    FAST_RETRY,
    KEY,
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

# --- polling a job to its end ----------------------------------------------------------------


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
