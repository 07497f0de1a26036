"""The retry policy for idempotent requests: backoff, jitter, cap, Retry-After.

`send_idempotent` is exercised against a tiny scripted HTTP server on 127.0.0.1, so the
real httpx transport handles every status and every dropped connection.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from providers.base import ProviderError
from providers.http import RetryPolicy, left_after, make_client, parse_retry_after, send_idempotent


class FixedRandom(random.Random):
    """A random.Random whose random() returns a chosen value."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


LOW, HIGH = FixedRandom(0.0), FixedRandom(0.999999)


# --- RetryPolicy.delay -----------------------------------------------------------------------


def test_delay_doubles_from_base_without_jitter() -> None:
    policy = RetryPolicy(base=0.5, cap=100.0, jitter=0.25)
    assert [policy.delay(n, rng=LOW) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_jitter_adds_at_most_the_jitter_fraction() -> None:
    policy = RetryPolicy(base=1.0, cap=100.0, jitter=0.25)
    high = policy.delay(3, rng=HIGH)
    assert 4.0 < high < 5.0
    assert high == pytest.approx(4.0 * 1.25, rel=1e-5)


def test_jitter_spreads_real_random_delays_within_bounds() -> None:
    policy = RetryPolicy(base=1.0, cap=100.0, jitter=0.5)
    delays = {policy.delay(2) for _ in range(200)}
    assert all(2.0 <= d <= 3.0 for d in delays)
    assert len(delays) > 100  # clients spread out instead of retrying in lockstep


def test_delay_is_capped_even_for_late_attempts() -> None:
    policy = RetryPolicy(base=0.5, cap=20.0, jitter=0.25)
    assert policy.delay(30, rng=LOW) == 20.0
    assert policy.delay(30, rng=HIGH) <= 25.0


def test_retry_after_replaces_the_backoff() -> None:
    policy = RetryPolicy(base=0.5, cap=20.0)
    assert policy.delay(1, retry_after=7.0, rng=HIGH) == 7.0
    assert policy.delay(4, retry_after=0.0) == 0.0


def test_retry_after_is_bounded_and_never_negative() -> None:
    policy = RetryPolicy(max_retry_after=120.0)
    assert policy.delay(1, retry_after=86_400.0) == 120.0
    assert policy.delay(1, retry_after=-5.0) == 0.0


# --- parse_retry_after -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "seconds"), [("5", 5.0), (" 12 ", 12.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0)]
)
def test_retry_after_in_seconds(raw: str, seconds: float) -> None:
    assert parse_retry_after(raw) == seconds


def test_retry_after_as_http_date_is_seconds_from_now() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)  # e.g. "Tue, 14 Nov 2023 22:13:50 GMT"
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)


def test_retry_after_date_in_the_past_means_now() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now - 600, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("raw", [None, "", "   ", "soon", "Tomorrow at noon"])
def test_missing_or_garbled_retry_after_is_none(raw: str | None) -> None:
    assert parse_retry_after(raw) is None


# --- send_idempotent against a scripted server ------------------------------------------------


@dataclass
class ScriptedServer:
    """Answers request N with script[N]: (status, headers) or "drop" (close, no answer)."""

    script: list[tuple[int, dict[str, str]] | str]
    hits: int = 0
    url: str = ""
    seen: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.seen.append(head.split(b"\r\n", 1)[0].decode())
        step = self.script[min(self.hits, len(self.script) - 1)]
        self.hits += 1
        if step == "drop":
            writer.close()
            return
        assert not isinstance(step, str)
        status, headers = step
        body = b'{"ok": true}'
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer(script=[(200, {})])
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}/v1/thing"
    async with listener:
        yield server


class SleepLog:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_retries_429_honouring_retry_after_then_succeeds(scripted: ScriptedServer) -> None:
    scripted.script = [(429, {"Retry-After": "3"}), (429, {"Retry-After": "1"}), (200, {})]
    sleep = SleepLog()
    async with make_client() as client:
        response = await send_idempotent(client, "GET", scripted.url, policy=RetryPolicy(), sleep=sleep)
    assert response.status_code == 200
    assert scripted.hits == 3
    assert sleep.delays == [3.0, 1.0]


async def test_retries_5xx_with_growing_backoff(scripted: ScriptedServer) -> None:
    scripted.script = [(503, {}), (500, {}), (502, {}), (200, {})]
    sleep = SleepLog()
    policy = RetryPolicy(attempts=5, base=0.01, cap=1.0, jitter=0.0)
    async with make_client() as client:
        response = await send_idempotent(client, "GET", scripted.url, policy=policy, sleep=sleep)
    assert response.status_code == 200
    assert sleep.delays == [0.01, 0.02, 0.04]


async def test_gives_back_the_last_error_response_when_tries_run_out(scripted: ScriptedServer) -> None:
    scripted.script = [(503, {})]
    sleep = SleepLog()
    async with make_client() as client:
        response = await send_idempotent(
            client, "GET", scripted.url, policy=RetryPolicy(attempts=3, base=0.01), sleep=sleep
        )
    assert response.status_code == 503
    assert scripted.hits == 3
    assert len(sleep.delays) == 2


async def test_does_not_retry_client_errors(scripted: ScriptedServer) -> None:
    scripted.script = [(404, {}), (200, {})]
    async with make_client() as client:
        response = await send_idempotent(client, "GET", scripted.url, sleep=SleepLog())
    assert response.status_code == 404
    assert scripted.hits == 1


async def test_recovers_from_a_dropped_connection(scripted: ScriptedServer) -> None:
    scripted.script = ["drop", (200, {})]
    async with make_client() as client:
        response = await send_idempotent(
            client, "POST", scripted.url, policy=RetryPolicy(base=0.01), sleep=SleepLog()
        )
    assert response.status_code == 200
    assert scripted.seen == ["POST /v1/thing HTTP/1.1"] * 2


async def test_connection_failures_on_every_try_raise_a_network_error(scripted: ScriptedServer) -> None:
    scripted.script = ["drop"]
    async with make_client() as client:
        with pytest.raises(ProviderError) as info:
            await send_idempotent(
                client, "GET", scripted.url, policy=RetryPolicy(attempts=4, base=0.01), sleep=SleepLog()
            )
    assert info.value.kind == "network"
    assert info.value.retryable
    assert "4 tries" in info.value.message
    assert scripted.hits == 4


async def test_refused_connection_raises_a_network_error() -> None:
    # Bind and close a socket to get a port nobody listens on.
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with httpx.AsyncClient() as client:
        with pytest.raises(ProviderError) as info:
            await send_idempotent(
                client, "GET", f"http://127.0.0.1:{port}/", policy=RetryPolicy(attempts=2), sleep=SleepLog()
            )
    assert info.value.kind == "network"
    assert "127.0.0.1" in info.value.message


def test_blocking_clients_share_one_tls_context_that_verifies_servers() -> None:
    import ssl

    from providers.http import make_blocking_client, tls_context

    context = tls_context()
    assert context is tls_context(), "the CA bundle is loaded once"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0
    with make_blocking_client() as client:
        assert client.headers["User-Agent"].startswith("dreamina-studio/")


async def test_left_after_tells_when_a_request_held_back_by_its_pool_left() -> None:
    """The engine times a poll from when its request was written (providers/http.TRACED), not
    from the call: here the one connection is busy for 0.3 s, so the second request waits."""
    slow_started = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b" /slow " in head.split(b"\r\n", 1)[0]:
            slow_started.set()
            await asyncio.sleep(0.3)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    async with listener, make_client(max_connections=1) as client:
        slow = asyncio.create_task(send_idempotent(client, "GET", f"{base}/slow"))
        await slow_started.wait()
        called = time.monotonic()
        await send_idempotent(client, "GET", f"{base}/quick")  # waits for the one connection
        held = left_after(called)
        await slow
        called = time.monotonic()
        await send_idempotent(client, "GET", f"{base}/quick")
        prompt = left_after(called)
    assert held >= 0.2
    assert prompt < 0.1
    assert left_after(time.monotonic()) == 0.0  # nothing sent since: no time to tell
