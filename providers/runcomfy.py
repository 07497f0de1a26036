"""RunComfy Model API adapter for the four Dreamina 3.0 video models.

Submit: POST /v1/models/{model_id} (never retried). Poll: GET /v1/requests/{id}/status, and
once it names a final state, GET /v1/requests/{id}/result, whose status is the one to trust
(/status says `completed` even when /result says `failed`). A job already seen running is
polled at /result alone, which answers its current state until it ends (providers.md §1):
the poll that sees the end is then one request, not two, and not one request late.
Cancel: POST .../cancel, which only stops a job that is still queued.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from providers.base import (
    CancelOutcome,
    JobLocator,
    ProviderError,
    ProviderName,
    ProviderStatus,
    RemoteState,
    Secret,
    SubmitRequest,
)
from providers.catalog import (
    IMAGE_RULES,
    RATIOS_6,
    ModelSpec,
    ParamSpec,
    aspect_param,
    frames_param,
    resolution_param,
    seed_param,
)
from providers.errors import (
    body_code,
    classify_response,
    classify_submit_exception,
    failed_job_error,
    parse_json,
    read_image,
    wire_body,
    wire_field_names,
)
from providers.hosted import HostedProvider
from providers.http import SINGLE_TRY, RetryPolicy, send_idempotent
from providers.key_checks import RunComfyKeyCheck
from providers.provider_time import span
from providers.registry import ProviderConfig, ProviderInfo

LABEL = "RunComfy"
NAME = "runcomfy"

# --- UNVERIFIED: best guesses where RunComfy publishes nothing ----------------------------
# RunComfy has not published the non-Pro text-to-video schema. Its page promises
# "adjustable frames, resolutions, and reproducible seeds", the same words as the non-Pro
# image-to-video page, so the guess mirrors that schema (number_of_frames, resolution, seed).
T2V_PARAMS: tuple[ParamSpec, ...] = (
    frames_param("number_of_frames", verified=False),
    resolution_param(verified=False),
    seed_param(),
)
# Prices not published for any of the four models.
# ------------------------------------------------------------------------------------------

_RC = "bytedance/dreamina-3-0"

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="runcomfy",
        provider_label=LABEL,
        path=f"{_RC}/pro/text-to-video",
        label="Dreamina 3.0 Pro · text-to-video",
        kind="t2v",
        params=(aspect_param(RATIOS_6, pixel_labels=True), frames_param("frames"), seed_param()),
        fixed_resolution="1080P",
    ),
    ModelSpec(
        provider="runcomfy",
        provider_label=LABEL,
        path=f"{_RC}/text-to-video",
        label="Dreamina 3.0 · text-to-video",
        kind="t2v",
        params=T2V_PARAMS,
        verified=False,
        notes="RunComfy has not published this model's input schema; the parameters are a best guess.",
    ),
    ModelSpec(
        provider="runcomfy",
        provider_label=LABEL,
        path=f"{_RC}/pro/image-to-video",
        label="Dreamina 3.0 Pro · image-to-video",
        kind="i2v",
        params=(frames_param("frames"), seed_param()),
        fixed_resolution="1080P",
        image_wire="image_urls",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="runcomfy",
        provider_label=LABEL,
        path=f"{_RC}/image-to-video",
        label="Dreamina 3.0 · image-to-video",
        kind="i2v",
        params=(frames_param("number_of_frames"), resolution_param(), seed_param()),
        image_wire="image_urls",
        image_rules=IMAGE_RULES,
    ),
)

# Every spelling either endpoint uses; /status says `completed`, /result `succeeded`.
STATES: dict[str, RemoteState] = {
    "in_queue": "queued",
    "queued": "queued",
    "pending": "queued",
    "in_progress": "running",
    "running": "running",
    "completed": "succeeded",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
FINAL_WORDS = frozenset({"completed", "succeeded", "failed", "cancelled", "canceled"})


def normalise_state(word: object) -> RemoteState:
    """The neutral state for a RunComfy status word; an unknown word means 'still running'
    (keep polling) rather than a crash."""
    return STATES.get(str(word or "").strip().lower(), "running")


def video_url(output: object) -> str | None:
    """`output.video`, else `output.videos[0]` (the order RunComfy's own client reads)."""
    if not isinstance(output, Mapping):
        return None
    video = output.get("video")
    if isinstance(video, str) and video:
        return video
    videos = output.get("videos")
    if isinstance(videos, list) and videos and isinstance(videos[0], str) and videos[0]:
        return videos[0]
    return None


def _is_error_body(body: Mapping[str, Any]) -> bool:
    """An error dressed as HTTP 200: a top-level error code, or an error text with no job
    fields. A failed job's result (status + error) is not one: that is the job's outcome."""
    if str(body.get("status") or "").strip().lower() in STATES:
        return False
    if body_code(body) is not None or body.get("error_message"):
        return True
    return "request_id" not in body and any(body.get(name) for name in ("error", "message", "detail"))


class RunComfyProvider(HostedProvider, RunComfyKeyCheck):
    """Talks to RunComfy's Model API. `key` is the default key (None: every call must bring
    one); `request_timeout` bounds each poll, result and cancel request (None: the client's
    own timeouts, which make_client sets on every phase)."""

    name: ProviderName = NAME
    label = LABEL
    key_env = "RUNCOMFY_API_TOKEN"

    # Request ids this adapter has seen running, oldest first: their polls go to /result.
    # Bounded, and a job leaves it when it ends; forgetting one costs a poll one request.
    RUNNING_KEPT = 4096

    @functools.cached_property
    def _running(self) -> OrderedDict[str, None]:
        return OrderedDict()

    def _mark_running(self, request_id: str, running: bool) -> None:
        if not running:
            self._running.pop(request_id, None)
            return
        self._running[request_id] = None
        self._running.move_to_end(request_id)
        while len(self._running) > self.RUNNING_KEPT:
            self._running.popitem(last=False)

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        """POST the job once and return RunComfy's request_id.

        Raises ValidationError before sending anything the model does not take; a
        ProviderError of a definite kind when RunComfy refused (nothing created); or
        `submit_unknown` when the job may exist (no answer, 502/504, unreadable reply).
        """
        secret = self._secret(key)
        body: dict[str, Any] = dict(wire_body(request, "runcomfy"))
        if request.spec.image_wire and request.image is not None:
            data, mime = await asyncio.to_thread(read_image, request.image)
            # RunComfy's Model API has no upload endpoint; its own client sends data URIs.
            body[request.spec.image_wire] = [f"data:{mime};base64,{base64.b64encode(data).decode()}"]
        url = f"{self._base}/v1/models/{request.spec.path}"
        try:
            response = await self._client.post(
                url, json=body, headers=self._headers(secret), timeout=self._submit_timeout
            )
        except httpx.TransportError as exc:
            raise classify_submit_exception(LABEL, exc) from exc
        payload = parse_json(response)
        if response.status_code in (502, 504):
            # A gateway gave up waiting for RunComfy, which may have created the job.
            raise ProviderError(
                "submit_unknown", f"RunComfy's gateway answered HTTP {response.status_code} to the submit."
            )
        fields = wire_field_names(request)
        if response.status_code >= 400:
            raise classify_response(
                LABEL, response.status_code, payload, response.headers, key=secret, field_names=fields
            )
        if isinstance(payload, Mapping) and _is_error_body(payload):
            raise classify_response(LABEL, response.status_code, payload, key=secret, field_names=fields)
        request_id = payload.get("request_id") if isinstance(payload, Mapping) else None
        if not isinstance(request_id, str) or not request_id.strip():
            raise ProviderError(
                "submit_unknown", "RunComfy accepted the submit but its reply had no request id."
            )
        return JobLocator(request_id.strip())

    async def _send(
        self, method: str, path: str, secret: Secret, policy: RetryPolicy | None = None
    ) -> tuple[int, Mapping[str, Any]]:
        """An idempotent request with retries (`policy`, else the adapter's); its JSON body,
        or a classified ProviderError."""
        extra: dict[str, Any] = {} if self._request_timeout is None else {"timeout": self._request_timeout}
        response = await send_idempotent(
            self._client,
            method,
            f"{self._base}{path}",
            policy=policy or self._retry,
            sleep=self._sleep,
            headers=self._headers(secret),
            **extra,
        )
        payload = parse_json(response)
        if response.status_code >= 400:
            raise classify_response(LABEL, response.status_code, payload, response.headers, key=secret)
        if not isinstance(payload, Mapping):
            # A cut-off or garbled reply: a passing fault, so the caller may poll again.
            raise ProviderError(
                "server", f"RunComfy sent an unreadable reply (HTTP {response.status_code}, not JSON)."
            )
        if _is_error_body(payload):
            raise classify_response(LABEL, response.status_code, payload, response.headers, key=secret)
        return response.status_code, payload

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        """The job's state: /status while it queues, /result once /status names an end.
        /result alone (it answers `in_progress` until the end) once the job was seen running
        or when the schedule expects the end (`ending`): the poll that sees it is one request."""
        secret = self._secret(key)
        request_id = JobLocator.of(locator).request_id
        rid = quote(request_id, safe="")
        direct = ending or request_id in self._running
        if not direct:
            state, position = await self._status(request_id, secret)
            if state is not None:
                return ProviderStatus(state=state, queue_position=position)
        _, result = await self._send("GET", f"/v1/requests/{rid}/result", secret, self._poll_retry)
        answer = self._from_result(result, secret)
        self._mark_running(request_id, answer.state == "running")
        if direct and answer.state == "queued" and answer.queue_position is None:
            # Still in line after all: /status knows its place (unless it just ended).
            state, position = await self._status(request_id, secret)
            if state == "queued":
                return ProviderStatus(state=state, queue_position=position)
        return answer

    async def _status(self, request_id: str, secret: Secret) -> tuple[RemoteState | None, int | None]:
        """/status: the state and place in line of a job that has not ended (None: it has,
        so ask /result), remembering a job seen running."""
        rid = quote(request_id, safe="")
        _, status = await self._send("GET", f"/v1/requests/{rid}/status", secret, self._poll_retry)
        word = str(status.get("status") or "").strip().lower()
        if word in FINAL_WORDS:
            return None, None
        state = normalise_state(word)
        self._mark_running(request_id, state == "running")
        return state, _place_in_line(status.get("queue_position"))

    def _from_result(self, result: Mapping[str, Any], secret: Secret) -> ProviderStatus:
        state = normalise_state(result.get("status"))
        # How long RunComfy says the job took, on its own clock (absent or unreadable: None).
        took = span(result.get("created_at"), result.get("finished_at"))
        if state == "succeeded":
            url = video_url(result.get("output"))
            if url is None:
                return ProviderStatus(
                    state="failed",
                    error=ProviderError("job_failed", "RunComfy reported success but sent no video URL."),
                )
            return ProviderStatus(state="succeeded", video_url=url, run_seconds=took)
        if state == "failed":
            error = result.get("error")
            code = body_code(error) if isinstance(error, Mapping) else None
            text = _failure_text(result)
            return ProviderStatus(
                state="failed", error=failed_job_error(LABEL, code, text, key=secret), run_seconds=took
            )
        # cancelled, or the job still queued or running (its place in line, if /result says it)
        return ProviderStatus(state=state, queue_position=_place_in_line(result.get("queue_position")))

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> CancelOutcome:
        """Ask RunComfy to cancel. Only a queued job can be: a running or finished one
        answers `not_cancellable`, runs to the end and is billed."""
        secret = self._secret(key)
        rid = quote(JobLocator.of(locator).request_id, safe="")
        _, body = await self._send("POST", f"/v1/requests/{rid}/cancel", secret)
        outcome = str(body.get("outcome") or "").strip().lower()
        if outcome in ("cancelled", "canceled"):
            return "cancelled"
        # Anything else (not_cancellable, or a word we do not know) means it may still run.
        return "not_cancellable"


def _failure_text(result: Mapping[str, Any]) -> str:
    """What RunComfy said about a failed job: `error` may be text or an object."""
    error = result.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, Mapping):
        for name in ("message", "error_message", "detail", "type"):
            value = error.get(name)
            if isinstance(value, str) and value:
                return value
    for name in ("error_message", "message", "detail"):
        value = result.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _whole_number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _place_in_line(value: object) -> int | None:
    """RunComfy's `queue_position` as a place in line (1 = next). Its docs do not say where
    the count starts, and 0 has been seen: anything below 1 means nobody is ahead."""
    number = _whole_number(value)
    return None if number is None else max(1, number)


def build(config: ProviderConfig) -> RunComfyProvider:
    return RunComfyProvider(config.base_url, config.key, poll_retry=SINGLE_TRY)


PROVIDER = ProviderInfo(
    name=NAME,
    label=LABEL,
    models=MODELS,
    build=build,
    key_env=("RUNCOMFY_API_TOKEN", "RUNCOMFY_API_KEY"),
    env_prefix="RUNCOMFY",
    default_base_url="https://model-api.runcomfy.net",
    key_url="https://www.runcomfy.com/profile",
    key_label="API token",
    cancel="queued",
    image_transport="data_uri",
    key_check=True,
)
