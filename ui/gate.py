"""The studio's guard in front of Gradio's routes (an ASGI middleware, installed through
launch's public `app_kwargs`): what Gradio itself does not check for a public deployment.

- Public demo: gives each browser a signed visitor cookie (ui/visitor_id.py).
- `POST /login`: throttles password guessing (ui/login_throttle.py), logging each refusal
  with the address and a fingerprint of the user name, never the password.
- `POST /gradio_api/upload`: refuses a file over the size limit with a clear message and,
  on a public demo, caps each visitor's uploads in flight and per hour (ui/upload_limits.py).
- `GET /gradio_api/file=…`: a studio media file only for the viewer it was issued to
  (ui/media_links.py); `GET /studio-media/…`: the API's signed media URLs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.middleware import Middleware
from starlette.responses import FileResponse

from jobs.settings import Settings
from ui import gradio_internals, login_page, visitor_id
from ui.client_address import client_address
from ui.login_throttle import LoginThrottle
from ui.media_links import ROUTE, MediaLinks, is_media_name
from ui.owners import BROWSER_PREFIX
from ui.upload_limits import UploadLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("studio.gate")
LOGIN_BODY_LIMIT = 64 * 1024
FILE_ROUTE = "/gradio_api/file="


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]


@dataclass
class Guard:
    """The state the gate keeps (in memory): issued media links, login failures, uploads.
    One per app, built by app.py and passed to both build_demo (the page's handlers issue
    links through `links`) and launch_options (the middleware checks them)."""

    settings: Settings
    links: MediaLinks = field(init=False)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    uploads: UploadLimits = field(init=False)

    def __post_init__(self) -> None:
        self.links = MediaLinks(self.settings)
        self.uploads = UploadLimits(self.settings.uploads_in_flight, self.settings.uploads_per_hour)

    def middleware(self) -> Middleware:
        """For launch(app_kwargs={"middleware": [...]}): Gradio passes app_kwargs to FastAPI."""
        return Middleware(StudioGate, guard=self)  # type: ignore[arg-type]


class StudioGate:
    def __init__(self, app: ASGIApp, *, guard: Guard) -> None:
        self.app = app
        self.settings = guard.settings
        self.links = guard.links
        self.throttle = guard.throttle
        self.uploads = guard.uploads

    @property
    def secret(self) -> bytes:
        return visitor_id.studio_secret(self.settings.data_dir)

    def address(self, scope: Scope) -> str | None:
        peer = (scope.get("client") or (None, None))[0]
        return client_address(peer, _headers(scope, b"x-forwarded-for"), self.settings.trusted_proxies)

    def viewer(self, scope: Scope, cookies: dict[str, str]) -> str | None:
        """Who a plain request comes from, as media_links.viewer_for names owners."""
        user = gradio_internals.password_user_in_scope(scope, cookies) or gradio_internals.oauth_user_in_scope(
            scope
        )
        if user:
            return user
        if self.settings.public:
            visitor = visitor_id.from_cookies(self.secret, cookies)
            return BROWSER_PREFIX + visitor if visitor else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = visitor_id.parse_cookie_header("; ".join(_headers(scope, b"cookie")))
        if self.settings.public and not visitor_id.from_cookies(self.secret, cookies):
            token = visitor_id.issue(self.secret)
            cookies[visitor_id.COOKIE_LAX] = token
            # The handlers of this very request see the new visitor, and the browser keeps it.
            scope["headers"] = [
                *[(k, v) for k, v in scope.get("headers", []) if k != b"cookie"],
                (b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode("latin-1")),
            ]
            send = _with_cookies(send, visitor_id.set_cookie_headers(token))
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if (
            method == "GET"
            and path.rstrip("/") == ""
            and self.settings.auth
            and not gradio_internals.password_user_in_scope(scope, cookies)
        ):
            # Gradio's login page: shows the throttle's refusals (ui/login_page.py).
            await self.app(scope, receive, _with_login_script(send))
        elif method == "POST" and path.rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
        elif method == "POST" and path.rstrip("/").endswith("/gradio_api/upload"):
            await self._upload(scope, receive, send)
        elif method in ("GET", "HEAD") and FILE_ROUTE in path and _own_media_url(path):
            # gradio_client fetches a returned file as file=<its path>; the generate
            # endpoints return the signed URL as the path (never a server path), so it
            # is served here, by its signature, and never fetched over the network.
            await self._media(scope, receive, send, cookies, _own_media_url(path))
        elif method in ("GET", "HEAD") and FILE_ROUTE in path:
            name = Path(path.split(FILE_ROUTE, 1)[1]).name
            if self._media_path(path.split(FILE_ROUTE, 1)[1]) or (
                is_media_name(name) and not self.links.allows(self.viewer(scope, cookies), name)
            ):
                await _answer(send, 404, {"detail": "Not found."})
            else:
                await self.app(scope, receive, send)
        elif method in ("GET", "HEAD") and path.startswith(ROUTE):
            await self._media(scope, receive, send, cookies, path[len(ROUTE) :])
        else:
            await self.app(scope, receive, send)

    def _media_path(self, requested: str) -> bool:
        """A request straight for a file in the media folders (never served that way). The
        last part is not followed: an issued link (ui/media_links.py) points into them."""
        try:
            target = Path(requested).parent.resolve() / Path(requested).name
        except (OSError, ValueError):
            return False
        return any(target.is_relative_to(folder.resolve()) for folder in self.settings.media_dirs)

    # --- password sign-in -------------------------------------------------------------

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, complete = b"", False
        while not complete:
            message = await receive()
            body += message.get("body", b"")
            complete = not message.get("more_body", False)
            if len(body) > LOGIN_BODY_LIMIT:
                await _answer(send, 413, {"detail": "Login form too large."})
                return
        form = parse_qs(body.decode("utf-8", errors="replace"))
        user = (form.get("username") or [""])[0].strip()
        address = self.address(scope)
        who = f"user {visitor_id.sign(self.secret, 'user:' + user, 8)} from {address}"
        wait = self.throttle.wait_seconds(user, address)
        if wait > 0:
            log.warning("login refused: %s is locked for %.0f s after wrong passwords", who, wait)
            await _answer(
                send,
                429,
                {"detail": f"Too many wrong passwords. Try again in {wait:.0f} s."},
                ((b"retry-after", str(int(wait) + 1).encode()),),
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] == 200:
            self.throttle.succeeded(user, address)
        elif status and status[0] in (400, 401):
            self.throttle.failed(user, address)
            log.warning("login failed: wrong password for %s", who)

    # --- uploads ----------------------------------------------------------------------

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.settings.max_upload_bytes
        length = next(iter(_headers(scope, b"content-length")), "")
        if length.isdigit() and int(length) > limit + 64 * 1024:  # the form's own bytes
            await _answer(
                send,
                413,
                {
                    "detail": f"Upload refused: {int(length) / 1e6:.0f} MB is over this studio's "
                    f"{limit // (1024 * 1024)} MB limit per file."
                },
            )
            return
        if not self.settings.public:
            await self.app(scope, receive, send)
            return
        key = f"address:{self.address(scope)}"
        reason = self.uploads.start(key)
        if reason:
            log.warning("upload refused for %s: %s", key, reason)
            await _answer(send, 429, {"detail": reason})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.uploads.finish(key)

    # --- the API's signed media URLs --------------------------------------------------

    async def _media(
        self, scope: Scope, receive: Receive, send: Send, cookies: dict[str, str], rest: str
    ) -> None:
        token, _, relative = rest.partition("/")
        path = self.links.api_file(token, relative, self.viewer(scope, cookies))
        if path is None:
            await _answer(send, 404, {"detail": "Not found (or the link expired)."})
            return
        response = FileResponse(path, headers={"cache-control": "private, max-age=600"})
        await response(scope, receive, send)


def _own_media_url(path: str) -> str:
    """For `…/file=http(s)://<any host>/studio-media/<rest>`: <rest>; else ''."""
    target = path.split(FILE_ROUTE, 1)[1]
    if not target.startswith(("http://", "https://")):
        return ""
    route = urlsplit(target).path
    return route[len(ROUTE) :] if route.startswith(ROUTE) else ""


def _with_login_script(send: Send) -> Send:
    """Adds login_page.SCRIPT to an uncompressed HTML answer (held until its last part)."""
    start: Message | None = None
    body = b""

    async def sending(message: Message) -> None:
        nonlocal start, body
        if message["type"] == "http.response.start":
            headers = {k.lower(): v for k, v in message.get("headers", [])}
            if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                start = message
                return
        elif message["type"] == "http.response.body" and start is not None:
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            page = login_page.with_script(body)
            start["headers"] = [
                *((k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"),
                (b"content-length", str(len(page)).encode()),
            ]
            await send(start)
            await send({"type": "http.response.body", "body": page})
            return
        await send(message)

    return sending


def _with_cookies(send: Send, values: list[str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", []),
                *((b"set-cookie", value.encode("latin-1")) for value in values),
            ]
        await send(message)

    return sending


async def _answer(
    send: Send, status: int, body: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
