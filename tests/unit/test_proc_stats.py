"""bench/proc_stats.py's RSS sampler, shared by the benchmarks and tests/reliability."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.proc_stats import RssSampler, rss_bytes


def test_the_sampler_records_timed_rss_samples_of_a_live_process() -> None:
    ballast = bytearray(64 * 1024 * 1024)  # 64 MB touched: the peak must see it
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])
    with RssSampler(os.getpid(), interval=0.01) as sampler:
        time.sleep(0.15)
    times = [t for t, _ in sampler.samples]
    assert len(times) >= 3 and times == sorted(times)
    assert all(value > 0 for _, value in sampler.samples)
    assert sampler.peak_mb >= 64 and sampler.peak_mb * 1024 * 1024 >= rss_bytes(os.getpid()) * 0.5
    del ballast


def test_the_sampler_stops_by_itself_when_the_process_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    sampler = RssSampler(child.pid, interval=0.01).__enter__()
    sampler._thread.join(timeout=2)
    assert not sampler._thread.is_alive() and sampler.samples == []
    sampler.__exit__()
