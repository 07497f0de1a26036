"""Large page responses (the page's HTML with its config, /config, the API's description, a
long event answer) compressed, on a worker thread.

Gradio 6.31's BrotliMiddleware decides by the path's extension, so it never compresses GET /
(the studio's page is 360 KB of HTML: its config is embedded in it) or /config (314 KB, read by
every API client); it compresses on the event loop what it does compress. This middleware,
inside Gradio's, compresses a whole (not streamed) 200 response of one of those types of at
least MIN_BYTES, for a GET, in the encoding the client prefers (Brotli at Gradio's quality, or
gzip), on a worker thread (Brotli and zlib let go of the GIL while they work), and marks it
encoded, which Gradio's middleware passes on untouched: the page arrives as 57 KB instead of
360 KB, at no cost to the event loop. The same body again (the page and its config are the
same bytes for every visitor until the app changes) is compressed once: the last few results
are kept, found by a digest of the body (or, for the very same bytes object again, as the page
cache sends it, on the loop without a thread trip). Everything else (streams, small or already encoded
answers, errors, other methods) goes through exactly as before.
"""

from __future__ import annotations

import hashlib
import threading

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui import http_encoding
from ui.http_encoding import accepted
from ui.recent import Recent

MIN_BYTES = 16 * 1024  # below this the loop compresses faster than a thread hop costs
BROTLI_QUALITY = 4  # Gradio's own, so the bytes sent are as before
KEPT = 16  # compressed bodies kept for the same body again (the page, its config, the API info)
MEDIA_TYPES = ("text/html", "application/json", "text/css", "text/javascript", "application/javascript")


def compress(body: bytes, encoding: str) -> bytes:
    """`body` in `encoding` (br or gzip), Brotli at Gradio's quality."""
    return http_encoding.compress(body, encoding, BROTLI_QUALITY)


class RecentlyCompressed:
    """compress(), remembering the last KEPT results by the body's digest, and by the body
    object itself (`sent_before`). Thread-safe: it is called on worker threads."""

    def __init__(self) -> None:
        self._kept: Recent[tuple[bytes, str], bytes] = Recent(KEPT)
        # (id of a body, encoding) -> (that body, its result); the body is held so its id
        # cannot be reused by another object while the entry lives
        self._by_object: Recent[tuple[int, str], tuple[bytes, bytes]] = Recent(KEPT)
        self._lock = threading.Lock()

    def sent_before(self, body: bytes, encoding: str) -> bytes | None:
        """The result for this very bytes object, if it was compressed before: the page
        cache (ui/page_cache.py) sends the same object every time, found here on the event
        loop without a digest of it or a trip to a worker thread."""
        with self._lock:
            entry = self._by_object.get((id(body), encoding))
        return entry[1] if entry is not None and entry[0] is body else None

    def __call__(self, body: bytes, encoding: str) -> bytes:
        key = (hashlib.blake2b(body, digest_size=16).digest(), encoding)
        with self._lock:
            made = self._kept.get(key)
        if made is None:
            made = compress(body, encoding)
        with self._lock:
            self._kept.put(key, made)
            self._by_object.put((id(body), encoding), (body, made))
        return made


class CompressOffLoop:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, skip_prefix: str | None = None) -> None:
        self.app = app
        self.skip_prefix = skip_prefix  # paths answered encoded further in (the frontend files)
        self.compressed = RecentlyCompressed()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or (self.skip_prefix and scope.get("path", "").startswith(self.skip_prefix))
        ):
            return await self.app(scope, receive, send)
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-encoding"), "")
        encoding = accepted(header, ("br", "gzip")) if header else None
        if encoding is None:
            return await self.app(scope, receive, send)
        await self.app(scope, receive, _Responder(send, encoding, self.compressed).send)


class _Responder:
    """One response's send: holds the start until the first body shows whether to compress."""

    def __init__(self, send: Send, encoding: str, compressed: RecentlyCompressed) -> None:
        self._send = send
        self._encoding = encoding
        self._compressed = compressed
        self._start: Message | None = None
        self._decided = False

    async def send(self, message: Message) -> None:
        if self._decided:
            return await self._send(message)
        if message["type"] == "http.response.start":
            self._start = message
            return None
        self._decided = True
        start = self._start
        assert start is not None, "a response body before its start"
        body = message.get("body", b"")
        if message.get("more_body", False) or len(body) < MIN_BYTES or not self._compressible(start):
            await self._send(start)
            return await self._send(message)
        encoded = self._compressed.sent_before(body, self._encoding)
        if encoded is None:
            encoded = await anyio.to_thread.run_sync(self._compressed, body, self._encoding)
        headers = MutableHeaders(raw=start["headers"])
        headers["content-encoding"] = self._encoding
        headers["content-length"] = str(len(encoded))
        headers.add_vary_header("Accept-Encoding")
        await self._send(start)
        await self._send({"type": "http.response.body", "body": encoded})

    @staticmethod
    def _compressible(start: Message) -> bool:
        if start.get("status") != 200:
            return False
        names = {key.lower(): value for key, value in start.get("headers", [])}
        media_type = names.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        return b"content-encoding" not in names and media_type in MEDIA_TYPES


def middleware(skip_prefix: str | None = None) -> Middleware:
    """For launch(app_kwargs={"middleware": [...]}), before the gate: the gate adds its script
    to the uncompressed login page. Paths under `skip_prefix` go straight through."""
    return Middleware(CompressOffLoop, skip_prefix=skip_prefix)  # type: ignore[arg-type]
