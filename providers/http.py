"""One place for HTTP behaviour: client timeouts, and retries for idempotent requests.

Submits (paid POSTs) never go through `send_idempotent`: neither provider has an
idempotency key, so a retried submit can bill twice.

Each request has exactly one retry layer. An upload, a cancel, a quote or a key check
retries here (`RetryPolicy`); a poll inside the studio is a single request (SINGLE_TRY),
because the engine's watcher owns its retries (jobs/polling.POLL_RETRY); a download retries
in jobs/download.py. Nothing retries a retried request.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import os
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from providers.base import ProviderError

# One line per retry (what, why, wait), in the format of jobs/oplog.py; never a URL's query
# or a header, which may hold a token.
retry_log = logging.getLogger("studio.retry")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Connection-level faults that are safe to retry for a request that changes nothing.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TransportError,  # connect/read/write errors, timeouts, resets, protocol errors
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped, jittered exponential backoff that honours a server's Retry-After."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 20.0
    jitter: float = 0.25  # fraction of the delay added at random, so clients spread out
    max_retry_after: float = 120.0

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.cap, self.base * (2 ** (attempt - 1)))
        return backoff * (1 + self.jitter * (rng or random).random())


# One request and no retry: for a caller that owns the retries (jobs/watcher.py's polls).
SINGLE_TRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


USER_AGENT = "dreamina-studio/0.1"


def make_client(
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, *, max_connections: int = 100
) -> httpx.AsyncClient:
    """An AsyncClient with explicit timeouts on every phase, so no request hangs forever."""
    return httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        verify=tls_context(),
    )


def make_blocking_client(timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> httpx.Client:
    """The same, blocking: for one long transfer on its own thread (jobs/download.py)."""
    return httpx.Client(
        timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}, verify=tls_context()
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle httpx would load (SSL_CERT_FILE/SSL_CERT_DIR, else certifi's), loaded
    once for every client the studio makes: it costs ~20 ms each time otherwise."""
    import certifi

    return ssl.create_default_context(
        cafile=os.environ.get("SSL_CERT_FILE") or certifi.where(), capath=os.environ.get("SSL_CERT_DIR")
    )


Sleep = Callable[[float], Awaitable[None]]

# When this task's latest traced request had its headers written (time.monotonic()), as
# httpx's trace extension reports it. A request can leave long after it was called for: its
# turn for a connection and every step of writing it wait on the event loop, which is busy
# when many jobs end at once (seen: 0.4 s with 128 at once). The engine's watcher reads it
# after a poll (`left_after`): a poll held back that long is not timed by its call.
_headers_written: ContextVar[float | None] = ContextVar("studio_headers_written", default=None)


async def _note_headers_written(name: str, info: Mapping[str, Any]) -> None:
    if name.endswith(".send_request_headers.started"):
        _headers_written.set(time.monotonic())


# Request extensions that record when the request leaves (pass as `extensions=`).
TRACED: dict[str, Any] = {"trace": _note_headers_written}


def left_after(called: float) -> float:
    """Seconds from `called` (a time.monotonic() taken in this task before a poll) until the
    latest request it sent with TRACED extensions was written: when the provider was asked.
    0.0 when none was written since (a provider that sends nothing)."""
    written = _headers_written.get()
    return written - called if written is not None and written >= called else 0.0


async def send_idempotent(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Sleep = asyncio.sleep,
    **kwargs: object,
) -> httpx.Response:
    """Send a request that is safe to repeat (a GET, a poll, a download, a cancel).

    Retries on 429, 5xx and transport errors, up to `policy.attempts` tries in all; each try
    is TRACED (`left_after`). Returns the last response (the caller classifies its status), or raises
    ProviderError('network') when every try failed at the transport level.
    """
    last_exc: Exception | None = None
    kwargs.setdefault("extensions", TRACED)
    for attempt in range(1, policy.attempts + 1):
        try:
            response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except RETRY_EXCEPTIONS as exc:
            last_exc = exc
            if attempt == policy.attempts:
                break
            wait = policy.delay(attempt)
            _log_retry(method, url, type(exc).__name__, attempt, policy.attempts, wait)
            await sleep(wait)
            continue
        if response.status_code in RETRY_STATUSES and attempt < policy.attempts:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            await response.aclose()
            wait = policy.delay(attempt, retry_after)
            _log_retry(method, url, f"HTTP {response.status_code}", attempt, policy.attempts, wait)
            await sleep(wait)
            continue
        return response
    raise ProviderError(
        "network",
        f"No answer from {httpx.URL(url).host} after {policy.attempts} tries ({type(last_exc).__name__}).",
    )


def _log_retry(method: str, url: str, why: str, attempt: int, attempts: int, wait: float) -> None:
    target = httpx.URL(url)
    retry_log.info(
        "retry: %s %s%s (try %d of %d) · %s · next try in %.1fs",
        method,
        target.host,
        target.path[:60],
        attempt + 1,
        attempts,
        why,
        wait,
    )
