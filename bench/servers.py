"""The fake providers (`python -m bench.fake_server`) and the studio (`python app.py`) as
children of a benchmark, on free ports, stopped by their pids when the block ends."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.processes import REPO, child_env, free_port, stop_process, wait_http_200

RC_KEY = "rc-test-key"
WS_KEY = "ws-test-key"


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
