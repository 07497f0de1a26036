"""Who owns a job: the person signed in, this machine, or one browser of a public demo.

- With a login (password auth from STUDIO_AUTH, or Hugging Face sign-in when
  STUDIO_ALLOWED_USERS is set) the owner is the user name.
- A local run without a login has one owner, "local": a person's history follows them
  across browsers and API calls.
- A public deployment without a login (Spaces, STUDIO_PUBLIC=1) gives each browser its own
  owner: a random id the server signs and keeps in an HttpOnly cookie (ui/visitor_id.py,
  set by ui/gate.py), and each API client its own Gradio session.

Owner ids are secrets: they never leave the server (not in a page, an API answer, an
export, a file name or a log line).

Owner checks themselves live in the engine: every query is scoped to the owner given here.
"""

from __future__ import annotations

from typing import Literal

import gradio as gr

from jobs.settings import Settings
from ui import gradio_internals, visitor_id
from ui.client_address import client_address
from ui.i18n import lang_of, text_or

LOCAL_OWNER = "local"
BROWSER_PREFIX = "browser-"
API_PREFIX = "api-"

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


def _secret(settings: Settings) -> bytes:
    return visitor_id.studio_secret(settings.data_dir)


def _cookies(request: gr.Request | None) -> dict[str, str]:
    headers = getattr(request, "headers", None) if request is not None else None
    header = headers.get("cookie") if headers is not None and hasattr(headers, "get") else None
    return visitor_id.parse_cookie_header(header) if header else {}


def browser_visitor(settings: Settings, request: gr.Request | None) -> str | None:
    """The verified visitor id of this browser (its signed cookie), or None."""
    return visitor_id.from_cookies(_secret(settings), _cookies(request))


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


def owner_for_browser(settings: Settings, request: gr.Request | None) -> str:
    """The owner for a browser page. Raises SignInRequired when a sign-in is needed."""
    user = signed_in_user(request)
    if user:
        return _check_allowed(settings, user)
    if settings.allowed_users:
        raise SignInRequired(_sign_in_message(settings))
    if not settings.public:
        return LOCAL_OWNER
    visitor = browser_visitor(settings, request)
    if not visitor:
        raise SignInRequired("This page has no visitor cookie; allow cookies for this site and reload.")
    return BROWSER_PREFIX + visitor


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
    return API_PREFIX + visitor_id.api_owner_suffix(_secret(settings), str(session))


def request_address(settings: Settings, request: gr.Request | None) -> str | None:
    """The client's address, believing X-Forwarded-For only from a trusted proxy."""
    if request is None:
        return None
    peer = getattr(getattr(request, "client", None), "host", None)
    headers = getattr(request, "headers", None)
    forwarded: list[str] = []
    if headers is not None and hasattr(headers, "getlist"):
        forwarded = list(headers.getlist("x-forwarded-for"))
    elif headers is not None and hasattr(headers, "get") and headers.get("x-forwarded-for"):
        forwarded = [headers.get("x-forwarded-for")]
    return client_address(peer, forwarded, settings.trusted_proxies)


def quota_key(settings: Settings, request: gr.Request | None) -> str | None:
    """Who else pays the hourly limit on a public demo: the visitor's address, since a
    browser id or API session is free to renew. None when the owner is a signed-in user.
    The address comes from X-Forwarded-For only when a trusted proxy sent it
    (STUDIO_TRUSTED_PROXIES, ui/client_address.py): a client cannot choose its own key."""
    if not settings.public or request is None or signed_in_user(request):
        return None
    host = request_address(settings, request)
    return f"address:{host}" if host else None


def on_load(settings: Settings, request: gr.Request) -> str | None:
    """At page load: the owner, or None when a sign-in (or a cookie) is needed."""
    try:
        return owner_for_browser(settings, request)
    except SignInRequired:
        return None


def require(owner: str | None, settings: Settings, request: gr.Request | None = None) -> str:
    """The owner a handler acts for, or a friendly error when there is none yet. A click
    that beats the page's load event still knows its owner unless the demo is public
    (where the browser id arrives with the load)."""
    if owner:
        return owner
    try:
        if request is not None and not settings.public:
            return owner_for_browser(settings, request)
        if settings.allowed_users:
            raise SignInRequired(_sign_in_message(settings))
        raise SignInRequired("The page is still loading; try again in a moment.")
    except SignInRequired as refused:
        if request is None:
            raise
        raise SignInRequired(page_words(lang_of(request), str(refused.message))) from None


# The sentences above as the catalogue has them (ui/locales: the same English under these keys).
_SIGN_IN_KEYS = ("signin.huggingface", "signin.no_way", "signin.loading", "signin.no_cookie")


def page_words(lang: str, english: str) -> str:
    """A sign-in sentence of this module in `lang` (as it is when the catalogue lacks it)."""
    for key in _SIGN_IN_KEYS:
        said = text_or(lang, key, english)
        if said != english:
            return said
    return english
