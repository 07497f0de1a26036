"""What the fake remembers, shared by both provider APIs, and the request/response types."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.faults import FaultBook
from tests.fakes.jobs import FakeJob, iso, new_id, parse_outcome, prompt_markers


@dataclass
class RecordedRequest:
    """One request as the fake received it. `op` names the API operation."""

    provider: str  # "runcomfy" | "wavespeed" | "files" | "control"
    op: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: object | None
    body: bytes
    at: float
    client_port: int = 0  # the client's TCP port: equal ports mean a reused keep-alive connection

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class Reply:
    """An HTTP answer: a body in memory, or a file streamed from disk (Range-aware)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    file: Path | None = None


def json_reply(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return Reply(status=status, body=body, headers=dict(headers or {}))


@dataclass
class Call:
    """A request being handled: the record plus the path's regex groups."""

    record: RecordedRequest
    params: dict[str, str]

    @property
    def bearer(self) -> str | None:
        value = self.record.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True)
class Route:
    """One endpoint: `pattern` is matched in full against the path."""

    method: str
    pattern: re.Pattern[str]
    provider: str
    op: str
    handler: Callable[[FakeState, Call], Reply]


def route(
    method: str, pattern: str, provider: str, op: str, handler: Callable[[FakeState, Call], Reply]
) -> Route:
    return Route(method, re.compile(pattern), provider, op, handler)


@dataclass(frozen=True)
class Timing:
    queue_seconds: float
    run_seconds: float
    queue_length: int


class FakeState:
    """Jobs, files, uploads, keys and scripted outcomes; every method is thread-safe."""

    def __init__(self, timing: Timing, output_video: Path, keys: dict[str, set[str]]) -> None:
        self.lock = threading.RLock()
        self.base_url = ""
        self.timing = timing
        self.initial_timing = timing
        self.output_video = output_video
        self.keys = keys
        self.jobs: dict[str, FakeJob] = {}
        self.files: dict[str, Path] = {}  # path under /files/ -> file on disk
        self.tickets: dict[str, tuple[str, int]] = {}  # PUT token -> (files path, declared size)
        self.outcomes: deque[str] = deque()
        self.expired = False
        self.stopping = threading.Event()
        self.upload_dir: Path | None = None
        self.faults = FaultBook()
        self.requests: list[RecordedRequest] = []
        self.money: object | None = None  # tests.fakes.money_api.MoneyConfig, made on first use
        # How far the providers' clock is ahead of ours: their stated times carry it (a real
        # provider's clock is another machine's; only durations on it may be trusted).
        self.clock_skew = 0.0

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def reset(self) -> None:
        """Forget jobs, files, uploads, requests, faults and scripted outcomes; restore
        the timing the fake was started with."""
        with self.lock:
            self.jobs.clear()
            self.files.clear()
            self.tickets.clear()
            self.outcomes.clear()
            self.requests.clear()
            self.faults.clear()
            self.expired = False
            self.timing = self.initial_timing
            self.money = None
            self.clock_skew = 0.0

    def stated(self, ts: float | None) -> str | None:
        """Our time `ts` as the provider's clock writes it (ISO, ms, Z; skewed)."""
        return None if ts is None else iso(ts + self.clock_skew)

    # --- jobs -------------------------------------------------------------------------

    def create_job(
        self, provider: str, model: str, payload: dict, key: str, forced_outcome: str | None = None
    ) -> FakeJob:
        """A new job; its outcome comes from `forced_outcome`, else a prompt marker, else
        the queue filled by next_outcome(), else success."""
        marker_outcome, marker_seconds = prompt_markers(payload.get("prompt"))
        with self.lock:
            scripted, scripted_seconds = (None, None)
            if self.outcomes:
                scripted, scripted_seconds = parse_outcome(self.outcomes.popleft())
            job_id = new_id(provider)
            run_seconds = next(
                (s for s in (marker_seconds, scripted_seconds) if s is not None), self.timing.run_seconds
            )
            job = FakeJob(
                id=job_id,
                provider=provider,
                model=model,
                payload=payload,
                key=key,
                queue_seconds=self.timing.queue_seconds,
                run_seconds=run_seconds,
                queue_length=self.timing.queue_length,
                outcome=forced_outcome or marker_outcome or scripted or "success",
                created_at=time.time(),
            )
            job.output_url = f"{self.base_url}/files/out/{job_id}.mp4"
            self.jobs[job_id] = job
            return job

    def job(self, job_id: str) -> FakeJob | None:
        with self.lock:
            return self.jobs.get(job_id)

    # --- files ------------------------------------------------------------------------

    @staticmethod
    def file_slot(name: str, folder: str) -> str:
        """A fresh, unguessable path under /files/ for a file called `name`."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "file"
        return f"{folder}/{secrets.token_hex(8)}/{safe}"

    def url_for(self, rel: str) -> str:
        return f"{self.base_url}/files/{rel}"

    def add_file(self, path: Path, name: str | None = None, folder: str = "served") -> str:
        """Serve `path` under /files/<folder>/<token>/<name>; returns the absolute URL."""
        rel = self.file_slot(name or path.name, folder)
        with self.lock:
            self.files[rel] = path
        return self.url_for(rel)

    def resolve_file(self, rel: str) -> Path | None:
        """The file behind /files/<rel>, or None for 404 (unknown, unfinished or expired)."""
        match = re.fullmatch(r"out/([^/]+)\.mp4", rel)
        with self.lock:
            if match:
                job = self.jobs.get(match.group(1))
                if job is None or self.expired or job.outcome == "expired" or job.phase() != "succeeded":
                    return None
                return self.output_video
            return self.files.get(rel)

    def serves_url(self, url: str) -> bool:
        """Whether `url` points at a file this fake serves right now (the 'fetchable' test)."""
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or parts.netloc != base.netloc:
            return False
        if not parts.path.startswith("/files/"):
            return False
        return self.resolve_file(parts.path[len("/files/") :]) is not None

    def owner_of_output(self, rel: str) -> str | None:
        match = re.fullmatch(r"out/([^/]+)\.mp4", rel)
        if not match:
            return None
        job = self.job(match.group(1))
        return job.provider if job else None

    def snapshot_jobs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [job.to_dict() for job in self.jobs.values()]
