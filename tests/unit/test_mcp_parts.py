"""The MCP server's parts: the tool filter on Gradio's MCP server (a private hook), the
image fetch (data URIs, public addresses only, redirects re-checked, size capped), the key
headers, and STUDIO_MCP."""

from __future__ import annotations

import base64
import io
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gradio as gr
import pytest
from gradio.mcp import GradioMCPServer
from PIL import Image

from jobs.settings import Settings
from providers.base import ValidationError
from ui import mcp_images
from ui.gate import Guard
from ui.gradio_internals import mcp_tools_only
from ui.layout import launch_options
from ui.login_throttle import LoginThrottle
from ui.mcp_owner import TOKEN_MIN_CHARS, McpRefused, caller_keys, key_header, mcp_owner, mcp_quota_key
from ui.owners import LOCAL_OWNER


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# --- the tool filter (ui/gradio_internals.mcp_tools_only) ----------------------------------


class _App:
    def __init__(self, blocks: gr.Blocks) -> None:
        self.blocks = blocks

    def get_blocks(self) -> gr.Blocks:
        return self.blocks


async def test_the_mcp_server_keeps_only_the_named_tools() -> None:
    def kept(text: str) -> str:
        """A tool."""
        return text

    def dropped(text: str) -> str:
        """Not a tool."""
        return text

    with gr.Blocks() as demo:
        gr.api(kept, api_name="kept")
        gr.api(dropped, api_name="dropped")
    server = GradioMCPServer(demo)
    assert set(server.tool_to_endpoint.values()) == {"/kept", "/dropped"}  # Gradio offers every one
    demo.mcp_server_obj = server
    async with mcp_tools_only(["kept"])(_App(demo)):
        assert server.tool_to_endpoint == {"kept": "/kept"}


async def test_the_filter_refuses_to_start_when_gradio_renamed_its_map() -> None:
    with gr.Blocks() as demo:
        gr.Textbox()

    class Renamed:
        tools = {"a": "/a"}

    demo.mcp_server_obj = Renamed()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="cannot limit its tools"):
        async with mcp_tools_only(["a"])(_App(demo)):
            pass


# --- STUDIO_MCP and the key headers --------------------------------------------------------


def test_studio_mcp_turns_the_server_off(tmp_path: Path) -> None:
    on = Settings.from_env({"STUDIO_DATA_DIR": str(tmp_path)})
    off = Settings.from_env({"STUDIO_DATA_DIR": str(tmp_path), "STUDIO_MCP": "0"})
    assert on.mcp is True and off.mcp is False
    assert launch_options(on, Guard(on))["mcp_server"] is True
    assert "lifespan" in launch_options(on, Guard(on))["app_kwargs"]
    options = launch_options(off, Guard(off))
    assert options["mcp_server"] is False and "lifespan" not in options["app_kwargs"]


def test_key_headers_are_named_after_the_provider() -> None:
    assert key_header("wavespeed") == "X-Wavespeed-Key"
    assert key_header("key_hub") == "X-Key-Hub-Key"


# --- images ------------------------------------------------------------------------------


def test_a_data_uri_becomes_a_file(tmp_path: Path) -> None:
    data = png_bytes()
    path = mcp_images.from_data_uri(
        "data:image/png;base64," + base64.b64encode(data).decode(), 10**6, tmp_path
    )
    assert path.read_bytes() == data and path.suffix == ".png"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("data:image/png;base64,%%%not-base64", "not valid"),
        ("data:image/png,rawbytes", "must look like"),
        ("data:image/png;base64," + "A" * 4000, "over"),
        ("data:image/png;base64,", "empty"),
    ],
)
def test_a_bad_data_uri_is_refused_naming_the_image(tmp_path: Path, value: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as refused:
        mcp_images.from_data_uri(value, 1000, tmp_path)
    assert refused.value.field == "image"


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _everyone(_: str) -> bool:
    return True


async def test_a_url_on_a_private_address_is_refused_before_connecting(
    tmp_path: Path, local_server: str
) -> None:
    _Handler.routes = {"/a.png": (200, {"Content-Type": "image/png"}, png_bytes())}
    for url in (
        f"{local_server}/a.png",
        "http://10.1.2.3/a.png",
        "http://[::1]/a.png",
        "http://169.254.169.254/",
    ):
        with pytest.raises(ValidationError, match="not a public internet address") as refused:
            await mcp_images.from_url(url, 10**6, tmp_path)
        assert refused.value.field == "image"
    assert not list(tmp_path.iterdir())


async def test_a_redirect_is_checked_again(tmp_path: Path, local_server: str) -> None:
    _Handler.routes = {"/hop": (302, {"Location": "http://10.9.9.9/secret.png"}, b"")}

    def only_loopback(address: str) -> bool:  # stands in for "public" on a machine without internet
        return address == "127.0.0.1"

    with pytest.raises(ValidationError, match="10.9.9.9"):
        await mcp_images.from_url(f"{local_server}/hop", 10**6, tmp_path, allowed=only_loopback)


async def test_hugging_face_hosts_may_resolve_privately_but_others_may_not(
    tmp_path: Path, local_server: str
) -> None:
    _Handler.routes = {"/a.png": (200, {"Content-Type": "image/png"}, png_bytes())}
    port = int(local_server.rsplit(":", 1)[1])

    async def split_dns(host: str, _: int) -> list[str]:  # a Space's view: everything is private
        return ["127.0.0.1"]

    path = await mcp_images.from_url(
        f"http://datasets.huggingface.co:{port}/a.png", 10**6, tmp_path, resolve=split_dns
    )
    assert path.read_bytes() == png_bytes()
    for host in ("huggingface.co.evil.example", "nothuggingface.co"):
        with pytest.raises(ValidationError, match="not a public internet address"):
            await mcp_images.from_url(f"http://{host}:{port}/a.png", 10**6, tmp_path, resolve=split_dns)


async def test_an_allowed_url_is_fetched_and_capped(tmp_path: Path, local_server: str) -> None:
    data = png_bytes()
    _Handler.routes = {
        "/a.png": (200, {"Content-Type": "image/png"}, data),
        "/hop": (302, {"Location": "/a.png"}, b""),
        "/missing": (404, {}, b""),
    }
    path = await mcp_images.from_url(f"{local_server}/hop", 10**6, tmp_path, allowed=_everyone)
    assert path.read_bytes() == data
    with pytest.raises(ValidationError, match="over"):
        await mcp_images.from_url(f"{local_server}/a.png", 100, tmp_path, allowed=_everyone)
    with pytest.raises(ValidationError, match="HTTP 404"):
        await mcp_images.from_url(f"{local_server}/missing", 10**6, tmp_path, allowed=_everyone)


async def test_anything_else_is_refused_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for value in ("/etc/passwd", "file:///etc/passwd", "ftp://example.com/a.png", "http://127.0.0.1/a.png"):
        with pytest.raises(ValidationError, match="http\\(s\\) URL or a data: URI|not a public"):
            await mcp_images.image_file(value, 10**6)
    assert list(tmp_path.iterdir()) == []


# --- owners (ui/mcp_owner.py) --------------------------------------------------------------


def _request(**headers: str) -> gr.Request:
    return gr.Request(headers={k.replace("_", "-"): v for k, v in headers.items()})


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_each_mode_names_its_owner_or_refuses(tmp_path: Path) -> None:
    throttle = LoginThrottle()
    local = Settings(data_dir=tmp_path)
    assert mcp_owner(local, throttle, _request()) == LOCAL_OWNER
    assert mcp_quota_key(local, _request()) is None

    public = Settings(data_dir=tmp_path, public=True)
    with pytest.raises(McpRefused, match="X-Studio-Token"):
        mcp_owner(public, throttle, _request())
    token = "t" * TOKEN_MIN_CHARS
    owner = mcp_owner(public, throttle, _request(x_studio_token=token))
    assert owner.startswith("mcp-") and token not in owner
    assert owner == mcp_owner(public, throttle, _request(x_studio_token=token))  # stable
    assert owner != mcp_owner(public, throttle, _request(x_studio_token="u" * TOKEN_MIN_CHARS))
    with pytest.raises(McpRefused):
        mcp_owner(public, throttle, _request(x_studio_token="t" * (TOKEN_MIN_CHARS - 1)))

    password = Settings(data_dir=tmp_path, auth=(("alice", "pw"),), public=True)
    assert mcp_owner(password, throttle, _request(authorization=_basic("alice", "pw"))) == "alice"
    for header in ("", _basic("alice", "nope"), _basic("mallory", "pw"), "Basic !!!", "Bearer x"):
        with pytest.raises(McpRefused):
            mcp_owner(password, throttle, _request(authorization=header))
    # A token does not stand in for a sign-in where one is needed.
    with pytest.raises(McpRefused):
        mcp_owner(password, throttle, _request(x_studio_token=token))

    huggingface = Settings(data_dir=tmp_path, public=True, allowed_users=("alice",))
    with pytest.raises(McpRefused, match="Hugging Face"):
        mcp_owner(huggingface, throttle, _request(x_studio_token=token, authorization=_basic("alice", "pw")))
    # ... unless the caller pays with its own key: then the key (as an HMAC) is the owner.
    paying = mcp_owner(huggingface, throttle, _request(x_wavespeed_key="ws-key-1"))
    assert paying.startswith("mcp-key-") and "ws-key-1" not in paying
    assert paying == mcp_owner(huggingface, throttle, _request(x_wavespeed_key="ws-key-1"))
    assert paying != mcp_owner(huggingface, throttle, _request(x_wavespeed_key="ws-key-2"))
    assert mcp_quota_key(huggingface, _request(x_wavespeed_key="ws-key-1")) is None


def test_refusals_reach_an_agent_as_plain_text() -> None:
    assert str(McpRefused("model: no such model")) == "model: no such model"


def test_keys_come_only_from_their_provider_headers(tmp_path: Path) -> None:
    registry = Settings(data_dir=tmp_path).registry
    keys = caller_keys(registry, _request(x_wavespeed_key=" ws-key ", x_simulator_key="ignored"))
    assert set(keys) == {"wavespeed"} and keys["wavespeed"].reveal() == "ws-key"
    assert "ws-key" not in repr(keys)
