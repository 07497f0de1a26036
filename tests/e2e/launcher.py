"""Start `python app.py` as a user would, on a free port with its own data folder.

Used by the browser tests and the API tests. Provider keys are blanked in the child's
environment (an empty variable also stops a developer's .env from filling it in), so the
simulator is the default unless a test passes a key on purpose.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
KEY_VARIABLES = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "WAVESPEED_API_KEY")


@dataclass(frozen=True)
class RunningApp:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def on_fake(base_url: str, *providers: str) -> dict[str, str]:
    """The environment that sends `providers` ("runcomfy", "wavespeed") to the local fake
    at `base_url`, each with the key the fake accepts."""
    from tests.fakes import FakeProviders

    env: dict[str, str] = {}
    if "runcomfy" in providers:
        env |= {"RUNCOMFY_BASE_URL": base_url, "RUNCOMFY_API_TOKEN": FakeProviders.RUNCOMFY_KEY}
    if "wavespeed" in providers:
        env |= {"WAVESPEED_BASE_URL": base_url, "WAVESPEED_API_KEY": FakeProviders.WAVESPEED_KEY}
    return env


def _wait_until_up(app: RunningApp, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app.py exited with {app.process.returncode}:\n{app.log()[-4000:]}")
        try:
            if httpx.get(app.url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"app.py did not answer within {timeout:.0f} s:\n{app.log()[-4000:]}")


@contextmanager
def launch_app(
    workdir: Path, env: Mapping[str, str] | None = None, timeout: float = 90
) -> Iterator[RunningApp]:
    """Run app.py until the block ends. `env` adds or overrides environment variables."""
    port = free_port()
    data_dir = workdir / "data"
    log_path = workdir / "app.log"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "GRADIO_"))}
    child_env.update({name: "" for name in KEY_VARIABLES})
    child_env.update(
        {
            "STUDIO_DATA_DIR": str(data_dir),
            "STUDIO_SIM_QUEUE_SECONDS": "1",
            "STUDIO_SIM_RUN_SECONDS": "2",
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    child_env.update(env or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO, env=child_env, stdout=log, stderr=subprocess.STDOUT
        )
    app = RunningApp(f"http://127.0.0.1:{port}/", data_dir, log_path, process)
    try:
        _wait_until_up(app, timeout)
        yield app
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
