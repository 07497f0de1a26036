"""RunComfyProvider's polls against the local fake RunComfy API: a job walked from queued to succeeded,
the poll that expects the end asking /result alone, RunComfy's own run times, poll faults (429
storms, 5xx bursts, hung, slow and reset polls, malformed JSON, errors inside an HTTP 200), and
every job outcome and status spelling read from the status and the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import ProviderError
from providers.http import RetryPolicy
from providers.runcomfy import RunComfyProvider, normalise_state
from tests.fakes.server import FakeProviders
from tests.integration.runcomfy_support import (  # noqa: F401 (the *_fixture names are fixtures)
    FAST_RETRY,
    KEY,
    SleepLog,
    ops,
    request,
    run_to_end,
    runcomfy_fixture,
    sleep_fixture,
    write_image,
)


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
