"""What an operator sees and what the engine refuses: one log line per job state change
and one per retry (never a key or a prompt), and a hosted provider's local file."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from jobs.ledger import Ledger
from jobs.records import GenerationRequest
from jobs.settings import Settings
from jobs.store import JobStore
from providers.base import JobLocator, ProviderError, ProviderStatus, Secret, SubmitRequest
from tests.fakes import FakeProviders
from tests.fakes.media import sample_video
from tests.integration.engine_kit import (
    RC_PRO_T2V,
    WS_T2V_720,
    make_providers,
    make_settings,
    on_fake,
    running,
)

PROMPT = "a very particular prompt about a silver heron standing in the fog at dawn, long enough to matter"


async def test_one_line_per_state_change_and_per_retry_and_no_secrets(
    tmp_path: Path, fake_providers: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    fake_providers.set_timing(queue_seconds=0.3, run_seconds=0.5)
    fake_providers.add_fault("status", "status", status=503, times=1)
    caplog.set_level(logging.INFO, logger="studio")
    async with on_fake(tmp_path, fake_providers) as engine:
        record = await engine.submit("alice", GenerationRequest("t2v", RC_PRO_T2V, PROMPT, {"seed": 3}))
        final = await engine.wait("alice", record.id, timeout=30)
    assert final.state == "succeeded"
    lines = [r.getMessage() for r in caplog.records if r.name == "studio.jobs"]
    states = [line.split()[2] for line in lines if line.startswith(f"job {record.id} ")]
    # One line per change, in order ('running' may fall between two polls and go unseen).
    assert [s for s in states if s != "running"] == ["submitting", "queued", "downloading", "succeeded"], lines
    assert states.count("running") <= 1, lines
    done = next(line for line in lines if " succeeded " in line)
    assert RC_PRO_T2V in done and f"request {final.request_id}" in done and "s · " in done
    retries = [r.getMessage() for r in caplog.records if r.name == "studio.retry"]
    assert any("HTTP 503" in line and "next try in" in line for line in retries), retries
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert FakeProviders.RUNCOMFY_KEY not in everything
    assert PROMPT[:20] not in everything


class LocalFileHost:
    """A hosted provider (not offline) whose finished job points at a local file: the
    engine must not read it. An adapter stub: nothing here talks HTTP."""

    name = "runcomfy"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        return JobLocator("local-1")

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        return ProviderStatus(state="succeeded", video_url=self.path.as_uri())

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> str:
        return "not_cancellable"

    def has_key(self) -> bool:
        return True

    async def aclose(self) -> None:
        pass


async def test_only_the_simulator_may_hand_over_a_local_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", None)

    def with_local_host(settings: Settings) -> dict[str, object]:
        return {**make_providers(settings), "runcomfy": LocalFileHost(sample_video())}

    async with running(settings, with_local_host) as engine:
        hosted = await engine.submit("alice", GenerationRequest("t2v", RC_PRO_T2V, "a heron", {}))
        failed = await engine.wait("alice", hosted.id, timeout=30)
        assert failed.state == "failed" and failed.error_kind == "job_failed"
        assert "not a web (http or https) address" in (failed.error_message or "")
        assert not list(settings.videos_dir.glob("*.mp4")), "nothing was copied"
        # The simulator's own file:// output is still saved.
        sim = await engine.submit(
            "alice", GenerationRequest("t2v", "simulator/dreamina-3-0/text-to-video", "a heron", {})
        )
        assert (await engine.wait("alice", sim.id, timeout=60)).state == "succeeded"


async def test_a_submits_fsynced_writes_run_off_the_engines_loop(
    tmp_path: Path, fake_providers: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new row, the request id and a refused job's deletion are fsynced before they
    return (jobs/store.py): on the engine's loop each would hold every other job up."""
    durable: list[tuple[str, bool]] = []  # (which write, ran on the loop's thread)

    def watched(name: str, method):  # type: ignore[no-untyped-def]
        def write(store: JobStore, *args: object, **changes: object) -> object:
            if name != "update" or "request_id" in changes:
                durable.append((name, threading.get_ident() == loop_thread))
            return method(store, *args, **changes)

        return write

    for name in ("insert", "update", "delete"):
        monkeypatch.setattr(JobStore, name, watched(name, getattr(JobStore, name)))
    loop_thread = threading.get_ident()
    settings = make_settings(tmp_path / "data", fake_providers, wavespeed_key=Secret("wrong-key"))
    async with running(settings) as engine:
        accepted = await engine.submit("alice", GenerationRequest("t2v", RC_PRO_T2V, "a heron", {}))
        assert accepted.state == "queued" and accepted.request_id
        with pytest.raises(ProviderError):  # a definite refusal: its row is deleted
            await engine.submit("alice", GenerationRequest("t2v", WS_T2V_720, "a heron", {"duration": 5}))
    assert [name for name, _ in durable] == ["insert", "update", "insert", "delete"], durable
    assert not [name for name, on_loop in durable if on_loop], durable


async def test_a_caller_gone_once_the_provider_has_the_job_still_leaves_it_settled_and_watched(
    tmp_path: Path, fake_providers: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page closed (its call cancelled) while the accepted submit is being recorded: the
    job is billed, so it must still be charged, stored with its request id and watched."""
    fake_providers.set_timing(queue_seconds=0.2, run_seconds=0.3)
    entered, release = threading.Event(), threading.Event()
    charge = Ledger.charge

    def held_charge(ledger: Ledger, job_id: str, now: float) -> None:
        entered.set()
        release.wait(10)
        charge(ledger, job_id, now)

    monkeypatch.setattr(Ledger, "charge", held_charge)
    async with on_fake(tmp_path, fake_providers) as engine:
        call = asyncio.get_running_loop().create_task(
            engine.submit("alice", GenerationRequest("t2v", RC_PRO_T2V, "a heron", {}))
        )
        while not entered.is_set():
            await asyncio.sleep(0.01)
        call.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await call
        (job,) = engine.history("alice").items
        final = await engine.wait("alice", job.id, timeout=30)
        assert final.state == "succeeded" and final.request_id, final
        assert len(fake_providers.submits("runcomfy")) == 1
        assert engine.spend("alice")["jobs"] == 1
