"""jobs/write_lanes.py: one job's writes land in the order they were made, wherever they
run; other jobs' writes run beside them; a write lands even when its caller stops waiting."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jobs.write_lanes import WriteLanes


def slow(log: list[str], name: str, seconds: float) -> object:
    def write() -> str:
        time.sleep(seconds)
        log.append(name)
        return name

    return write


async def test_one_keys_writes_land_in_order_even_when_the_first_is_the_slowest() -> None:
    lanes, landed, told = WriteLanes(off_loop=True), [], []
    # Without the lane the 0.01 s write would land long before the 0.3 s one.
    results = await asyncio.gather(
        lanes.run("job", slow(landed, "a", 0.3), told.append),
        lanes.run("job", slow(landed, "b", 0.01), told.append),
        lanes.run("job", slow(landed, "c", 0.0), told.append),
    )
    assert results == ["a", "b", "c"] and landed == ["a", "b", "c"] and told == ["a", "b", "c"]
    assert lanes.pending() == 0


async def test_different_keys_write_side_by_side_off_the_loop() -> None:
    lanes, landed = WriteLanes(off_loop=True), []
    threads: set[str] = set()

    def write(name: str) -> str:
        threads.add(threading.current_thread().name)
        time.sleep(0.3)
        landed.append(name)
        return name

    started = time.monotonic()
    await asyncio.gather(*(lanes.run(f"job-{n}", lambda n=n: write(str(n))) for n in range(4)))
    assert sorted(landed) == ["0", "1", "2", "3"]
    assert threading.main_thread().name not in threads  # never on the loop's thread
    assert time.monotonic() - started < 0.3 * 4 * 0.75  # not one after another


async def test_on_the_loop_a_write_runs_at_once_unless_its_key_is_still_landing() -> None:
    lanes, landed = WriteLanes(off_loop=False), []
    assert await lanes.run("job", slow(landed, "inline", 0.0)) == "inline"
    assert landed == ["inline"], "ran before the first await returned: no task, no hop"
    # A durable write (in a thread) is in flight: the next one of that job waits its turn.
    first = asyncio.ensure_future(lanes.run("job", slow(landed, "durable", 0.2), thread=True))
    await asyncio.sleep(0)
    second = await lanes.run("job", slow(landed, "after", 0.0))
    await first
    assert second == "after" and landed == ["inline", "durable", "after"]


async def test_a_write_lands_and_its_lane_moves_on_when_its_caller_is_cancelled() -> None:
    lanes, landed, told = WriteLanes(off_loop=True), [], []
    caller = asyncio.ensure_future(lanes.run("job", slow(landed, "a", 0.2), told.append))
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert await lanes.run("job", slow(landed, "b", 0.0), told.append) == "b"
    assert landed == ["a", "b"] and told == ["a", "b"]


async def test_a_failed_write_is_its_callers_and_the_lane_goes_on() -> None:
    lanes, landed = WriteLanes(off_loop=True), []

    def broken() -> None:
        raise KeyError("gone")

    failing = asyncio.ensure_future(lanes.run("job", broken))
    lanes.post("job", slow(landed, "posted", 0.0))
    with pytest.raises(KeyError):
        await failing
    await lanes.drain()
    assert landed == ["posted"] and lanes.pending() == 0
