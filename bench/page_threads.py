"""Per-thread CPU of a running app, and which of its threads are event loops (bench/page.py
charges a page to the loops, not to the worker threads that do Gradio's copying)."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

from bench.proc_stats import CLK_TCK

IDLE_LOOKS = 30  # looks at the threads' wait channels, 0.25 s apart, to see every loop waiting


def thread_times(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of `pid`, by thread id (/proc)."""
    found: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


def _waiting_in_epoll(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if (task / "wchan").read_text().strip() == "do_epoll_wait":
                found.add(int(task.name))
    return found


def loop_threads(pid: int, looks: int = IDLE_LOOKS) -> dict[int, str]:
    """The app's event-loop threads, by thread id: those seen blocked in epoll_wait in any of
    `looks` looks while the app is idle (/proc/<pid>/task/<tid>/wchan; a loop that polls often,
    as Gradio's queue does, is caught waiting only some of the time), named from `py-spy dump`
    where it is installed (Gradio's server loop runs in uvicorn's thread, the studio's engine
    loop in "studio-engine")."""
    seen: set[int] = set()
    for look in range(looks):
        seen |= _waiting_in_epoll(pid)
        if look < looks - 1:
            time.sleep(0.25)
    found = {tid: f"event loop (thread {tid})" for tid in sorted(seen)}
    if found and shutil.which("py-spy"):
        dump = subprocess.run(
            ["py-spy", "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60
        )
        for match in re.finditer(r'^Thread (\d+) \(\w+\): "([^"]*)"', dump.stdout, re.MULTILINE):
            tid, name = int(match.group(1)), match.group(2)
            if tid in found:
                found[tid] = "engine loop" if name == "studio-engine" else f"Gradio's loop ({name})"
    return found


def loops_cpu(pid: int, loops: dict[int, str]) -> float:
    """The summed CPU seconds so far of the threads in `loops`."""
    now = thread_times(pid)
    return sum(now.get(tid, 0.0) for tid in loops)
