"""Shared by the RunComfy and WaveSpeedAI adapters: turning what a provider answered (an
HTTP status, an error body, a failed job, a dropped connection) into a ProviderError, and
re-checking a request before it is sent.

Both providers speak in numeric codes: RunComfy's `error_code` (400004, 404001, ...),
WaveSpeed's envelope `code` (an HTTP-like 401, 429, ...) and its task codes (1200, 1402, ...).
They do not collide, so one table serves both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from providers.base import ErrorKind, ProviderError, Secret, SubmitRequest, ValidationError, Words
from providers.catalog import Value, to_wire, validate_options, validate_prompt
from providers.http import parse_retry_after

PROVIDER_TEXT_LIMIT = 200

CODE_KINDS: dict[int, ErrorKind] = {
    # HTTP statuses (and WaveSpeed's envelope codes, which reuse them)
    400: "validation",
    401: "auth",
    402: "insufficient_balance",
    403: "auth",
    404: "not_found",
    422: "validation",
    429: "rate_limited",
    # RunComfy Model API and Serverless error codes
    400001: "not_found",  # bad or unknown model id
    400002: "insufficient_balance",
    400004: "auth",  # token missing, expired or revoked
    401001: "auth",
    403001: "not_found",  # the request id belongs to another account: see _detail
    403003: "auth",
    404001: "not_found",  # unknown, deleted or expired request id
    422001: "validation",
    500001: "server",
    # WaveSpeed task codes
    1200: "moderation",
    1400: "validation",
    1401: "validation",
    1402: "job_failed",  # could not download the input image
    1403: "job_failed",
    1405: "job_failed",
    5000: "server",
    5003: "server",
    5004: "server",
}

# Words a provider uses when its content filter refused the prompt, the image or the output.
_MODERATION = re.compile(r"moderat|sensitive|nsfw|polic(y|ies)|inappropriate|content filter", re.I)
_BALANCE = re.compile(r"insufficient (balance|credit|fund)|balance (is )?(too low|insufficient)", re.I)


def truncate(text: str, limit: int = PROVIDER_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scrub(text: str, key: Secret | None) -> str:
    """`text` with the key's value cut out, in case a provider echoes it back."""
    if key and key.reveal() and key.reveal() in text:
        text = text.replace(key.reveal(), "***")
    return text


def _as_code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _texts(value: object) -> list[str]:
    """Human-readable pieces of an `error`/`message`/`detail` value, whatever its shape."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Mapping):
        for name in ("message", "error_message", "msg", "detail", "error", "type"):
            if name in value:
                found = _texts(value[name])
                if found:
                    return found
        return []
    if isinstance(value, list):
        return [piece for item in value[:3] for piece in _texts(item)]
    return []


def provider_text(body: object, key: Secret | None = None) -> str:
    """The provider's own words about an error, short and key-free ('' when it said none)."""
    if not isinstance(body, Mapping):
        return ""
    pieces: list[str] = []
    for name in ("error_message", "message", "error", "detail"):
        for piece in _texts(body.get(name)):
            if piece not in pieces and piece.lower() not in ("success", "ok"):
                pieces.append(piece)
    data = body.get("data")
    if isinstance(data, Mapping):
        pieces += [p for p in _texts(data.get("error")) if p not in pieces]
    return truncate(scrub("; ".join(pieces), key))


def error_field(body: object, field_names: Mapping[str, str]) -> str | None:
    """The form field a validation error points at, from `detail[].loc` (['body', 'prompt']),
    translated from the wire name to the neutral one (number_of_frames -> frames)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("detail"), list):
        return None
    for item in body["detail"]:
        loc = item.get("loc") if isinstance(item, Mapping) else None
        if isinstance(loc, list):
            names = [part for part in loc if isinstance(part, str) and part != "body"]
            if names:
                return field_names.get(names[-1], names[-1])
    return None


def body_code(body: object) -> int | None:
    """RunComfy's top-level `error_code`, or WaveSpeed's envelope `code` when not 200."""
    if not isinstance(body, Mapping):
        return None
    code = _as_code(body.get("error_code"))
    if code is None:
        code = _as_code(body.get("code"))
    return None if code in (None, 0, 200) else code


def kind_for(status_code: int, code: int | None, text: str) -> ErrorKind:
    if _BALANCE.search(text):
        return "insufficient_balance"
    if code is not None and code in CODE_KINDS:
        return CODE_KINDS[code]
    if status_code in CODE_KINDS:
        return CODE_KINDS[status_code]
    if status_code >= 500 or (code is not None and code >= 500):
        return "server"
    if 400 <= status_code < 500:
        return "validation"
    return "server"


def _detail(label: str, kind: ErrorKind, code: int | None) -> str:
    if code == 403001:
        # Polling a job with a different account's key. From this key's point of view the
        # job does not exist, and retrying cannot help, so it is "not_found", not "auth".
        return f"{label} says this request belongs to another account (was the API key changed?)"
    if code == 400001:
        return f"{label} does not know this model"
    return {
        "auth": f"{label} refused the API key",
        "insufficient_balance": f"{label} says the account balance is too low",
        "validation": f"{label} refused the request",
        "rate_limited": f"{label} is limiting how fast requests may come",
        "not_found": f"{label} does not know this request",
        "moderation": f"{label}'s content filter stopped the job",
        "job_failed": f"{label} could not run the job",
        "server": f"{label} had an internal error",
    }.get(kind, f"{label} answered with an error")


def classify_response(
    label: str,
    status_code: int,
    body: object,
    headers: Mapping[str, str] | httpx.Headers | None = None,
    *,
    key: Secret | None = None,
    field_names: Mapping[str, str] | None = None,
) -> ProviderError:
    """A ProviderError for an HTTP error response, or an error inside an HTTP 200 body."""
    code = body_code(body)
    text = provider_text(body, key)
    kind = kind_for(status_code, code, text)
    # WaveSpeed's envelope code usually repeats the HTTP status: say it once.
    where = f"HTTP {status_code}" + (f", code {code}" if code not in (None, status_code) else "")
    detail = f"{_detail(label, kind, code)} ({where})"
    if text:
        detail += f": {text}"
    retry_after = parse_retry_after((headers or {}).get("Retry-After"))
    field = error_field(body, field_names or {}) if kind == "validation" else None
    return ProviderError(
        kind,
        detail + ".",
        field=field,
        retry_after=retry_after,
        status_code=status_code,
        provider_code=code,
    )


def failed_job_error(label: str, code: int | None, text: str, *, key: Secret | None = None) -> ProviderError:
    """The error of a job the provider ran and gave up on (status `failed`)."""
    text = truncate(scrub(text, key))
    if code == 1402:
        detail, said = f"{label} could not download the input image", "image_unfetched"
        kind: ErrorKind = "job_failed"
    elif code == 1200 or _MODERATION.search(text):
        detail, said, kind = f"{label}'s content filter stopped the job", "filtered", "moderation"
    else:
        detail, said, kind = f"{label} could not make this video", "made_nothing", "job_failed"
    # The studio's sentence under its code (jobs/job_words.py), the provider's words inside it.
    params: dict[str, object] = {"provider": label}
    if text:
        detail += f": {text.rstrip('.')}"
        said += "_said"
        params["words"] = text.rstrip(".")
    return ProviderError(kind, Words(detail + ".", said, params), provider_code=code)


def classify_submit_exception(label: str, exc: httpx.TransportError) -> ProviderError:
    """A transport failure during a submit POST: `network` only when the request certainly
    never left (so nothing was created); otherwise the job may exist: `submit_unknown`."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ProviderError("network", f"Could not connect to {label} ({name}); nothing was sent.")
    return ProviderError("submit_unknown", f"{label} did not answer after the job was sent ({name}).")


def parse_json(response: httpx.Response) -> Any | None:
    """The response's JSON, or None when the body is not valid JSON."""
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return None


# --- request re-checks -------------------------------------------------------------------


def wire_body(request: SubmitRequest, provider: str) -> dict[str, Value]:
    """The JSON body without the image: the request re-checked against its spec (the
    prompt's rules; a parameter the model does not take is refused, never sent), then
    `catalog.to_wire`."""
    spec = request.spec
    if spec.provider != provider:
        raise ValidationError("model", f"Model: {spec.id} does not run on {provider}.")
    for name in request.options:
        if not spec.accepts(name):
            accepted = ", ".join(p.name for p in spec.params) or "no options"
            raise ValidationError(
                name, f"{name}: {spec.label} does not take this setting. It accepts: {accepted}."
            )
    if spec.image_wire and request.image is None:
        raise ValidationError("image", f"Image: {spec.label} animates an image; choose one.")
    if not spec.image_wire and request.image is not None:
        raise ValidationError("image", f"Image: {spec.label} makes video from text only; remove the image.")
    prompt = validate_prompt(request.prompt, spec.prompt_max)
    return to_wire(spec, prompt, validate_options(spec, request.options))


def wire_field_names(request: SubmitRequest) -> dict[str, str]:
    """Wire name -> form field name, to point a provider's validation error at the form."""
    names: dict[str, str] = {p.wire: p.name for p in request.spec.params}
    if request.spec.image_wire:
        names[request.spec.image_wire] = "image"
    return names


def image_type(data: bytes) -> str:
    """The MIME type of a JPEG or PNG file by its magic bytes (the file's real format,
    whatever its name says)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise ValidationError("image", "Image: only JPEG and PNG files can be sent.")


def read_image(path: Path) -> tuple[bytes, str]:
    """The image's bytes and MIME type (blocking: call it in a worker thread)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError("image", "Image: the file could not be read; choose it again.") from exc
    return data, image_type(data)
