"""Who an MCP caller is, and which provider keys it brought: read from its HTTP request.

The MCP route (/gradio_api/mcp) is not behind Gradio's login, and its tools run without a
Gradio session, so the page's and gradio_client's owner rules (ui/owners.py) cannot tell
callers apart there. An MCP caller's jobs belong to:

- a local studio (no login, not public): "local", the one person's history, as for the
  page and gradio_client;
- STUDIO_AUTH: the user named in HTTP Basic auth (`Authorization: Basic base64(user:pass)`),
  checked against the same users and passwords as the login form and slowed down by the
  same throttle after wrong passwords; the user's history, as on the page;
- a public studio without a login (STUDIO_PUBLIC=1, a Space): the caller's own client
  token, a random string it sends in `X-Studio-Token` on every call; the owner id is an
  HMAC of it with the server secret, so neither the token nor anything that opens the
  history is stored. Another token (another caller) sees none of these jobs;
- a Hugging Face sign-in allow-list (STUDIO_ALLOWED_USERS on a Space): the studio cannot
  verify a Hugging Face identity on the MCP route, so the server's keys (and its simulator)
  serve only the signed-in users of the page. A caller that pays with its own provider key
  is its own owner: the owner id is an HMAC of the key in the first key header it sends
  (registry order), and it may use only the providers whose key it sent. Without a key
  header it is refused, saying what to send.

Provider keys come in `X-<Provider>-Key` headers (e.g. the provider `acme` reads
`X-Acme-Key`): kept for the call, and by the engine in memory while that job runs; never
stored or logged (the engine's scrubber masks them in anything a provider echoes).
"""

from __future__ import annotations

import base64
import binascii
import secrets

import gradio as gr

from jobs.settings import Settings
from providers.base import Secret
from providers.registry import Registry
from ui import owners, visitor_id
from ui.login_throttle import LoginThrottle
from ui.session import SessionKeys

TOKEN_HEADER = "x-studio-token"
MCP_PREFIX = "mcp-"
KEY_OWNER_PREFIX = "mcp-key-"
TOKEN_MIN_CHARS = 22  # as long as secrets.token_urlsafe(16): not guessable


class ToolError(gr.Error):
    """A tool's refusal. The MCP server hands an agent str(error), which for gr.Error is
    the message's repr (quoted); this is the message itself."""

    def __init__(self, message: str, title: str = "Error") -> None:
        super().__init__(message, title=title, print_exception=False)

    def __str__(self) -> str:
        return str(self.message)


class McpRefused(ToolError):
    """An MCP call that cannot be tied to an owner: says what the caller must send."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Not allowed")


def key_header(provider: str) -> str:
    """The request header an MCP caller puts its key for `provider` in: X-<Provider>-Key."""
    return "X-" + "-".join(part.capitalize() for part in provider.replace("_", "-").split("-")) + "-Key"


def caller_keys(registry: Registry, request: gr.Request) -> SessionKeys:
    """The provider keys in this request's headers (memory only, like the API keys tab)."""
    headers = request.headers
    found: dict[str, Secret | None] = {}
    for info in registry.hosted():
        value = headers.get(key_header(info.name).lower()) if headers is not None else None
        if value and value.strip():
            found[info.name] = Secret(value)
    return SessionKeys(found)


def _basic_credentials(request: gr.Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization") if request.headers is not None else None
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


def _gradio_user(request: gr.Request) -> str | None:
    """The user of a Gradio API call with a login session. An MCP call's request is the raw
    HTTP one, which has no `username` (gr.Request then raises AttributeError)."""
    try:
        return owners.signed_in_user(request)
    except AttributeError:
        return None


def _password_user(settings: Settings, throttle: LoginThrottle, request: gr.Request) -> str:
    signed_in = _gradio_user(request)
    if signed_in:
        return signed_in
    credentials = _basic_credentials(request)
    if credentials is None:
        raise McpRefused(
            "This studio needs a sign-in: send the header "
            "'Authorization: Basic <base64 of user:password>' with a STUDIO_AUTH user."
        )
    user, password = credentials
    address = owners.request_address(settings, request)
    wait = throttle.wait_seconds(user, address)
    if wait > 0:
        raise McpRefused(f"Too many wrong passwords. Try again in {wait:.0f} s.")
    known = dict(settings.auth)
    expected = known.get(user)
    if expected is None or not secrets.compare_digest(expected.encode(), password.encode()):
        throttle.failed(user, address)
        raise McpRefused("Sign-in refused: wrong user name or password.")
    throttle.succeeded(user, address)
    return user


def _token_owner(settings: Settings, request: gr.Request) -> str:
    token = (request.headers.get(TOKEN_HEADER) if request.headers is not None else None) or ""
    token = token.strip()
    if len(token) < TOKEN_MIN_CHARS:
        raise McpRefused(
            "This public studio keeps each MCP caller's videos apart by a client token: send the "
            f"header 'X-Studio-Token' with a random string of at least {TOKEN_MIN_CHARS} characters "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe())") on every call. '
            "Your jobs are the ones made with that token."
        )
    secret = visitor_id.studio_secret(settings.data_dir)
    return MCP_PREFIX + visitor_id.sign(secret, "mcp:" + token, 32)


def own_keys_only(settings: Settings) -> bool:
    """Whether MCP callers must pay with their own provider keys (Hugging Face sign-in: the
    server's keys serve only the page's signed-in users)."""
    return bool(settings.allowed_users) and owners.login_mode(settings) != "password"


def _key_owner(settings: Settings, request: gr.Request) -> str:
    keys = caller_keys(settings.registry, request)
    hosted = [info for info in settings.registry.hosted() if keys.get(info.name)]
    if not hosted:
        headers = " or ".join(key_header(info.name) for info in settings.registry.hosted())
        raise McpRefused(
            "This studio's own keys serve only its signed-in Hugging Face users, whom its MCP "
            f"server cannot verify. To use it with your own provider key, send it in {headers} "
            "on every call: your jobs are the ones made with that key, and you are billed by "
            "the provider."
        )
    first = hosted[0]
    key = keys[first.name]
    assert key is not None
    secret = visitor_id.studio_secret(settings.data_dir)
    return KEY_OWNER_PREFIX + visitor_id.sign(secret, f"mcp-key:{first.name}:{key.reveal()}", 32)


def mcp_quota_key(settings: Settings, request: gr.Request) -> str | None:
    """Who else pays the hourly limit on a public studio: the caller's address (a client
    token is free to renew), as owners.quota_key says for the page and gradio_client."""
    if not settings.public or owners.login_mode(settings) != "none":
        return None
    host = owners.request_address(settings, request)
    return f"address:{host}" if host else None


def mcp_owner(settings: Settings, throttle: LoginThrottle, request: gr.Request) -> str:
    """The owner an MCP call acts for (see the module docstring), or McpRefused."""
    mode = owners.login_mode(settings)
    if mode == "password":
        user = _password_user(settings, throttle, request)
        if settings.allowed_users and user not in settings.allowed_users:
            raise McpRefused(f"{user} is not on this studio's list of allowed users.")
        return user
    if own_keys_only(settings):
        return _key_owner(settings, request)
    if settings.public:
        return _token_owner(settings, request)
    return owners.LOCAL_OWNER
