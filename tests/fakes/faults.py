"""Fault injection: what the next matching requests should suffer instead of a normal answer.

A fault matches a request by operation (`submit`, `status`, `result`, `cancel`, `upload`,
`upload_put`, `download`, ... or `*`) and optionally by provider, and is used up after
`times` hits. Control requests are never faulted, so a test can always reset the fake.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

FAULT_KINDS = frozenset(
    {
        "status",
        "slow",
        "hang",
        "reset",
        "malformed_json",
        "error_in_200",
        "reset_after_submit",
        "slow_after_submit",
    }
)
# Kinds that let the request run normally first (the job IS created).
AFTER_KINDS = frozenset({"reset_after_submit", "slow_after_submit"})

_RUNCOMFY_CODES = {
    400: (400001, "Invalid request"),
    401: (400004, "Invalid or missing API token"),
    402: (400002, "Insufficient balance"),
    403: (403001, "Permission denied"),
    404: (404001, "Resource not found"),
    422: (422001, "Validation Error"),
    429: (429001, "Too Many Requests"),
    500: (500001, "Internal Server Error"),
    502: (500001, "Bad Gateway"),
    503: (500001, "Service Unavailable"),
    504: (500001, "Gateway Timeout"),
}
_WAVESPEED_MESSAGES = {
    400: "bad request",
    401: "invalid authentication",
    402: "insufficient balance",
    403: "forbidden",
    404: "not found",
    429: "too many requests, please try again later",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


@dataclass
class Fault:
    op: str
    kind: str
    provider: str | None = None
    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    body: object | None = None
    after_bytes: int | None = None
    hits: int = 0

    def matches(self, op_aliases: tuple[str, ...], scopes: tuple[str, ...]) -> bool:
        if self.op != "*" and self.op not in op_aliases:
            return False
        return self.provider is None or self.provider in scopes


class FaultBook:
    """The armed faults, thread-safe; `take` consumes one hit of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {sorted(FAULT_KINDS)}")
        if fault.kind == "status" and fault.status is None:
            raise ValueError("a 'status' fault needs status=<HTTP code>")
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, op_aliases: tuple[str, ...], scopes: tuple[str, ...]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(op_aliases, scopes):
                    fault.hits += 1
                    if fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def error_body(provider: str, status: int, message: str | None = None) -> dict[str, object]:
    """An HTTP error body in the provider's own shape."""
    if provider == "wavespeed":
        return {"code": status, "message": message or _WAVESPEED_MESSAGES.get(status, "error"), "data": None}
    code, default = _RUNCOMFY_CODES.get(status, (status * 1000 + 1, "Error"))
    return {"error_code": code, "error_message": message or default}


def error_in_200_body(provider: str, status: int | None) -> dict[str, object]:
    """An error dressed as success: HTTP 200 whose body says it failed."""
    if provider == "wavespeed":
        code = status or 500
        return {"code": code, "message": _WAVESPEED_MESSAGES.get(code, "internal server error"), "data": None}
    code, message = _RUNCOMFY_CODES.get(status or 500, (500001, "Internal Server Error"))
    return {"error_code": code, "error_message": message}


def malformed_json(provider: str) -> bytes:
    """A JSON body cut off halfway, like a proxy that dropped the connection mid-write."""
    text = json.dumps({"request_id": "truncated", "status": "in_progress", "queue_position": 1})
    if provider == "wavespeed":
        text = json.dumps(
            {"code": 200, "message": "success", "data": {"id": "truncated", "status": "processing"}}
        )
    return text[: len(text) // 2].encode()
