"""/text_to_video through gradio_client, as an API user calls it: one call, or one per
client started at the same instant."""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
