"""A browser's share of a generation, over raw HTTP/SSE: POST `queue/join`, read
`queue/data` (server-sent events) until the call completes, GET the output file.

This is what the page does, without gradio_client's per-call clients (each httpx client
loads the CA bundle, tens of ms of CPU), so a crowd of these measures the server, not the
driver. Each user has its own session hash and its own connection pool, made before the
clock starts. Used by bench/crowd.py against the studio and the floor app alike.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Endpoint:
    """One named endpoint as the page sees it: its fn_index, trigger and input labels."""

    url: str  # the app's root, ending in "/"
    fn_index: int
    trigger_id: int | None
    input_labels: tuple[str, ...]

    @classmethod
    def discover(cls, url: str, api_name: str) -> Endpoint:
        """Read /config the way the page does and find `api_name`'s dependency."""
        config = httpx.get(f"{url}config", timeout=30).json()
        labels = {c["id"]: (c.get("props") or {}).get("label") for c in config["components"]}
        for dep in config["dependencies"]:
            if dep.get("api_name") == api_name:
                targets = dep.get("targets") or []
                return cls(
                    url,
                    int(dep["id"]),
                    int(targets[0][0]) if targets else None,
                    tuple(str(labels.get(i)) for i in dep["inputs"]),
                )
        raise LookupError(f"no endpoint {api_name!r} in {url}config")

    def data(self, values: dict[str, Any]) -> list[Any]:
        return [values.get(label) for label in self.input_labels]


@dataclass
class Call:
    """One call's timeline (time.time(), so it compares with the job record's times)."""

    started: float
    finished: float = 0.0  # the output file fully read
    completed: float = 0.0  # process_completed arrived
    job: dict[str, Any] = field(default_factory=dict)
    file_bytes: int = 0
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.finished - self.started


# uvicorn (both apps' server) closes a connection idle for 5 s, and httpx keeps one up to 5 s:
# a connection reused at about 5 s could be closed by the server as the request went out (a
# ReadError; 4 of a run's calls, 2026-12-04, when a round of the other app lasted 4.8-5 s).
# A client lets go of idle connections before the server does.
KEEPALIVE_SECONDS = 4.0


def new_client() -> httpx.AsyncClient:
    # verify=False: plain HTTP to 127.0.0.1; no CA bundle to load per client.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(120.0, connect=30.0),
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
        verify=False,
    )


async def call(client: httpx.AsyncClient, endpoint: Endpoint, values: dict[str, Any]) -> Call:
    """One generation: join, follow the event stream, fetch the file the answer names."""
    session = uuid.uuid4().hex[:11]
    result = Call(started=time.time())
    try:
        joined = await client.post(
            f"{endpoint.url}gradio_api/queue/join",
            json={
                "data": endpoint.data(values),
                "event_data": None,
                "fn_index": endpoint.fn_index,
                "trigger_id": endpoint.trigger_id,
                "session_hash": session,
            },
        )
        joined.raise_for_status()
        output: list[Any] | None = None
        async with client.stream(
            "GET", f"{endpoint.url}gradio_api/queue/data", params={"session_hash": session}
        ) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                if kind == "process_completed":
                    result.completed = time.time()
                    if not message.get("success", True) or "error" in message["output"]:
                        raise RuntimeError(str(message["output"].get("error"))[:200])
                    # A generator's last message carries its last values in full (the
                    # process_generating ones before it are diffs, not needed here).
                    output = message["output"].get("data")
                    break
                elif kind in ("unexpected_error", "close_stream") and result.completed == 0:
                    raise RuntimeError(f"{kind}: {message.get('message')}")
        if not output:
            raise RuntimeError("no output")
        video, job = output[0], output[1]
        result.job = job if isinstance(job, dict) else {}
        if not isinstance(video, dict) or not video.get("url"):
            raise RuntimeError(f"no file in {str(video)[:120]}")
        async with client.stream("GET", video["url"]) as got:
            got.raise_for_status()
            async for chunk in got.aiter_bytes(1 << 20):
                result.file_bytes += len(chunk)
        result.finished = time.time()
    except Exception as exc:  # counted, not raised: a benchmark reports failures
        result.finished = time.time()
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    return result


async def crowd(
    clients: list[httpx.AsyncClient], endpoint: Endpoint, values: list[dict[str, Any]]
) -> tuple[float, list[Call]]:
    """All users at once; returns (wall from the start to the last file, the calls)."""
    start = time.time()
    calls = await asyncio.gather(*(call(c, endpoint, v) for c, v in zip(clients, values, strict=True)))
    return max(c.finished for c in calls) - start, list(calls)
