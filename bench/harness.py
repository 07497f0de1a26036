"""Shared benchmark plumbing: free ports, the fake providers and the app as subprocesses,
RSS/CPU sampling through /proc, percentiles, and the Figure every benchmark returns.

Benchmarks here measure ratios side by side in one run (a shared 2-core machine is noisy):
baseline and candidate are interleaved and repeated, and the medians are compared.
Nothing here talks to anything but 127.0.0.1, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
KEY_VARIABLES = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "WAVESPEED_API_KEY")
RC_KEY = "rc-test-key"
WS_KEY = "ws-test-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- results ------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured figure: its value against a target, with the raw numbers behind it."""

    bench: str  # module name, e.g. "concurrency"
    name: str  # what is measured, in words
    value: float
    unit: str  # "x", "s", "MB", "%", ...
    target: str  # e.g. "<= 1.25x"
    passed: bool
    raw: str  # the raw numbers, short
    command: str = ""
    when: str = ""

    def value_text(self) -> str:
        if self.unit == "x":
            return f"{self.value:.3f}x"
        if self.unit == "%":
            return f"{self.value:.2f}%"
        if self.unit in ("MB", "s"):
            return (
                f"{self.value:.3g} {self.unit}" if abs(self.value) < 100 else f"{self.value:.0f} {self.unit}"
            )
        return f"{self.value:g} {self.unit}".strip()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchResult:
    figures: list[Figure]
    how: str  # "how measured", a short paragraph
    notes: list[str] = field(default_factory=list)  # profiles, before/after, offenders


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100), as numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmt_list(values: Sequence[float], digits: int = 3) -> str:
    return "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- ports and processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an app child: no provider keys, no stray STUDIO_/GRADIO_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "GRADIO_"))}
    env.update({name: "" for name in KEY_VARIABLES})
    env.update(
        {
            "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(extra or {})
    return env


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """End a child we started, by its own pid: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_http_200(
    url: str, timeout: float, process: subprocess.Popen[Any] | None = None, interval: float = 0.05
) -> float:
    """Poll `url` until it answers 200; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
            try:
                if client.get(url).status_code == 200:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            time.sleep(interval)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


@dataclass
class Fake:
    """The fake providers in a subprocess (`python -m bench.fake_server`)."""

    url: str
    process: subprocess.Popen[bytes]

    def control(self, method: str, op: str, payload: object | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/__fake__/{op}", json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def set_timing(self, queue_seconds: float, run_seconds: float, queue_length: int = 3) -> None:
        self.control(
            "POST",
            "config",
            {"queue_seconds": queue_seconds, "run_seconds": run_seconds, "queue_length": queue_length},
        )

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests")

    def jobs(self) -> list[dict[str, Any]]:
        return self.control("GET", "jobs")

    def reset(self) -> None:
        self.control("POST", "reset")

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def fake_providers(
    queue_seconds: float = 1.0,
    run_seconds: float = 3.0,
    *,
    output_video: Path | None = None,
    serve: Sequence[Path] = (),
    queue_length: int = 3,
) -> Iterator[tuple[Fake, list[str]]]:
    """Start the fake in its own process on a free port; yields (fake, served file URLs)."""
    args = [
        sys.executable,
        "-m",
        "bench.fake_server",
        "--queue-seconds",
        str(queue_seconds),
        "--run-seconds",
        str(run_seconds),
        "--queue-length",
        str(queue_length),
    ]
    if output_video is not None:
        args += ["--output-video", str(output_video)]
    for path in serve:
        args += ["--serve", str(path)]
    process = subprocess.Popen(
        args, cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        info: dict[str, Any] | None = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(b"READY "):
                info = json.loads(line[6:])
                break
        if info is None:
            raise RuntimeError("the fake providers did not start")
        # Keep draining its output so it never blocks on a full pipe.
        threading.Thread(
            target=lambda: process.stdout.read() if process.stdout else None, daemon=True
        ).start()
        yield Fake(info["url"], process), list(info["served"])
    finally:
        stop_process(process)


@dataclass
class App:
    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float  # monotonic: when Popen returned
    ready_at: float  # monotonic: first HTTP 200

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def launch_app(
    data_dir: Path,
    *,
    fake: Fake | None = None,
    env: Mapping[str, str] | None = None,
    argv: Sequence[str] = ("app.py",),
    timeout: float = 120,
    repo: Path = REPO,
) -> Iterator[App]:
    """Run `python app.py` (or `argv`) on a free port; with `fake`, the provider keys and base
    URLs point at it; `repo` is the checkout it runs from (another one: a before/after run).
    Stopped (SIGTERM, by pid) when the block ends."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    extra = {
        "STUDIO_DATA_DIR": str(data_dir),
        "GRADIO_SERVER_PORT": str(port),
        "STUDIO_SIM_QUEUE_SECONDS": "1",
        "STUDIO_SIM_RUN_SECONDS": "2",
    }
    if fake is not None:
        extra.update(
            {
                "RUNCOMFY_API_TOKEN": RC_KEY,
                "WAVESPEED_API_KEY": WS_KEY,
                "RUNCOMFY_BASE_URL": fake.url,
                "WAVESPEED_BASE_URL": fake.url,
            }
        )
    extra.update(env or {})
    log_path = data_dir.parent / f"app-{port}.log"
    with open(log_path, "wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=repo,
            env={**child_env(extra), "PYTHONPATH": str(repo)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            ready = wait_http_200(url, timeout, process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None
        yield App(url, port, data_dir, process, log_path, started, ready)
    finally:
        stop_process(process)


@contextlib.contextmanager
def temp_dir(prefix: str = "bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- /proc sampling -------------------------------------------------------------------------


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
    """Samples a process's RSS on a thread; `.peak` is the highest seen (MB)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                value = rss_mb(self.pid)
                self.samples.append(value)
                self.peak = max(self.peak, value)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def run_json(args: Sequence[str], timeout: float = 600, env: Mapping[str, str] | None = None) -> Any:
    """Run a child that prints one JSON line last; return it parsed."""
    completed = subprocess.run(
        list(args), cwd=REPO, env=child_env(env), capture_output=True, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stderr.decode(errors='replace')[-3000:]}"
        )
    lines = [line for line in completed.stdout.decode().splitlines() if line.strip()]
    return json.loads(lines[-1])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# --- gradio_client ------------------------------------------------------------------------------

T2V_MODELS = (
    "runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
    "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One CA-loaded SSL context for every gradio_client in the bench process, as an API user
    running many clients would share one (verification on)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def gradio_client(url: str, download_dir: Path) -> Any:
    """A gradio_client.Client for the app, saving result files under `download_dir`.

    gradio_client makes a new httpx client for each request (three per call) and passes its
    `ssl_verify` to each as httpx's `verify` (so `httpx_kwargs` cannot carry one: a second
    `verify`). With True each of them loads the CA bundle (~43 ms of CPU here, ~130 ms a
    call, on the same two cores as the app: the first measurement, 1.96x, was mostly that);
    given one shared context, verification stays on and nothing is loaded again."""
    from gradio_client import Client

    download_dir.mkdir(parents=True, exist_ok=True)
    return Client(
        url,
        verbose=False,
        download_files=str(download_dir),
        analytics_enabled=False,
        ssl_verify=shared_ssl_context(),  # type: ignore[arg-type]  # httpx's verify takes a context
    )


@dataclass
class Generation:
    started: float  # time.time() just before the call
    finished: float  # time.time() once the client holds the video file
    video: str | None
    job: dict[str, Any]
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.finished - self.started


def generate(client: Any, prompt: str, model: str) -> Generation:
    """One /text_to_video call, start to the video file on the client's disk."""
    started = time.time()
    try:
        video, job = client.predict(prompt=prompt, model=model, api_name="/text_to_video")
    except Exception as exc:  # reported, not raised: a benchmark counts failures
        return Generation(started, time.time(), None, {}, f"{type(exc).__name__}: {exc}")
    finished = time.time()
    if isinstance(video, dict):  # a FileData dict on some client versions
        video = video.get("path")
    if not video or not Path(video).is_file():
        return Generation(started, finished, None, job or {}, f"no video file: {video!r}")
    return Generation(started, finished, str(video), job)


def generate_many(
    clients: Sequence[Any], prompts: Sequence[str], models: Sequence[str]
) -> tuple[float, list[Generation]]:
    """Start one generation per client at the same instant (a barrier), each on its own
    thread; returns (wall seconds from the start to the last video, the generations)."""
    barrier = threading.Barrier(len(clients) + 1)
    results: list[Generation | None] = [None] * len(clients)

    def work(index: int) -> None:
        barrier.wait(timeout=60)
        results[index] = generate(clients[index], prompts[index], models[index])

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    start = time.time()
    for thread in threads:
        thread.join(timeout=600)
    done = [r for r in results if r is not None]
    end = max((r.finished for r in done), default=time.time())
    return end - start, done
