"""The engine's loop never waits on a disk: with the DELETE journal (a network or bucket
mount), where each commit makes its own fsyncs inside COMMIT under the store's lock, a
slow mount must not stall the loop that polls every job (jobs/write_lanes.py).

The slow mount is real SQLite work made slow where its fsyncs are: every write
transaction's COMMIT waits (a trace callback on the store's connection, which runs inside
the store's lock, on whichever thread commits), as a bucket mount's three fsyncs would.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from jobs.engine import Engine
from jobs.records import TERMINAL_STATES
from providers.base import Secret
from tests.fakes import FakeProviders
from tests.integration.engine_kit import on_fake, t2v

SLOW_COMMIT = 0.5  # seconds each write transaction's COMMIT takes
LIFECYCLE = ["submitting", "queued", "running", "downloading", "succeeded"]


def slow_commits(engine: Engine) -> list[float]:
    """Make every write transaction of the engine's store commit SLOW_COMMIT late; returns
    the list the commits' start times are appended to."""
    commits: list[float] = []
    writing = False

    def traced(sql: str) -> None:
        nonlocal writing
        statement = sql.strip().upper()
        if statement.startswith("BEGIN IMMEDIATE"):
            writing = True
        elif statement == "COMMIT" and writing:
            writing = False
            commits.append(time.monotonic())
            time.sleep(SLOW_COMMIT)

    with engine.store.reading() as conn:
        conn.set_trace_callback(traced)
    return commits


async def probe(stop: asyncio.Event, lags: list[float], step: float = 0.01) -> None:
    """How late the loop wakes a task that asked to sleep `step`: its stalls."""
    while not stop.is_set():
        asked = time.monotonic()
        await asyncio.sleep(step)
        lags.append(time.monotonic() - asked - step)


async def test_progress_writes_on_a_slow_delete_journal_never_stall_the_engines_loop(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    fake_providers.set_timing(queue_seconds=0.3, run_seconds=0.6)
    async with on_fake(tmp_path, fake_providers, db_journal="delete") as engine:
        assert engine.store.journal == "delete"
        commits = slow_commits(engine)
        stop, lags = asyncio.Event(), []
        prober = asyncio.get_running_loop().create_task(probe(stop, lags))
        # Two jobs at once: their writes share the store's lock, each in its own order.
        records = await asyncio.gather(*(engine.submit("alice", t2v(prompt=f"job {n}")) for n in range(2)))
        seen: dict[str, list[str]] = {record.id: [] for record in records}
        done = asyncio.Event()

        def listener(record) -> None:  # type: ignore[no-untyped-def]
            seen[record.id].append(record.state)
            if all(states and states[-1] in TERMINAL_STATES for states in seen.values()):
                done.set()

        for record in records:
            assert engine.subscribe("alice", record.id, listener) is not None
        await asyncio.wait_for(done.wait(), 60)
        stop.set()
        await prober

    # Every job went through its states in order (a state may be published more than once:
    # a note, the subscription's first look), and ended succeeded.
    for job_id, states in seen.items():
        order = [LIFECYCLE.index(state) for state in states]
        assert order == sorted(order) and states[-1] == "succeeded", (job_id, states)
        assert "downloading" in states, (job_id, states)
    # The slow commits really happened: the two jobs' inserts, request ids and progress.
    assert len(commits) >= 8, len(commits)
    # ... and the loop never waited one out: each would be a stall of SLOW_COMMIT or more.
    assert lags and max(lags) < SLOW_COMMIT / 2, f"the loop stalled {max(lags):.3f} s"


async def test_a_typed_key_is_forgotten_once_its_job_has_ended_even_when_the_end_lands_late(
    tmp_path: Path, fake_providers: FakeProviders
) -> None:
    """With writes off the loop a cancel's terminal write lands after the watcher has gone:
    the key typed for the job is let go when the end lands, not when the watcher stops."""
    fake_providers.set_timing(queue_seconds=30, run_seconds=1)
    keys = {"runcomfy": Secret(FakeProviders.RUNCOMFY_KEY)}
    async with on_fake(tmp_path, fake_providers, db_journal="delete", runcomfy_key=None) as engine:
        slow_commits(engine)
        record = await engine.submit("alice", t2v(), keys=keys)
        assert record.id in engine._session_keys  # the watcher polls with it
        cancelled = await engine.cancel("alice", record.id)
        assert cancelled.state == "cancelled"
        await asyncio.sleep(0.2)  # the cancelled watcher's own end has run by now
        assert record.id not in engine._session_keys
