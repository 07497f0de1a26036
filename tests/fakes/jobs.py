"""Fake jobs: a time-based lifecycle from creation, and scripted outcomes.

A job is queued for `queue_seconds` (its queue position counts down from `queue_length`
to 1), runs for `run_seconds`, then ends as its outcome says. Timing is copied onto each
job when it is created; a test may change `job.queue_seconds` / `job.run_seconds` later.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

Phase = Literal["queued", "running", "succeeded", "failed", "cancelled"]
OUTCOMES = frozenset({"success", "moderation", "unreachable_input", "failed", "expired"})

_MARKER = re.compile(r"\[fake:(?P<name>[a-z_]+)(?:=(?P<value>[0-9.]+))?\]")

# Failure texts per outcome: (RunComfy error message, WaveSpeed task code, WaveSpeed error).
FAILURES: dict[str, tuple[str, int, str]] = {
    "moderation": (
        "The request was rejected by content moderation: the prompt or image may contain sensitive content.",
        1200,
        "Content moderation: the input was flagged as sensitive content.",
    ),
    "unreachable_input": (
        "Failed to download the input image from the provided URL.",
        1402,
        "Failed to download image from the provided URL.",
    ),
    "failed": (
        "Video generation failed on the inference server.",
        1403,
        "Task execution failed.",
    ),
}


def iso(ts: float | None) -> str | None:
    """WaveSpeed-style ISO time with milliseconds and a Z."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_outcome(text: str) -> tuple[str | None, float | None]:
    """(outcome, run seconds) from an outcome name like "moderation" or "slow=3"."""
    name, _, value = text.strip().partition("=")
    if name == "slow":
        try:
            return None, float(value)
        except ValueError as exc:
            raise ValueError(f"'slow' needs seconds, e.g. slow=3; got {text!r}") from exc
    if name not in OUTCOMES:
        raise ValueError(f"unknown outcome {text!r}; one of {sorted(OUTCOMES)} or slow=N")
    return name, None


def prompt_markers(prompt: object) -> tuple[str | None, float | None]:
    """Outcome and run time scripted inside a prompt: "[fake:moderation]", "[fake:slow=5]"."""
    outcome: str | None = None
    run_seconds: float | None = None
    if not isinstance(prompt, str):
        return None, None
    for match in _MARKER.finditer(prompt):
        text = match.group("name") + (f"={match.group('value')}" if match.group("value") else "")
        try:
            found, seconds = parse_outcome(text)
        except ValueError:
            continue
        outcome = found or outcome
        run_seconds = seconds if seconds is not None else run_seconds
    return outcome, run_seconds


def new_id(provider: str) -> str:
    # WaveSpeed ids are 32 hex chars; RunComfy's are UUID-like. Shape matters little,
    # but distinct shapes catch code that mixes the two up.
    if provider == "wavespeed":
        return secrets.token_hex(16)
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


@dataclass
class FakeJob:
    id: str
    provider: str
    model: str
    payload: dict
    key: str
    queue_seconds: float
    run_seconds: float
    queue_length: int
    outcome: str = "success"
    created_at: float = field(default_factory=time.time)
    cancelled: bool = False
    cancelled_at: float | None = None
    output_url: str | None = None  # set when created; served only once the job succeeds

    def phase(self, now: float | None = None) -> Phase:
        if self.cancelled:
            return "cancelled"
        elapsed = (time.time() if now is None else now) - self.created_at
        if elapsed < self.queue_seconds:
            return "queued"
        if elapsed < self.queue_seconds + self.run_seconds:
            return "running"
        return "succeeded" if self.outcome in ("success", "expired") else "failed"

    @property
    def state(self) -> Phase:
        return self.phase()

    def queue_position(self, now: float | None = None) -> int | None:
        if self.phase(now) != "queued":
            return None
        elapsed = (time.time() if now is None else now) - self.created_at
        length = max(self.queue_length, 1)
        step = self.queue_seconds / length
        return max(1, length - int(elapsed / step)) if step > 0 else 1

    @property
    def started_at(self) -> float:
        return self.created_at + self.queue_seconds

    @property
    def finished_at(self) -> float | None:
        if self.cancelled:
            return self.cancelled_at
        if self.phase() in ("succeeded", "failed"):
            return self.created_at + self.queue_seconds + self.run_seconds
        return None

    def cancel(self) -> bool:
        """Cancel if still queued (RunComfy's rule); True when it took effect."""
        if self.phase() != "queued":
            return False
        self.cancelled, self.cancelled_at = True, time.time()
        return True

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "payload": self.payload,
            "state": self.phase(),
            "queue_position": self.queue_position(),
            "outcome": self.outcome,
            "created_at": self.created_at,
            "cancelled": self.cancelled,
            "output_url": self.output_url,
            "queue_seconds": self.queue_seconds,
            "run_seconds": self.run_seconds,
        }
