"""Child processes of a benchmark: free ports, a clean child environment, waiting for a
first HTTP 200, stopping a child by its pid, a bench module launched on a free port, temp
dirs, a child that answers with one JSON line, and a module as an earlier commit had it
(git show). Every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
KEY_VARIABLES = ("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY", "WAVESPEED_API_KEY")


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


@contextlib.contextmanager
def launch_module(
    module: str, env: Mapping[str, str], *, runner: Sequence[str] = (), timeout: float = 120
) -> Iterator[tuple[str, int]]:
    """`python [runner...] -m module` from the repo on a free port (GRADIO_SERVER_PORT, with `env`
    on top of child_env), its output discarded; yields (URL, pid) once GET / answers 200, and
    stops it (SIGTERM, by pid) when the block ends. `runner`, e.g. ("-m", "bench.hop_counter"),
    wraps the module in another one."""
    port = free_port()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [sys.executable, *runner, "-m", module],
            cwd=REPO,
            env=child_env({**env, "GRADIO_SERVER_PORT": str(port)}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_http_200(url, timeout, process)
            yield url, process.pid
        finally:
            stop_process(process)


@contextlib.contextmanager
def temp_dir(prefix: str = "bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


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


def module_at(commit: str, path: str, name: str) -> types.ModuleType | None:
    """The source of `path` at `commit`, run as a module called `name` (registered, so
    dataclasses and annotations resolve by it): the "before" side of a before/after figure.
    None outside a git clone."""
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=False, cwd=REPO
    ).stdout
    if not source:
        return None
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"{path}@{commit}", "exec"), module.__dict__)
    return module
