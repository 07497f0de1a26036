"""The RunComfy Model API, as providers.md section 1 describes it.

Deliberate quirks kept from the real service: /status says `completed` where /result says
`succeeded` (and says `completed` for a failed job too); cancel answers HTTP 202 with an
`outcome`; only queued jobs can be cancelled.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.fakes.faults import error_body
from tests.fakes.jobs import FAILURES, FakeJob
from tests.fakes.media import decode_data_uri, image_problems
from tests.fakes.schemas import schema_for, validate
from tests.fakes.state import Call, FakeState, Reply, Route, json_reply, route

PROVIDER = "runcomfy"
_STATUS_WORD = {
    "queued": "in_queue",
    "running": "in_progress",
    "succeeded": "completed",
    "failed": "completed",
    "cancelled": "cancelled",
}
_RESULT_WORD = {
    "queued": "in_queue",
    "running": "in_progress",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}


def _error(status: int, message: str | None = None, code: int | None = None) -> Reply:
    body = error_body(PROVIDER, status, message)
    if code is not None:
        body["error_code"] = code
    return json_reply(body, status)


def _validation(detail: list[dict[str, object]]) -> Reply:
    return json_reply({"error_code": 422001, "error_message": "Validation Error", "detail": detail}, 422)


def _authorised(state: FakeState, call: Call) -> bool:
    return call.bearer is not None and call.bearer in state.keys[PROVIDER]


def _urls(state: FakeState, job_id: str) -> dict[str, str]:
    root = f"{state.base_url}/v1/requests/{job_id}"
    return {"status_url": f"{root}/status", "result_url": f"{root}/result", "cancel_url": f"{root}/cancel"}


def _check_images(state: FakeState, items: list[str]) -> tuple[list[dict[str, object]], bool]:
    """(422 detail entries, whether some URL is one the fake cannot fetch)."""
    detail: list[dict[str, object]] = []
    unreachable = False
    for index, item in enumerate(items):
        loc = ["body", "image_urls", index]
        if item.startswith("data:"):
            try:
                mime, data = decode_data_uri(item)
            except ValueError as exc:
                detail.append({"loc": loc, "msg": f"Invalid image_uri: {exc}.", "type": "value_error"})
                continue
            if mime not in ("image/png", "image/jpeg", "image/jpg"):
                detail.append({"loc": loc, "msg": "Upload JPEG/PNG format.", "type": "value_error"})
                continue
        elif urlsplit(item).scheme in ("http", "https"):
            rel = urlsplit(item).path.removeprefix("/files/")
            path = state.resolve_file(rel) if state.serves_url(item) else None
            if path is None:
                unreachable = True  # the real service only finds out when it fetches it
                continue
            data = path.read_bytes()
        else:
            detail.append(
                {
                    "loc": loc,
                    "msg": "Invalid image_uri: expected an https URL or a data URI.",
                    "type": "value_error",
                }
            )
            continue
        detail.extend({"loc": loc, "msg": msg, "type": "value_error"} for msg in image_problems(data))
    return detail, unreachable


def submit(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    model = call.params["model"]
    schema = schema_for(PROVIDER, model)
    if schema is None:
        return _error(404, f"Invalid model_id: {model}", code=400001)
    body = call.record.json
    if body is None:
        return _validation([{"loc": ["body"], "msg": "Invalid JSON body.", "type": "value_error.jsondecode"}])
    detail = [
        {"loc": ["body", p.field], "msg": p.message, "type": "value_error"} for p in validate(schema, body)
    ]
    if detail:
        return _validation(detail)
    unreachable = False
    if schema.image_field:
        detail, unreachable = _check_images(state, body[schema.image_field])
        if detail:
            return _validation(detail)
    job = state.create_job(
        PROVIDER, model, body, call.bearer or "", forced_outcome="unreachable_input" if unreachable else None
    )
    return json_reply({"request_id": job.id, **_urls(state, job.id)})


def _owned_job(state: FakeState, call: Call) -> tuple[FakeJob | None, Reply | None]:
    if not _authorised(state, call):
        return None, _error(401)
    job = state.job(call.params["id"])
    if job is None or job.provider != PROVIDER:
        return None, _error(404, f"Request {call.params['id']} not found or expired.")
    if job.key != call.bearer:
        return None, _error(403, "This request belongs to another user.")
    return job, None


def status(state: FakeState, call: Call) -> Reply:
    job, failure = _owned_job(state, call)
    if job is None:
        return failure  # type: ignore[return-value]
    phase = job.phase()
    body: dict[str, object] = {"request_id": job.id, "status": _STATUS_WORD[phase]}
    if phase == "queued":
        body["queue_position"] = job.queue_position()
    urls = _urls(state, job.id)
    body.update(status_url=urls["status_url"], result_url=urls["result_url"])
    return json_reply(body)


def result(state: FakeState, call: Call) -> Reply:
    job, failure = _owned_job(state, call)
    if job is None:
        return failure  # type: ignore[return-value]
    phase = job.phase()
    body: dict[str, object] = {"request_id": job.id, "status": _RESULT_WORD[phase]}
    if phase in ("succeeded", "failed", "cancelled"):
        body["created_at"] = state.stated(job.created_at)
        body["finished_at"] = state.stated(job.finished_at)
    if phase == "succeeded":
        body["output"] = {"video": job.output_url}
    elif phase == "failed":
        body["error"] = {"message": FAILURES[job.outcome][0]}
    if phase in ("succeeded", "failed") and call.record.query.get("include_cost") == "true":
        schema = schema_for(PROVIDER, job.model)
        body["cost"] = schema.price_usd if schema and phase == "succeeded" else 0.0
    return json_reply(body)


def cancel(state: FakeState, call: Call) -> Reply:
    job, failure = _owned_job(state, call)
    if job is None:
        return failure  # type: ignore[return-value]
    with state.lock:
        accepted = job.cancel()
        word = _STATUS_WORD[job.phase()]
    return json_reply(
        {"request_id": job.id, "status": word, "outcome": "cancelled" if accepted else "not_cancellable"}, 202
    )


def model_info(state: FakeState, call: Call) -> Reply:
    """GET /v1/models/{id}: the undocumented pricing lookup RunComfy's own nodes use."""
    if not _authorised(state, call):
        return _error(401)
    schema = schema_for(PROVIDER, call.params["model"])
    if schema is None:
        return _error(404, f"Invalid model_id: {call.params['model']}", code=400001)
    return json_reply(
        {
            "model_id": schema.model_id,
            "base_price_usd": schema.price_usd,
            "price_unit": "per_request",
            "pricing_note": "fake price",
        }
    )


def routes() -> list[Route]:
    rid = r"/v1/requests/(?P<id>[^/]+)"
    return [
        route("POST", rid + r"/cancel", PROVIDER, "cancel", cancel),
        route("GET", rid + r"/status", PROVIDER, "status", status),
        route("GET", rid + r"/result", PROVIDER, "result", result),
        route("POST", r"/v1/models/(?P<model>.+)", PROVIDER, "submit", submit),
        route("GET", r"/v1/models/(?P<model>.+)", PROVIDER, "model_info", model_info),
    ]
