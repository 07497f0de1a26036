"""The control API under /__fake__/: script the fake from another process.

Browser and crash tests run the app as a subprocess; they steer the fake over HTTP with
the same operations FakeProviders offers in-process. Control requests are never faulted.
"""

from __future__ import annotations

import base64
from dataclasses import replace

from tests.fakes.faults import Fault
from tests.fakes.jobs import parse_outcome
from tests.fakes.state import Call, FakeState, RecordedRequest, Reply, Route, json_reply, route

PROVIDER = "control"
BODY_INLINE_LIMIT = 64 * 1024
FAULT_FIELDS = ("op", "kind", "provider", "times", "status", "retry_after", "delay", "body", "after_bytes")


def _bad(message: str) -> Reply:
    return json_reply({"error": message}, 400)


def request_to_dict(request: RecordedRequest) -> dict[str, object]:
    """A JSON-safe view of a recorded request; bodies over 64 KiB are left out."""
    item: dict[str, object] = {
        "provider": request.provider,
        "op": request.op,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "json": request.json,
        "at": request.at,
        "body_len": len(request.body),
        "client_port": request.client_port,
    }
    if len(request.body) <= BODY_INLINE_LIMIT:
        item["body_b64"] = base64.b64encode(request.body).decode("ascii")
    return item


def fault_from_dict(spec: object) -> Fault:
    if not isinstance(spec, dict) or "op" not in spec or "kind" not in spec:
        raise ValueError("each fault needs at least 'op' and 'kind'")
    unknown = set(spec) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    return Fault(**spec)


def config(state: FakeState, call: Call) -> Reply:
    body = call.record.json
    if not isinstance(body, dict):
        return _bad("send a JSON object: {queue_seconds, run_seconds, queue_length}")
    try:
        changes = {
            k: (int(v) if k == "queue_length" else float(v))
            for k, v in body.items()
            if k in ("queue_seconds", "run_seconds", "queue_length") and v is not None
        }
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    with state.lock:
        state.timing = replace(state.timing, **changes)
        timing = state.timing
    return json_reply(
        {
            "queue_seconds": timing.queue_seconds,
            "run_seconds": timing.run_seconds,
            "queue_length": timing.queue_length,
        }
    )


def faults(state: FakeState, call: Call) -> Reply:
    body = call.record.json
    specs = body if isinstance(body, list) else [body]
    try:
        parsed = [fault_from_dict(spec) for spec in specs]
        for fault in parsed:
            state.faults.add(fault)
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_reply({"armed": len(state.faults.pending())})


def outcome(state: FakeState, call: Call) -> Reply:
    body = call.record.json
    text = body.get("outcome") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _bad('send {"outcome": "moderation" | "unreachable_input" | "failed" | "expired" | "slow=N"}')
    try:
        parse_outcome(text)
    except ValueError as exc:
        return _bad(str(exc))
    with state.lock:
        state.outcomes.append(text)
    return json_reply({"queued_outcomes": list(state.outcomes)})


def expire(state: FakeState, call: Call) -> Reply:
    with state.lock:
        state.expired = True
    return json_reply({"expired": True})


def requests(state: FakeState, call: Call) -> Reply:
    with state.lock:
        items = list(state.requests)
    return json_reply([request_to_dict(r) for r in items])


def jobs(state: FakeState, call: Call) -> Reply:
    return json_reply(state.snapshot_jobs())


def reset(state: FakeState, call: Call) -> Reply:
    state.reset()
    return json_reply({"reset": True})


def health(state: FakeState, call: Call) -> Reply:
    return json_reply({"ok": True, "base_url": state.base_url})


def routes() -> list[Route]:
    root = "/__fake__"
    return [
        route("POST", root + "/config", PROVIDER, "config", config),
        route("POST", root + "/faults", PROVIDER, "faults", faults),
        route("POST", root + "/outcome", PROVIDER, "outcome", outcome),
        route("POST", root + "/expire", PROVIDER, "expire", expire),
        route("GET", root + "/requests", PROVIDER, "requests", requests),
        route("GET", root + "/jobs", PROVIDER, "jobs", jobs),
        route("POST", root + "/reset", PROVIDER, "reset", reset),
        route("GET", root + "/health", PROVIDER, "health", health),
    ]
