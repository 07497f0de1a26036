"""WaveSpeedAI adapter for the six Dreamina 3.0 video endpoints.

Every reply is an envelope `{code, message, data}`; `code` other than 200 is an error even
inside HTTP 200. Submit: POST /api/v3/{model_id} (never retried), after uploading an input
image to /api/v3/media/upload/binary. Poll: GET /api/v3/predictions/{id}/result (the URL
the SDKs and `data.urls.get` use). WaveSpeed documents no cancel endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
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
    RATIOS_7,
    ModelSpec,
    aspect_param,
    duration_param,
    seed_param,
)
from providers.errors import (
    body_code,
    classify_response,
    classify_submit_exception,
    failed_job_error,
    parse_json,
    provider_text,
    read_image,
    truncate,
    wire_body,
    wire_field_names,
)
from providers.hosted import HostedProvider
from providers.http import SINGLE_TRY, RetryPolicy, send_idempotent
from providers.key_checks import WaveSpeedMoney
from providers.provider_time import milliseconds
from providers.registry import ProviderConfig, ProviderInfo

LABEL = "WaveSpeedAI"
NAME = "wavespeed"

# --- UNVERIFIED: best guesses where WaveSpeedAI publishes nothing -------------------------
# WaveSpeed documents duration's default (5) but not its allowed values, except on
# image-to-video-1080p whose page lists 5 alone. Dreamina 3.0 renders 5 s and 10 s clips.
DURATIONS: tuple[int, ...] = (5, 10)
I2V_1080P_DURATIONS: tuple[int, ...] = (5,)
# Prices not published for Pro image-to-video and both image-to-video models.
# ------------------------------------------------------------------------------------------

_WS = "bytedance/dreamina-v3.0"

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path="bytedance/dreamina-v3.0-pro/text-to-video",
        label="Dreamina 3.0 Pro · text-to-video",
        kind="t2v",
        params=(aspect_param(RATIOS_7), seed_param()),
        price_usd=0.60,
        fixed_resolution="1080P",
        fixed_seconds=5.0,
    ),
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path="bytedance/dreamina-v3.0-pro/image-to-video",
        label="Dreamina 3.0 Pro · image-to-video",
        kind="i2v",
        params=(aspect_param(RATIOS_7), seed_param()),
        fixed_resolution="1080P",
        fixed_seconds=5.0,
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path=f"{_WS}/text-to-video-720p",
        label="Dreamina 3.0 · text-to-video 720p",
        kind="t2v",
        params=(aspect_param(RATIOS_6), duration_param(DURATIONS, verified=False), seed_param()),
        price_usd=0.30,
        fixed_resolution="720P",
    ),
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path=f"{_WS}/text-to-video-1080p",
        label="Dreamina 3.0 · text-to-video 1080p",
        kind="t2v",
        params=(aspect_param(RATIOS_6), duration_param(DURATIONS, verified=False), seed_param()),
        price_usd=0.60,
        fixed_resolution="1080P",
    ),
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path=f"{_WS}/image-to-video-720p",
        label="Dreamina 3.0 · image-to-video 720p",
        kind="i2v",
        params=(duration_param(DURATIONS, verified=False), seed_param()),
        fixed_resolution="720P",
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="wavespeed",
        provider_label=LABEL,
        path=f"{_WS}/image-to-video-1080p",
        label="Dreamina 3.0 · image-to-video 1080p",
        kind="i2v",
        params=(duration_param(I2V_1080P_DURATIONS, verified=True), seed_param()),
        fixed_resolution="1080P",
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
)

# Documented: created, processing, completed, failed; the SDKs add pending, cancelled and
# timeout. `timeout` is WaveSpeed giving up on the job: it is over, as a failure.
STATES: dict[str, RemoteState] = {
    "created": "queued",
    "pending": "queued",
    "queued": "queued",
    "processing": "running",
    "running": "running",
    "completed": "succeeded",
    "succeeded": "succeeded",
    "failed": "failed",
    "timeout": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


def normalise_state(word: object) -> RemoteState:
    """The neutral state for a WaveSpeed status word; an unknown word means 'still running'."""
    return STATES.get(str(word or "").strip().lower(), "running")


class WaveSpeedProvider(HostedProvider, WaveSpeedMoney):
    """Talks to WaveSpeedAI's v3 API. `key` is the default key (None: every call must bring
    one); `request_timeout` bounds each upload and poll request (None: the client's own)."""

    name: ProviderName = NAME
    label = LABEL
    key_env = "WAVESPEED_API_KEY"

    def _data(
        self, response: httpx.Response, secret: Secret, fields: Mapping[str, str] | None = None
    ) -> Mapping[str, Any] | None:
        """The envelope's `data`; raises the classified error for an HTTP error or a
        `code` other than 200; None when the reply is not a readable envelope."""
        payload = parse_json(response)
        if response.status_code >= 400 or body_code(payload) is not None:
            raise classify_response(
                LABEL, response.status_code, payload, response.headers, key=secret, field_names=fields
            )
        if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), Mapping):
            return None
        data: Mapping[str, Any] = payload["data"]
        return data

    async def _send(
        self, method: str, path: str, secret: Secret, policy: RetryPolicy | None = None, **kwargs: Any
    ) -> httpx.Response:
        if self._request_timeout is not None:
            kwargs["timeout"] = self._request_timeout
        return await send_idempotent(
            self._client,
            method,
            f"{self._base}{path}",
            policy=policy or self._retry,
            sleep=self._sleep,
            headers=self._headers(secret),
            **kwargs,
        )

    async def upload(self, image: Path, key: Secret | None = None) -> str:
        """Upload a local image and return the URL WaveSpeed serves it from (kept 7 days).

        Retried like a poll: a second upload of the same file bills nothing.
        """
        secret = self._secret(key)
        data, mime = await asyncio.to_thread(read_image, image)
        filename = "image.png" if mime == "image/png" else "image.jpg"
        response = await self._send(
            "POST", "/api/v3/media/upload/binary", secret, files={"file": (filename, data, mime)}
        )
        body = self._data(response, secret)
        # The binary endpoint answers `download_url`; the older /upload variant `url`.
        url = next((body.get(n) for n in ("download_url", "url") if body and body.get(n)), None)
        if not isinstance(url, str):
            raise ProviderError("server", "WaveSpeedAI's image upload answered without a URL.")
        return url

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        """Upload the image (if any), POST the job once and return WaveSpeed's task id.

        Raises ValidationError before sending anything the model does not take; a
        ProviderError of a definite kind when WaveSpeed refused (nothing created); or
        `submit_unknown` when the job may exist (no answer, 502/504, unreadable reply).
        """
        secret = self._secret(key)
        body: dict[str, Any] = dict(wire_body(request, "wavespeed"))
        if request.spec.image_wire and request.image is not None:
            body[request.spec.image_wire] = await self.upload(request.image, secret)
        url = f"{self._base}/api/v3/{request.spec.path}"
        try:
            response = await self._client.post(
                url, json=body, headers=self._headers(secret), timeout=self._submit_timeout
            )
        except httpx.TransportError as exc:
            raise classify_submit_exception(LABEL, exc) from exc
        if response.status_code in (502, 504):
            # A gateway gave up waiting for WaveSpeed, which may have created the task.
            raise ProviderError(
                "submit_unknown", f"WaveSpeedAI's gateway answered HTTP {response.status_code} to the submit."
            )
        data = self._data(response, secret, wire_field_names(request))
        task_id = data.get("id") if data is not None else None
        if not isinstance(task_id, str) or not task_id.strip():
            raise ProviderError(
                "submit_unknown", "WaveSpeedAI accepted the submit but its reply had no task id."
            )
        return JobLocator(task_id.strip())

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        """The task's state from /predictions/{id}/result, with its video URL once done."""
        secret = self._secret(key)
        path = f"/api/v3/predictions/{quote(JobLocator.of(locator).request_id, safe='')}/result"
        response = await self._send("GET", path, secret, self._poll_retry)
        data = self._data(response, secret)
        if data is None:
            # A cut-off or garbled reply: a passing fault, so the caller may poll again.
            raise ProviderError(
                "server", f"WaveSpeedAI sent an unreadable reply (HTTP {response.status_code})."
            )
        return _status(data, secret)

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> CancelOutcome:
        """Always `not_cancellable`, without a request: WaveSpeed documents no cancel
        endpoint, so a submitted task runs to the end and is billed."""
        return "not_cancellable"


def _status(data: Mapping[str, Any], secret: Secret) -> ProviderStatus:
    word = str(data.get("status") or "").strip().lower()
    state = normalise_state(word)
    nsfw = _first(data.get("has_nsfw_contents"))
    timings = data.get("timings")
    # The model's run alone, on WaveSpeed's clock (no finish time is stated, so no queue time).
    seconds = milliseconds(timings.get("inference")) if isinstance(timings, Mapping) else None
    if state == "succeeded":
        url = _first(data.get("outputs"))
        if not isinstance(url, str) or not url:
            return ProviderStatus(
                state="failed",
                error=ProviderError("job_failed", "WaveSpeedAI reported success but sent no video URL."),
            )
        return ProviderStatus(
            state="succeeded",
            video_url=url,
            nsfw=nsfw if isinstance(nsfw, bool) else None,
            inference_seconds=seconds,
        )
    if state == "failed":
        text = provider_text({"error": data.get("error")}, secret)
        if word == "timeout":
            detail = "WaveSpeedAI stopped the job: it ran past WaveSpeed's time limit"
            error = ProviderError("timeout", f"{detail}: {truncate(text)}." if text else f"{detail}.")
        else:
            error = failed_job_error(LABEL, body_code({"code": data.get("code")}), text, key=secret)
        return ProviderStatus(state="failed", error=error, inference_seconds=seconds)
    return ProviderStatus(state=state)


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else None


def build(config: ProviderConfig) -> WaveSpeedProvider:
    return WaveSpeedProvider(config.base_url, config.key, poll_retry=SINGLE_TRY)


PROVIDER = ProviderInfo(
    name=NAME,
    label=LABEL,
    models=MODELS,
    build=build,
    key_env=("WAVESPEED_API_KEY",),
    env_prefix="WAVESPEED",
    default_base_url="https://api.wavespeed.ai",
    key_url="https://wavespeed.ai/accesskey",
    cancel="none",
    image_transport="upload",
    price_quotes=True,
    balance=True,
    key_check=True,
    # providers.md §6: "failed requests are refunded within about 3 hours".
    refunds_failed="WaveSpeedAI refunds failed requests (within about 3 hours).",
)
