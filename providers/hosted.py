"""What the two hosted adapters share: base URL, default key, HTTP client, retry policy,
timeouts, and how a key becomes an Authorization header (and nothing else).
"""

from __future__ import annotations

import asyncio

import httpx

from providers.base import ProviderError, ProviderName, Secret, Words
from providers.http import RetryPolicy, Sleep, make_client

DEFAULT_RETRY = RetryPolicy()  # frozen, so one shared default is safe


class HostedProvider:
    """Base of RunComfyProvider and WaveSpeedProvider. `key` is the default key (None: every
    call must bring one); `request_timeout` bounds each idempotent request (None: the
    client's own timeouts, which make_client sets on every phase). `retry` is the retry
    policy of its idempotent requests; `poll_retry` that of a poll's (None: `retry`, for a
    caller polling on its own). The studio builds its adapters with
    poll_retry=SINGLE_TRY: its watcher owns poll retries (providers/http.py's one layer)."""

    name: ProviderName
    label: str  # the provider's name in messages
    key_env: str  # the environment variable that holds its key

    def __init__(
        self,
        base_url: str,
        key: Secret | None,
        *,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        poll_retry: RetryPolicy | None = None,
        submit_timeout: float = 60.0,
        request_timeout: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = key if key else None
        self._own_client = client is None
        self._client = client or make_client()
        self._retry = retry
        self._poll_retry = retry if poll_retry is None else poll_retry
        self._sleep = sleep
        self._submit_timeout = httpx.Timeout(submit_timeout, connect=min(submit_timeout, 10.0))
        self._request_timeout = None if request_timeout is None else httpx.Timeout(request_timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base!r}, key={'set' if self._key else 'none'})"

    def has_key(self) -> bool:
        return self._key is not None

    def _secret(self, key: Secret | None) -> Secret:
        secret = key if key else self._key
        if secret is None:
            raise ProviderError(
                "auth",
                Words(
                    f"No {self.label} API key: set {self.key_env} or enter a key in the API keys tab.",
                    "no_key",
                    {"provider": self.label, "env": self.key_env},
                ),
            )
        return secret

    @staticmethod
    def _headers(secret: Secret) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret.reveal()}", "Accept": "application/json"}

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()
