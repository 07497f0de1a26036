"""One retry layer per request (#9): as the studio builds its adapters (the registry's
`build`), a poll is a single request and the engine's watcher owns its retries, bounded by
`settings.poll_retry`, one log line per retry."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jobs.records import JobRecord
from providers import runcomfy, wavespeed
from providers.base import ProviderError, Secret, SubmitRequest
from providers.catalog import get_model
from providers.http import RetryPolicy
from providers.registry import ProviderConfig
from tests.fakes import FakeProviders
from tests.integration.engine_kit import RC_PRO_T2V, WS_T2V_720, on_fake, studio_providers, t2v

QUICK_POLLS = RetryPolicy(attempts=4, base=0.01, cap=0.05)


def built(module: object, fake: FakeProviders, key: str) -> object:
    config = ProviderConfig(key=Secret(key), base_url=fake.base_url, files_dir=Path("unused"))
    return module.build(config)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("module", "model", "op", "key"),
    [
        (runcomfy, RC_PRO_T2V, "status", FakeProviders.RUNCOMFY_KEY),
        (wavespeed, WS_T2V_720, "result", FakeProviders.WAVESPEED_KEY),
    ],
)
async def test_the_studios_adapter_sends_a_poll_once_and_leaves_the_retry_to_its_caller(
    fake_providers: FakeProviders, module: object, model: str, op: str, key: str
) -> None:
    adapter = built(module, fake_providers, key)
    try:
        locator = await adapter.submit(SubmitRequest(spec=get_model(model), prompt="x", options={}))  # type: ignore[attr-defined]
        fake_providers.add_fault(op, "status", status=503, times=3)
        before = len([r for r in fake_providers.requests if r.op == op])
        with pytest.raises(ProviderError) as caught:
            await adapter.poll(locator)  # type: ignore[attr-defined]
        assert caught.value.retryable and caught.value.status_code == 503
        assert len([r for r in fake_providers.requests if r.op == op]) == before + 1
    finally:
        await adapter.aclose()  # type: ignore[attr-defined]


async def one_job_whose_polls_are_refused(
    tmp_path: Path, fake: FakeProviders, refusals: int
) -> tuple[JobRecord, JobRecord]:
    """One quick job on an engine with the studio's own adapters and QUICK_POLLS, its first
    `refusals` status polls answered 503; (the job as submitted, as it ended)."""
    fake.set_timing(queue_seconds=0, run_seconds=0.3)
    fake.add_fault("status", "status", status=503, times=refusals)
    async with on_fake(tmp_path, fake, studio_providers, poll_retry=QUICK_POLLS) as engine:
        record = await engine.submit("alice", t2v())
        return record, await engine.wait("alice", record.id, timeout=30)


async def test_missed_polls_are_retried_by_the_watcher_one_logged_line_each_then_the_job_succeeds(
    tmp_path: Path, fake_providers: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="studio")
    record, final = await one_job_whose_polls_are_refused(tmp_path, fake_providers, 3)
    assert final.state == "succeeded"
    faulted = [r for r in fake_providers.requests if r.op == "status"]
    retries = [r.getMessage() for r in caplog.records if r.name == "studio.retry"]
    assert len(retries) == 3, retries  # one line per missed poll, none from inside a poll
    assert all(
        f"poll of job {record.id}" in line and "HTTP 503" in line and "next try in" in line
        for line in retries
    )
    assert len(faulted) >= 4  # three refused, then answered


async def test_the_watcher_gives_up_after_the_bound_and_keeps_the_job_resumable(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    _, final = await one_job_whose_polls_are_refused(tmp_path, fake_providers, 50)
    assert final.state == "failed" and final.error_kind == "server" and final.request_id
    # exactly the bound: QUICK_POLLS.attempts polls of one request each, nothing retried inside
    assert len([r for r in fake_providers.requests if r.op == "status"]) == QUICK_POLLS.attempts
    assert len(fake_providers.submits()) == 1
