"""KeyHub: an invented hosted provider, written the way docs/architecture.md ("How to add
a provider") says. Its API differs from the built-in ones on purpose:

- the key goes in `Authorization: Key <key>` (not Bearer);
- the submit reply names the URL to poll (`status_url`), which cannot be derived from the
  request id, so the adapter keeps it in the job's locator;
- its one model has an on/off option (`enhance_prompt`) no built-in model has;
- it has no cancel endpoint.

Submit: POST {base}/v1/run/{model path} -> {"request_id", "status_url"}.
Poll: GET {status_url} -> {"status": IN_QUEUE | IN_PROGRESS | COMPLETED | FAILED,
"queue_position", "video": {"url"}, "error"}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from providers.base import CancelOutcome, JobLocator, ProviderError, ProviderStatus, Secret, SubmitRequest
from providers.catalog import RATIOS_6, ModelSpec, ParamSpec, aspect_param, seed_param, to_wire
from providers.errors import classify_response, classify_submit_exception, parse_json
from providers.hosted import HostedProvider
from providers.http import SINGLE_TRY, send_idempotent
from providers.registry import ProviderConfig, ProviderInfo

NAME = "keyhub"
LABEL = "KeyHub"
KEY_ENV = "KEYHUB_API_KEY"

ENHANCE = ParamSpec(
    name="enhance_prompt",
    wire="enhance_prompt",
    type=bool,
    default=False,
    label="Enhance prompt",
    help="Let KeyHub rewrite the prompt with more detail before rendering.",
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider=NAME,
        provider_label=LABEL,
        path="dreamina-3-0/text-to-video",
        label="Dreamina 3.0 · text-to-video (KeyHub)",
        kind="t2v",
        params=(aspect_param(RATIOS_6), ENHANCE, seed_param()),
        price_usd=0.25,
        fixed_resolution="720P",
        fixed_seconds=5.0,
    ),
)

STATES = {"IN_QUEUE": "queued", "IN_PROGRESS": "running", "COMPLETED": "succeeded", "FAILED": "failed"}


class KeyHubProvider(HostedProvider):
    name = NAME
    label = LABEL
    key_env = KEY_ENV

    @staticmethod
    def _headers(secret: Secret) -> dict[str, str]:
        return {"Authorization": f"Key {secret.reveal()}", "Accept": "application/json"}

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        secret = self._secret(key)
        body = to_wire(request.spec, request.prompt, request.options)
        try:
            response = await self._client.post(
                f"{self._base}/v1/run/{request.spec.path}",
                json=body,
                headers=self._headers(secret),
                timeout=self._submit_timeout,
            )
        except httpx.TransportError as exc:
            raise classify_submit_exception(LABEL, exc) from exc
        payload = parse_json(response)
        if response.status_code >= 400:
            raise classify_response(LABEL, response.status_code, payload, response.headers, key=secret)
        if not isinstance(payload, Mapping) or not payload.get("request_id") or not payload.get("status_url"):
            raise ProviderError("submit_unknown", "KeyHub accepted the submit but its reply had no status URL.")
        return JobLocator(str(payload["request_id"]), {"status_url": str(payload["status_url"])})

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        secret = self._secret(key)
        url = JobLocator.of(locator).get("status_url")
        if not url:
            raise ProviderError("not_found", "KeyHub job has no status URL.")
        response = await send_idempotent(
            self._client, "GET", url, policy=self._poll_retry, sleep=self._sleep, headers=self._headers(secret)
        )
        payload: Any = parse_json(response)
        if response.status_code >= 400 or not isinstance(payload, Mapping):
            raise classify_response(LABEL, response.status_code, payload, response.headers, key=secret)
        state = STATES.get(str(payload.get("status")), "running")
        if state == "succeeded":
            video = payload.get("video")
            url = video.get("url") if isinstance(video, Mapping) else None
            return ProviderStatus(state="succeeded", video_url=url if isinstance(url, str) else None)
        if state == "failed":
            return ProviderStatus(state="failed", error=ProviderError("job_failed", str(payload.get("error") or "")))
        position = payload.get("queue_position")
        return ProviderStatus(state=state, queue_position=position if isinstance(position, int) else None)  # type: ignore[arg-type]

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> CancelOutcome:
        return "not_cancellable"  # KeyHub has no cancel endpoint


def build(config: ProviderConfig) -> KeyHubProvider:
    return KeyHubProvider(config.base_url, config.key, poll_retry=SINGLE_TRY)


PROVIDER = ProviderInfo(
    name=NAME,
    label=LABEL,
    models=MODELS,
    build=build,
    key_env=(KEY_ENV,),
    env_prefix="KEYHUB",
    default_base_url="https://api.keyhub.invalid",
    key_url="https://keyhub.invalid/keys",
    cancel="none",
    image_transport="upload",
)
