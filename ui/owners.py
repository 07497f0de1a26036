"""Who owns a job: the person signed in, this machine, or one browser of a public demo.

- With a login (password auth from STUDIO_AUTH, or Hugging Face sign-in when
  STUDIO_ALLOWED_USERS is set) the owner is the user name.
- A local run without a login has one owner, "local": a person's history follows them
  across browsers and API calls.
- A public deployment without a login (Spaces, STUDIO_PUBLIC=1) gives each browser its own
  owner: a random id kept, encrypted, in the browser's localStorage (gr.BrowserState), and
  each API client its own Gradio session.

Owner checks themselves live in the engine: every query is scoped to the owner given here.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from pathlib import Path
from typing import Literal

import gradio as gr

from jobs.settings import Settings
from ui import gradio_internals

LOCAL_OWNER = "local"
BROWSER_PREFIX = "browser-"
API_PREFIX = "api-"
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

LoginMode = Literal["password", "huggingface", "none"]


class SignInRequired(gr.Error):
    """Shown instead of running a handler when the studio needs a signed-in person."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Sign in", print_exception=False)


def login_mode(settings: Settings) -> LoginMode:
    """Password sign-in when STUDIO_AUTH is set; Hugging Face sign-in for an allow-list on a
    Space (Gradio's OAuth needs the Space's OAuth app; locally it would need an HF login)."""
    if settings.auth:
        return "password"
    if settings.allowed_users and settings.public:
        return "huggingface"
    return "none"


def sign_in_hint(settings: Settings) -> str | None:
    """What a page without an owner should say, when a sign-in is what is missing."""
    return _sign_in_message(settings) if settings.allowed_users else None


def _sign_in_message(settings: Settings) -> str:
    if login_mode(settings) == "huggingface":
        return "Sign in with Hugging Face to make videos in this studio."
    return (
        "This studio has an allow-list (STUDIO_ALLOWED_USERS) but no way to sign in: "
        "set STUDIO_AUTH for a local run, or run it as a Hugging Face Space."
    )


def new_browser_id() -> str:
    return secrets.token_urlsafe(18)


def browser_secret(settings: Settings) -> str:
    """The key that encrypts the per-browser id in localStorage. Kept in the data folder so
    a restart does not orphan every visitor's history; created on first use."""
    path = Path(settings.data_dir) / ".browser_secret"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value


def render_browser_id(settings: Settings) -> gr.BrowserState:
    """The per-browser owner id holder (used only by public deployments)."""
    return gr.BrowserState(
        None,
        storage_key="dreamina-studio-owner",
        secret=browser_secret(settings) if settings.public else None,
    )


def signed_in_user(request: gr.Request | None) -> str | None:
    """The user name from password auth, or from Hugging Face sign-in (OAuth session)."""
    if request is None:
        return None
    if request.username:
        return str(request.username)
    return gradio_internals.oauth_user_name(request)


def _check_allowed(settings: Settings, user: str) -> str:
    if settings.allowed_users and user not in settings.allowed_users:
        raise SignInRequired(
            f"{user} is not on this studio's list of allowed users. Ask the owner to add you."
        )
    return user


def owner_for_browser(settings: Settings, request: gr.Request | None, browser_id: str | None) -> str:
    """The owner for a browser page. Raises SignInRequired when a sign-in is needed."""
    user = signed_in_user(request)
    if user:
        return _check_allowed(settings, user)
    if settings.allowed_users:
        raise SignInRequired(_sign_in_message(settings))
    if not settings.public:
        return LOCAL_OWNER
    if not browser_id or not _BROWSER_ID.match(browser_id):
        raise SignInRequired("This page lost its browser id; reload the page.")
    return BROWSER_PREFIX + browser_id


def owner_for_api(settings: Settings, request: gr.Request | None) -> str:
    """The owner for a gradio_client call: the user, "local", or the client's session."""
    user = signed_in_user(request)
    if user:
        return _check_allowed(settings, user)
    if settings.allowed_users:
        raise SignInRequired(
            "This studio needs a signed-in user; call it with a Hugging Face token."
            if login_mode(settings) == "huggingface"
            else _sign_in_message(settings)
        )
    if not settings.public:
        return LOCAL_OWNER
    session = getattr(request, "session_hash", None) if request is not None else None
    if not session:
        raise SignInRequired("Call this endpoint through gradio_client so it has a session.")
    return API_PREFIX + str(session)


def _is_private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # e.g. "testclient": not a routable address
    return address.is_private or address.is_loopback


def quota_key(settings: Settings, request: gr.Request | None) -> str | None:
    """Who else pays the hourly limit on a public demo: the visitor's address, since a
    browser id or API session is free to renew. None when the owner is a signed-in user.

    Behind a proxy (the app sees a private address, as on Spaces) the address is the last
    X-Forwarded-For entry, the one the proxy itself added; a client reaching the app
    directly cannot choose its key by sending that header."""
    if not settings.public or request is None or signed_in_user(request):
        return None
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    headers = getattr(request, "headers", None) or {}
    forwarded = headers.get("x-forwarded-for") if hasattr(headers, "get") else None
    if forwarded and (not host or _is_private(host)):
        host = forwarded.split(",")[-1].strip() or host
    return f"address:{host}" if host else None


def on_load(settings: Settings, request: gr.Request, browser_id: str | None) -> tuple[str | None, str | None]:
    """At page load: (owner or None when a sign-in is needed, browser id to keep)."""
    if settings.public and not (browser_id and _BROWSER_ID.match(browser_id)):
        browser_id = new_browser_id()
    try:
        return owner_for_browser(settings, request, browser_id), browser_id
    except SignInRequired:
        return None, browser_id


def require(owner: str | None, settings: Settings, request: gr.Request | None = None) -> str:
    """The owner a handler acts for, or a friendly error when there is none yet. A click
    that beats the page's load event still knows its owner unless the demo is public
    (where the browser id arrives with the load)."""
    if owner:
        return owner
    if request is not None and not settings.public:
        return owner_for_browser(settings, request, None)
    if settings.allowed_users:
        raise SignInRequired(_sign_in_message(settings))
    raise SignInRequired("The page is still loading; try again in a moment.")
