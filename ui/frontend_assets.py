"""Gradio's frontend code (the scripts, stylesheets and fonts under /assets/ that every page
loads) served from memory, each file read and compressed once.

Gradio 6.31 answers each of these requests with a FileResponse (no cache-control header, so a
browser asks again) and its BrotliMiddleware compresses every script and stylesheet again,
on the event loop, for every request: about 200 ms of Gradio's loop per new visitor's page
(70-odd files, 7 MB before compression). This middleware sits inside Gradio's middleware (a
response that already has a content-encoding passes Gradio's compression untouched) and
answers GET and HEAD for a file lying directly in Gradio's build folder: read and compressed
on a worker thread the first time it is asked for (Brotli, gzip, or as it is), then sent from
memory with an ETag; a name carrying its content's hash (Vite names every built file so) is
cacheable for a year, so a returning visitor asks for none of them again.

Everything else goes on to Gradio unchanged: other paths, names not in the folder (Gradio's
own 404 or refusal), range requests, other methods, and a client accepting no encoding held
here. Memory: at most every file of the folder once per encoding asked for (about 30 MB if a
client asked for all ~900 files in every encoding; a page uses about 70).
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.http_encoding import accepted, compress

# 6 makes scripts about 10% smaller than Gradio's 4 for 1.7x its time (once per file); 9 takes
# 2.5x as long again for 2% less, and 11 fifty times as long.
BROTLI_QUALITY = 6
# The types Gradio's own middleware compresses; fonts (woff2 already compressed) go as they are.
COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".map", ".html", ".txt"}
PREFERENCE = ("br", "gzip", "identity")
# Vite's output names: <name>-<8-character content hash>[n].<ext>
HASHED_NAME = re.compile(r"-[A-Za-z0-9_-]{8}\d*\.[A-Za-z0-9]+$")
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


@dataclass(frozen=True)
class Encoded:
    """One file in one encoding, as sent: its bytes, its entity tag and its media type."""

    body: bytes
    etag: str
    media_type: str


def encode(path: Path, encoding: str) -> Encoded:
    """The file at `path` in `encoding` (br, gzip or identity). Reads the disk and compresses:
    call it on a worker thread."""
    raw = path.read_bytes()
    body = compress(raw, encoding, BROTLI_QUALITY)
    digest = hashlib.blake2b(raw, digest_size=10).hexdigest()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/"):  # as Starlette's FileResponse says it
        media_type += "; charset=utf-8"
    return Encoded(body, f'"{digest}-{encoding}"', media_type)


def _names_compression(headers: dict[bytes, str]) -> bool:
    value = headers.get(b"accept-encoding", "").lower()
    return "br" in value or "gzip" in value


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks)."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class PrecompressedAssets:
    """The ASGI middleware (see the module's docstring). `folder` is Gradio's build folder,
    served under `prefix` (a path ending in a slash)."""

    def __init__(self, app: ASGIApp, *, folder: Path, prefix: str) -> None:
        self.app = app
        self.folder = folder
        self.prefix = prefix
        self._names: frozenset[str] | None = None
        self._made: dict[tuple[str, str], asyncio.Future[Encoded]] = {}

    @property
    def names(self) -> frozenset[str]:
        """The files directly in the folder (read once: the build folder is a package's)."""
        if self._names is None:
            try:
                with os.scandir(self.folder) as entries:
                    self._names = frozenset(e.name for e in entries if e.is_file())
            except OSError:
                self._names = frozenset()
        return self._names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self._asset_name(scope)
        if name is None:
            return await self.app(scope, receive, send)
        headers = {key: value.decode("latin-1") for key, value in scope.get("headers", [])}
        if b"range" in headers:
            return await self.app(scope, receive, send)
        compressible = os.path.splitext(name)[1].lower() in COMPRESSIBLE
        encoding = accepted(
            headers.get(b"accept-encoding", ""), PREFERENCE if compressible else ("identity",)
        )
        if encoding is None or (encoding == "identity" and compressible and _names_compression(headers)):
            # Gradio's compression reads "br" anywhere in the header (br;q=0 too): let it answer
            return await self.app(scope, receive, send)
        try:
            encoded = await self._encoded(name, encoding)
        except OSError:  # gone since the folder was listed: Gradio answers
            return await self.app(scope, receive, send)
        not_modified = b"if-none-match" in headers and etag_matches(headers[b"if-none-match"], encoded.etag)
        await send(self._start(name, encoding, encoded, compressible, not_modified))
        body = b"" if scope["method"] == "HEAD" or not_modified else encoded.body
        await send({"type": "http.response.body", "body": body})

    def _asset_name(self, scope: Scope) -> str | None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return None
        path: str = scope.get("path", "")
        root = scope.get("root_path") or ""
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        if not path.startswith(self.prefix):
            return None
        name = path[len(self.prefix) :]
        return name if name in self.names else None

    async def _encoded(self, name: str, encoding: str) -> Encoded:
        """The file in that encoding, made once: requests arriving while it is made wait for
        the same result, and a request that goes away does not cancel it for the others."""
        key = (name, encoding)
        future = self._made.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._made[key] = loop.run_in_executor(None, encode, self.folder / name, encoding)
        try:
            return await asyncio.shield(future)
        except OSError:
            self._made.pop(key, None)
            raise

    def _start(
        self, name: str, encoding: str, encoded: Encoded, compressible: bool, not_modified: bool
    ) -> Message:
        headers = [
            (b"etag", encoded.etag.encode()),
            (b"cache-control", IMMUTABLE if HASHED_NAME.search(name) else REVALIDATE),
        ]
        if compressible:
            headers.append((b"vary", b"Accept-Encoding"))
        if not not_modified:
            headers += [
                (b"content-type", encoded.media_type.encode()),
                (b"content-length", str(len(encoded.body)).encode()),
            ]
            if encoding != "identity":
                headers.append((b"content-encoding", encoding.encode()))
        return {"type": "http.response.start", "status": 304 if not_modified else 200, "headers": headers}


def middleware(folder: Path, prefix: str) -> Middleware:
    """For launch(app_kwargs={"middleware": [...]}), after the gate: serves Gradio's frontend
    code in `folder` under `prefix` (ui/gradio_internals.frontend_code)."""
    return Middleware(PrecompressedAssets, folder=folder, prefix=prefix)  # type: ignore[arg-type]
