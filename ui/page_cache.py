"""The page (GET /), its config (GET /config) and its theme's stylesheet (GET
/theme.css?v=<the theme's hash>) kept as Gradio answered them, and answered again from memory.

Gradio builds both again for every request on a worker thread: a deep copy of the whole
config (up to 224 blocks, 70 events, five languages' texts), the root URL written into every file
reference, the API description with code snippets for each named endpoint, then the page
template: 35-40 ms of CPU a fresh page here, holding the GIL the event loops need. Without
a password login the answer is the same bytes for every visitor, and depends on the request
only through where the page is served from (ui/gradio_internals.PAGE_VARIES_BY); so the
answer is kept by those, for a GET without a query (a deep link or another page goes to
Gradio). With a password login the page carries the signed-in user's name: nothing is kept.
The stylesheet's URL names its content, so it is also marked cacheable for good (VERSIONED).

It sits inside the gate, which still gives each visitor its cookie, and inside the
compressor, which keeps its own compressed copy (ui/compress_off_loop.py). Only a whole 200
answer in one body that sets no cookie is kept; the last KEPT are, by their key (a client
can make up any Host header: the memory stays bounded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.gradio_internals import PAGE_VARIES_BY
from ui.recent import Recent

PATHS = ("/", "/config")
# Gradio names the theme's hash in the page's link to its stylesheet (?v=...): that URL's
# answer never changes, so it is kept and marked cacheable for good (Gradio sends no
# cache-control, and a returning visitor's browser asked for it on every page).
VERSIONED = ("/theme.css",)
VERSION_QUERY = re.compile(rb"v=[0-9a-f]{8,128}")
IMMUTABLE = (b"cache-control", b"public, max-age=31536000, immutable")
KEPT = 8

Key = tuple[object, ...]


class PageCache:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(
        self, app: ASGIApp, *, paths: Iterable[str] = PATHS, versioned: Iterable[str] = VERSIONED
    ) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.versioned = frozenset(versioned)
        self._kept: Recent[Key, tuple[Message, Message]] = Recent(KEPT)

    def key(self, scope: Scope) -> Key | None:
        """What the answer to this request depends on, or None when it is not kept."""
        if scope["type"] != "http" or scope.get("method") != "GET":
            return None
        path, query = scope.get("path", ""), scope.get("query_string", b"")
        if path in self.versioned:
            if not VERSION_QUERY.fullmatch(query):
                return None
        elif path not in self.paths or query:
            return None
        headers = [(name.lower(), value) for name, value in scope.get("headers", [])]
        varies = tuple(tuple(value for name, value in headers if name == wanted) for wanted in PAGE_VARIES_BY)
        server = tuple(scope.get("server") or ())
        return (path, query, scope.get("scheme"), server, scope.get("root_path", ""), varies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        kept = self._kept.get(key)
        if kept is not None:
            start, body = kept
            await send(_copy(start))  # a middleware outside may change the headers it is sent
            return await send(body)
        sent: list[Message] = []
        versioned = key[0] in self.versioned

        async def keep(message: Message) -> None:
            if versioned and message["type"] == "http.response.start" and message.get("status") == 200:
                message = {**message, "headers": [*message.get("headers", []), IMMUTABLE]}
            sent.append(_copy(message))
            await send(message)

        await self.app(scope, receive, keep)
        if _whole_page(sent):
            self._kept.put(key, (sent[0], sent[1]))


def _copy(message: Message) -> Message:
    if "headers" not in message:
        return message
    return {**message, "headers": list(message["headers"])}


def _whole_page(sent: list[Message]) -> bool:
    if len(sent) != 2 or sent[0]["type"] != "http.response.start" or sent[0].get("status") != 200:
        return False
    if sent[1]["type"] != "http.response.body" or sent[1].get("more_body", False):
        return False
    return not any(name.lower() == b"set-cookie" for name, _ in sent[0].get("headers", []))


def middleware() -> Middleware:
    """For launch(app_kwargs={"middleware": [...]}), after the gate (see the docstring)."""
    return Middleware(PageCache)  # type: ignore[arg-type]
