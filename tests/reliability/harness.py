"""The reliability tests' processes: the fake providers and `python app.py`, each in its own
process, started, stopped, killed with SIGKILL and restarted by the test; a client for the
fake's /__fake__/ control API; and gradio_client helpers for the studio's named endpoints.
What the tests read back afterwards is in tests/reliability/readback.py; the app's memory is
read with bench/proc_stats.py (RssSampler, rss_bytes), as the benchmarks read it.

Every wait here is bounded: a process that does not come up, or a job that does not finish,
fails the test with the process's log instead of hanging it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
MODELS = {
    "rc_t2v": "runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
    "rc_i2v": "runcomfy/bytedance/dreamina-3-0/pro/image-to-video",
    "ws_t2v": "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
    "ws_i2v": "wavespeed/bytedance/dreamina-v3.0/image-to-video-720p",
    "sim_t2v": "simulator/dreamina-3-0/text-to-video",
}
# Everything app.py reads that a developer's shell or .env could set: the child gets each
# one explicitly (an empty value also stops load_dotenv from filling it in).
STUDIO_VARIABLES = (
    "RUNCOMFY_API_TOKEN",
    "RUNCOMFY_API_KEY",
    "WAVESPEED_API_KEY",
    "STUDIO_AUTH",
    "STUDIO_ALLOWED_USERS",
    "STUDIO_PUBLIC",
    "SPACE_ID",
    "STUDIO_MAX_JOBS_PER_HOUR",
    "STUDIO_MAX_DATA_MB",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(
    check: Callable[[], Any], timeout: float, what: str, on_timeout: Callable[[], str] = lambda: ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s. {on_timeout()}")


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` every 0.1 s until it returns something truthy; fail after `timeout`."""
    return _wait_for(check, timeout, what)


# --- the fake providers --------------------------------------------------------------


@dataclass
class FakeProcess:
    """The fake providers as their own process, steered through /__fake__/ (control.py)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def _post(self, path: str, body: object) -> Any:
        response = httpx.post(f"{self.url}/__fake__/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def config(self, **timing: float) -> dict[str, Any]:
        """queue_seconds, run_seconds, queue_length for jobs created from now on."""
        return self._post("config", timing)

    def fault(self, op: str, kind: str, **options: Any) -> None:
        self._post("faults", {"op": op, "kind": kind, **options})

    def outcome(self, outcome: str) -> None:
        self._post("outcome", {"outcome": outcome})

    def expire(self) -> None:
        self._post("expire", {})

    def reset(self) -> None:
        self._post("reset", {})

    def requests(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/__fake__/requests", timeout=30)
        response.raise_for_status()
        return [r for r in response.json() if r["provider"] != "control"]

    def submits(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["op"] == "submit"]

    def jobs(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/__fake__/jobs", timeout=10)
        response.raise_for_status()
        return list(response.json())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def fake_process(
    workdir: Path,
    *,
    queue_seconds: float = 0.3,
    run_seconds: float = 0.6,
    queue_length: int = 2,
    runcomfy_key: str | None = None,
    wavespeed_key: str | None = None,
    runcomfy_other_key: str | None = None,
    output_video: Path | None = None,
) -> Iterator[FakeProcess]:
    """`python -m tests.fakes` in its own process; with chosen keys or output video,
    tests/reliability/fake_process.py (the same fake, other keys)."""
    workdir.mkdir(parents=True, exist_ok=True)
    timing = ["--queue-seconds", str(queue_seconds), "--run-seconds", str(run_seconds)]
    timing += ["--queue-length", str(queue_length)]
    custom = {
        "--runcomfy-key": runcomfy_key,
        "--wavespeed-key": wavespeed_key,
        "--runcomfy-other-key": runcomfy_other_key,
        "--output-video": str(output_video) if output_video else None,
    }
    if any(custom.values()):
        module = "tests.reliability.fake_process"
        timing += [part for name, value in custom.items() if value for part in (name, value)]
    else:
        module = "tests.fakes"
    log_path = workdir / "fake.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0", *timing],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def started() -> str | None:
        if process.poll() is not None:
            raise RuntimeError(f"the fake exited with {process.returncode}: {log_path.read_text()}")
        match = re.search(r"Fake providers at (http://\S+)", log_path.read_text(errors="replace"))
        return match.group(1) if match else None

    fake = FakeProcess("", process, log_path)
    try:
        fake.url = _wait_for(started, 60, "the fake providers starting", lambda: log_path.read_text())
        yield fake
    finally:
        fake.stop()


def noisy_video(path: Path, width: int = 320, height: int = 240, frames: int = 24) -> Path:
    """An H.264 yuv420p MP4 of random noise: it does not compress, so a few hundred KB."""
    import av
    import numpy as np

    rng = np.random.default_rng(7)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, 24)
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for _ in range(frames):
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


# --- the studio ----------------------------------------------------------------------


@dataclass
class AppProcess:
    """`python app.py` with its own data folder, Gradio cache and temp folder (TMPDIR), so
    that every file it writes can be found afterwards. stdout and stderr go to two logs."""

    workdir: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["STUDIO_DATA_DIR"])

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["GRADIO_TEMP_DIR"])

    @property
    def temp_dir(self) -> Path:
        return Path(self.env["TMPDIR"])

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in self.logs if p.exists())

    def start(self, timeout: float = 90) -> AppProcess:
        """Start (or start again, on a fresh port, with the same data folder)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        self.port = free_port()
        env = {**self.env, "GRADIO_SERVER_PORT": str(self.port)}
        out = self.workdir / f"app-{self.starts}.stdout.log"
        err = self.workdir / f"app-{self.starts}.stderr.log"
        self.logs += [out, err]
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=REPO, env=env, stdout=stdout, stderr=stderr
            )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                return httpx.get(self.url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(up, timeout, "app.py answering", lambda: self.log()[-4000:])
        return self

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def client(self, auth: tuple[str, str] | None = None, download_dir: Path | None = None) -> Any:
        return studio_client(self.url, auth=auth, download_dir=download_dir)


def app_env(
    workdir: Path,
    *,
    fake_url: str = "http://127.0.0.1:9",
    runcomfy_key: str = "",
    wavespeed_key: str = "",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "GRADIO_"))}
    env.update({name: "" for name in STUDIO_VARIABLES})
    for folder in ("data", "gradio-cache", "tmp"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "STUDIO_DATA_DIR": str(workdir / "data"),
            "GRADIO_TEMP_DIR": str(workdir / "gradio-cache"),
            "TMPDIR": str(workdir / "tmp"),
            "RUNCOMFY_BASE_URL": fake_url,
            "WAVESPEED_BASE_URL": fake_url,
            "RUNCOMFY_API_TOKEN": runcomfy_key,
            "WAVESPEED_API_KEY": wavespeed_key,
            "STUDIO_SIM_QUEUE_SECONDS": "0.3",
            "STUDIO_SIM_RUN_SECONDS": "0.6",
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def running_app(workdir: Path, env: dict[str, str], timeout: float = 90) -> Iterator[AppProcess]:
    app = AppProcess(workdir, env)
    try:
        app.start(timeout)
        yield app
    finally:
        app.stop()


# --- gradio_client -------------------------------------------------------------------


def studio_client(url: str, auth: tuple[str, str] | None = None, download_dir: Path | None = None) -> Any:
    from gradio_client import Client

    return Client(
        url,
        auth=auth,
        verbose=False,
        analytics_enabled=False,
        download_files=str(download_dir) if download_dir else False,
    )


def endpoint(kind: str) -> str:
    return "/text_to_video" if kind == "t2v" else "/image_to_video"


def refusal(client: Any, api_name: str, **params: Any) -> str:
    """The message of the error the endpoint raises; fails if the call succeeds."""
    from gradio_client.exceptions import AppError

    try:
        result = client.predict(api_name=api_name, **params)
    except AppError as error:
        return str(error)
    raise AssertionError(f"{api_name} accepted {params!r}: {result!r}")


def call_api(url: str, name: str, *data: Any, session: httpx.Client | None = None) -> Any:
    """One call of a named endpoint over Gradio's plain HTTP API (POST, then read the result),
    outside gradio_client and its shared per-session event stream. Positional `data`."""
    http = session or httpx.Client(timeout=60)
    try:
        posted = http.post(f"{url}gradio_api/call/{name}", json={"data": list(data)})
        posted.raise_for_status()
        answer = http.get(f"{url}gradio_api/call/{name}/{posted.json()['event_id']}")
        answer.raise_for_status()
    finally:
        if session is None:
            http.close()
    event = re.search(r"event: (\w+)\ndata: (.*)", answer.text)
    assert event, answer.text
    payload = json.loads(event.group(2))
    if event.group(1) != "complete":
        raise AssertionError(f"/{name} answered {event.group(1)}: {payload}")
    return payload[0] if len(payload) == 1 else payload


def history_total(url: str, state: str = "") -> int:
    """How many jobs /history holds for a local (no sign-in) studio, read over plain HTTP."""
    return int(call_api(url, "history", "", 1, "", "", state, "")["total"])
