"""RunComfyProvider when things go wrong around a job: submit faults that must never send a job twice
(gateway errors, resets, timeouts, malformed or id-less replies) and definite refusals, cancel in
each state, RunComfy's error codes mapped to the studio's taxonomy, and the key never shown (repr,
or echoed back by the provider)."""

from __future__ import annotations

import asyncio

import pytest

from providers.base import ProviderError, Secret
from providers.runcomfy import RunComfyProvider
from tests.fakes.server import FakeProviders
from tests.integration.runcomfy_support import (  # noqa: F401 (the *_fixture names are fixtures)
    FAST_RETRY,
    KEY,
    SleepLog,
    ops,
    request,
    runcomfy_fixture,
    sleep_fixture,
)


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
