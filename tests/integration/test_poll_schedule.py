"""The poll schedule against the fake providers: the provider's own run time aims the polls
of a model's next job, so the engine sees its end just after it, where polls aimed at our
own sightings (late by up to a poll step) saw it a step late."""

from __future__ import annotations

from pathlib import Path

from jobs.polling import ANCHOR
from tests.fakes.server import FakeProviders
from tests.integration.engine_kit import on_fake, t2v

QUEUED, RUNNING = 0.4, 1.9  # a 2.3 s job: between the 1 s polls of a model without history


def poll_arrivals(fake: FakeProviders, request_id: str) -> list[float]:
    """When the fake received each of a job's polls (its /status and /result requests)."""
    return [r.at for r in fake.requests if r.op in ("status", "result") and request_id in r.path]


async def test_the_engine_sees_a_finish_just_after_the_providers_stated_end(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=QUEUED, run_seconds=RUNNING, queue_length=1)
    fake_providers.set_clock_skew(3600)  # the provider's clock is an hour ahead: no matter
    async with on_fake(tmp_path, fake_providers) as engine:
        # Without history the first job is polled about every second: the poll sent at 3 s
        # sees its end at 2.3 s. RunComfy's result says it took 2.3 s (created -> finished).
        first = await engine.submit("alice", t2v())
        await engine.wait("alice", first.id, timeout=30)
        second = await engine.submit("alice", t2v())
        final = await engine.wait("alice", second.id, timeout=30)
    assert final is not None and final.state == "succeeded"
    for record in (first, second):
        assert record.request_id is not None
    end = fake_providers.jobs[second.request_id].finished_at
    assert end is not None
    arrivals = poll_arrivals(fake_providers, second.request_id)
    after = [t for t in arrivals if t >= end]
    # Aimed at submit + 2.3 s + ANCHOR: the first poll to reach the fake after the end does so
    # within a loose bound for a loaded machine. Aimed at the first job's sighting (3 s), as
    # the schedule did before, the polls came at 2.85 s and 3.05 s: 0.55 s after the end.
    assert after, arrivals
    assert after[0] - end <= ANCHOR + 0.25, [round(t - end, 3) for t in arrivals]
    # and no poll was wasted just before the end (the old grid's lead poll)
    assert not [t for t in arrivals if end - 0.8 < t < end], [round(t - end, 3) for t in arrivals]
    # Two polls in all: one at 1 s (/status: running) and the one just after the end, which
    # asked /result alone, the job having been seen running.
    ops = [
        r.op for r in fake_providers.requests if r.op in ("status", "result") and second.request_id in r.path
    ]
    assert ops == ["status", "result"], ops
