"""Public visitors' owner ids, issued and signed by the server.

A visitor of a public demo is one browser. Its id is random, signed with the server's
secret (HMAC-SHA256) and held in an `HttpOnly` cookie the page's scripts cannot read, so
it is neither visible in the page nor forgeable: an id the server did not issue, or one
without its signature, is refused. The secret lives in the data folder (`.server_secret`,
mode 0600), created on first start, so a restart keeps every visitor's history.

An API client (gradio_client) keeps no cookies; its owner is its Gradio session, stored
as an HMAC of the session hash, so the id in the database is not a session anyone can use.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from pathlib import Path

SECRET_FILE = ".server_secret"
COOKIE = "studio-visitor"
COOKIE_LAX = "studio-visitor-lax"  # for plain http (a local test), where Secure cookies may not stick
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie


def server_secret(data_dir: Path) -> bytes:
    """The server's signing secret, created (0600) on first use in the data folder."""
    path = Path(data_dir) / SECRET_FILE
    try:
        value = path.read_bytes().strip()
        if len(value) >= 32:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(value)
    path.chmod(0o600)
    return value


@functools.lru_cache(maxsize=8)
def studio_secret(data_dir: str | Path) -> bytes:
    """`server_secret` of a studio's data folder, read once per process and keyed by the
    folder as configured: every signed link, visitor cookie and API owner asks for it, and
    resolving the folder's realpath each time cost the page's event loop several syscalls
    per file URL it signed (each job's answer signs three)."""
    return server_secret(Path(data_dir).resolve())


def sign(secret: bytes, message: str, length: int = 22) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def issue(secret: bytes) -> str:
    """A new visitor token: '<id>.<signature>'."""
    visitor = secrets.token_urlsafe(18)
    return f"{visitor}.{sign(secret, 'visitor:' + visitor)}"


def verify(secret: bytes, token: str | None) -> str | None:
    """The visitor id inside a token the server issued, else None."""
    if not token or token.count(".") != 1:
        return None
    visitor, signature = token.split(".")
    if not visitor or not hmac.compare_digest(signature, sign(secret, "visitor:" + visitor)):
        return None
    return visitor


def from_cookies(secret: bytes, cookies: Mapping[str, str]) -> str | None:
    """The verified visitor id from a request's cookies (either of the two names)."""
    for name in (COOKIE, COOKIE_LAX):
        visitor = verify(secret, cookies.get(name))
        if visitor:
            return visitor
    return None


def parse_cookie_header(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header: no cookies, not a crash
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def set_cookie_headers(token: str) -> list[str]:
    """Set-Cookie values: a cross-site one for a Space's iframe (Secure, SameSite=None,
    Partitioned) and a same-site one for plain http."""
    common = f"Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly"
    return [
        f"{COOKIE}={token}; {common}; Secure; SameSite=None; Partitioned",
        f"{COOKIE_LAX}={token}; {common}; SameSite=Lax",
    ]


def api_owner_suffix(secret: bytes, session_hash: str) -> str:
    return sign(secret, "api:" + session_hash, 32)
