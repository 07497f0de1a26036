"""The WaveSpeedAI v3 API, as providers.md section 2 and the official SDK (2.0.5) use it.

Every JSON answer is the `{code, message, data}` envelope. A failed task is still HTTP 200
with `code` 200: the failure is in `data.status` / `data.code` / `data.error`. There is no
cancel endpoint. Uploads: the multipart `/media/upload/binary` and the SDK's ticket flow
(`POST /media/uploads`, then an unauthenticated PUT of the raw bytes).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import mimetypes
import secrets
from pathlib import Path

from tests.fakes.faults import error_body
from tests.fakes.jobs import FAILURES, FakeJob
from tests.fakes.money_api import over_video_cap
from tests.fakes.schemas import schema_for, validate
from tests.fakes.state import Call, FakeState, Reply, Route, json_reply, route

PROVIDER = "wavespeed"
_STATUS_WORD = {
    "queued": "created",
    "running": "processing",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}


def _error(status: int, message: str | None = None) -> Reply:
    return json_reply(error_body(PROVIDER, status, message), status)


def _ok(data: object) -> Reply:
    return json_reply({"code": 200, "message": "success", "data": data})


def _authorised(state: FakeState, call: Call) -> bool:
    return call.bearer is not None and call.bearer in state.keys[PROVIDER]


def prediction(state: FakeState, job: FakeJob) -> dict[str, object]:
    """The `data` object of a submit or result answer for `job` as it is now."""
    phase = job.phase()
    data: dict[str, object] = {
        "id": job.id,
        "model": job.model,
        "status": _STATUS_WORD[phase],
        "outputs": [],
        "urls": {"get": f"{state.base_url}/api/v3/predictions/{job.id}/result"},
        "has_nsfw_contents": [],
        "created_at": state.stated(job.created_at),
        "error": "",
        "timings": {},
    }
    if phase == "succeeded":
        data["outputs"] = [job.output_url]
        data["has_nsfw_contents"] = [False]
        data["timings"] = {"inference": int(job.run_seconds * 1000)}
    elif phase == "failed":
        _, code, message = FAILURES[job.outcome]
        data["code"] = code
        data["error"] = message
    return data


def submit(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    model = call.params["model"]
    schema = schema_for(PROVIDER, model)
    if schema is None:
        return _error(404, f"model not found: {model}")
    body = call.record.json
    if body is None:
        return json_reply(
            {"code": 1401, "message": "invalid parameter: the body is not valid JSON", "data": None}, 400
        )
    problems = validate(schema, body)
    if problems:
        first = problems[0]
        code = 1400 if first.missing else 1401
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return json_reply({"code": code, "message": message, "data": None}, 400)
    capped = over_video_cap(state)
    if capped is not None:
        return capped
    unreachable = bool(schema.image_field) and not state.serves_url(body[schema.image_field])
    job = state.create_job(
        PROVIDER, model, body, call.bearer or "", forced_outcome="unreachable_input" if unreachable else None
    )
    return _ok(prediction(state, job))


def result(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    job = state.job(call.params["id"])
    # Another key's prediction looks the same as no prediction: ids are scoped to an account.
    if job is None or job.provider != PROVIDER or job.key != call.bearer:
        return _error(404, "prediction not found")
    return _ok(prediction(state, job))


def _media_type(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"


def _store(state: FakeState, filename: str, data: bytes) -> Path:
    assert state.upload_dir is not None, "the fake is not started"
    target = state.upload_dir / f"{secrets.token_hex(8)}-{Path(filename).name or 'upload'}"
    target.write_bytes(data)
    return target


def upload_binary(state: FakeState, call: Call) -> Reply:
    """POST /api/v3/media/upload/binary, multipart with a `file` field."""
    if not _authorised(state, call):
        return _error(401)
    content_type = call.record.header("Content-Type") or ""
    if not content_type.startswith("multipart/form-data"):
        return json_reply(
            {
                "code": 1400,
                "message": "file: multipart/form-data with a 'file' field is required",
                "data": None,
            },
            400,
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + call.record.body)
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") != "file":
            continue
        filename = part.get_filename() or "upload"
        data = part.get_payload(decode=True) or b""
        part_type = part.get_content_type()
        if part_type in ("text/plain", "application/octet-stream"):
            part_type = mimetypes.guess_type(filename)[0] or part_type
        url = state.add_file(_store(state, filename, data), filename, folder="uploads")
        return _ok(
            {"type": _media_type(part_type), "download_url": url, "filename": filename, "size": len(data)}
        )
    return json_reply({"code": 1400, "message": "file: the 'file' field is missing", "data": None}, 400)


def upload_ticket(state: FakeState, call: Call) -> Reply:
    """POST /api/v3/media/uploads: the SDK's first step; answers where to PUT the bytes."""
    if not _authorised(state, call):
        return _error(401)
    body = call.record.json
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("filename"), str)
        or not isinstance(body.get("size"), int)
    ):
        return json_reply({"code": 1400, "message": "filename and size are required", "data": None}, 400)
    filename = body["filename"]
    content_type = body.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    token = secrets.token_hex(12)
    rel = state.file_slot(filename, "uploads")  # served only once the PUT arrives
    with state.lock:
        state.tickets[token] = (rel, body["size"])
    return _ok(
        {
            "type": _media_type(content_type),
            "filename": filename,
            "size": body["size"],
            "download_url": state.url_for(rel),
            "upload": {
                "method": "PUT",
                "url": f"{state.base_url}/files/put/{token}",
                "headers": {"Content-Type": content_type},
            },
        }
    )


def upload_put(state: FakeState, call: Call) -> Reply:
    """PUT /files/put/<token>: raw bytes, no Authorization (like a pre-signed URL)."""
    with state.lock:
        ticket = state.tickets.get(call.params["token"])
    if ticket is None:
        return Reply(
            status=403, body=b"<Error><Code>AccessDenied</Code></Error>", content_type="application/xml"
        )
    rel, size = ticket
    data = call.record.body
    if len(data) != size:
        return Reply(
            status=400,
            body=f"size mismatch: declared {size}, got {len(data)}".encode(),
            content_type="text/plain",
        )
    path = _store(state, rel.rsplit("/", 1)[-1], data)
    with state.lock:
        state.files[rel] = path
        state.tickets.pop(call.params["token"], None)
    return Reply(
        status=200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'}, content_type="text/plain"
    )


def routes() -> list[Route]:
    pid = r"/api/v3/predictions/(?P<id>[^/]+)"
    return [
        route("GET", pid + r"/result", PROVIDER, "result", result),
        route("GET", pid, PROVIDER, "result", result),
        route("POST", r"/api/v3/media/upload/binary", PROVIDER, "upload", upload_binary),
        route("POST", r"/api/v3/media/uploads", PROVIDER, "upload", upload_ticket),
        route("POST", r"/api/v3/(?P<model>.+)", PROVIDER, "submit", submit),
        route("PUT", r"/files/put/(?P<token>[^/]+)", "files", "upload_put", upload_put),
    ]
