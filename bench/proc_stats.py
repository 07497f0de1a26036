"""CPU time and RSS of a child process, read from /proc (Linux).

The benchmarks and the reliability tests (tests/reliability/) both measure the app this way,
so the readers and the one RSS sampler live here: bench has no dependency on tests or on the
app, and a test that imports these imports nothing else of bench.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def proc_times(pid: int) -> float:
    """User + system CPU seconds of `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" the fields start at index 3 (state); utime is 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_tree_times(pid: int) -> float:
    """CPU seconds of `pid` and its live children (e.g. an app that spawns workers)."""
    total = proc_times(pid)
    for child in children(pid):
        with contextlib.suppress(OSError, IndexError):
            total += proc_times(child)
    return total


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of a process. OSError once the process is gone."""
    return _status_kb(pid, "VmRSS") * 1024


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def hwm_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def _status_kb(pid: int | str, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_percent(pid: int, seconds: float, step: float = 1.0) -> tuple[float, list[float]]:
    """Average CPU use of `pid` (percent of one core) over `seconds`, and per-step values."""
    samples: list[float] = []
    start_wall, start_cpu = time.monotonic(), proc_tree_times(pid)
    last_wall, last_cpu = start_wall, start_cpu
    end = start_wall + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        time.sleep(min(step, end - now))
        wall, cpu = time.monotonic(), proc_tree_times(pid)
        samples.append(100 * (cpu - last_cpu) / max(wall - last_wall, 1e-9))
        last_wall, last_cpu = wall, cpu
    return 100 * (last_cpu - start_cpu) / max(last_wall - start_wall, 1e-9), samples


class RssSampler:
    """Samples a process's RSS on a daemon thread until stopped: `samples` holds
    (time.monotonic(), bytes) pairs, `peak_mb` the highest. Stops when the process is gone."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    @property
    def peak_mb(self) -> float:
        return max((value for _, value in self.samples), default=0) / (1024 * 1024)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), rss_bytes(self.pid)))
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
