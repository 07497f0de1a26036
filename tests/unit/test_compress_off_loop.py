"""ui/compress_off_loop.py: a large page response compressed on a worker thread, everything
else passed through unchanged; Gradio's own middleware outside it leaves an encoded answer be."""

from __future__ import annotations

import gzip
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from gradio.brotli_middleware import BrotliMiddleware
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui import compress_off_loop
from ui.compress_off_loop import MIN_BYTES, CompressOffLoop

PAGE = "<html><body>" + "<div class='block'>studio</div>" * 2000 + "</body></html>"
CONFIG = {"components": [{"id": i, "props": {"label": f"field {i}"}} for i in range(2000)]}


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def config(request: Request) -> Response:
    return JSONResponse(CONFIG)


async def small(request: Request) -> Response:
    return HTMLResponse("<p>small</p>" * 10)


async def missing(request: Request) -> Response:
    return HTMLResponse(PAGE, status_code=404)


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[str]:
        for _ in range(3):
            yield "data: " + "x" * MIN_BYTES + "\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def picture(request: Request) -> Response:
    return Response(b"\x89PNG" + b"\0" * 2 * MIN_BYTES, media_type="image/png")


ROUTES = [
    Route("/", page, methods=["GET", "HEAD", "POST"]),
    Route("/config", config),
    Route("/small", small),
    Route("/missing", missing),
    Route("/stream", stream),
    Route("/picture", picture),
]


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads the middleware compressed on."""
    seen: list[int] = []
    real = compress_off_loop.compress

    def recorded(body: bytes, encoding: str) -> bytes:
        seen.append(threading.get_ident())
        return real(body, encoding)

    monkeypatch.setattr(compress_off_loop, "compress", recorded)
    return seen


@pytest.fixture
def client() -> Iterator[TestClient]:
    # As launched: Gradio's compression outside, this middleware inside it.
    app = Starlette(routes=ROUTES)
    app.add_middleware(CompressOffLoop)  # type: ignore[arg-type]
    app.add_middleware(BrotliMiddleware, quality=4)  # type: ignore[arg-type]
    with TestClient(app) as test_client:
        yield test_client


def _raw(client: TestClient, path: str, encoding: str, method: str = "GET") -> tuple[Any, bytes]:
    with client.stream(method, path, headers={"accept-encoding": encoding}) as response:
        return response, b"".join(response.iter_raw())


def _loop_thread(client: TestClient) -> int:
    async def ident(request: Request) -> Response:
        return Response(str(threading.get_ident()))

    client.app.router.routes.append(Route("/ident", ident))  # type: ignore[attr-defined]
    return int(client.get("/ident").text)


def test_the_page_is_brotli_compressed_off_the_event_loop(client: TestClient, threads: list[int]) -> None:
    response, raw = _raw(client, "/", "gzip, deflate, br, zstd")
    assert response.headers["content-encoding"] == "br"
    assert brotli.decompress(raw).decode() == PAGE
    assert int(response.headers["content-length"]) == len(raw)
    assert "accept-encoding" in response.headers["vary"].lower()
    assert len(threads) == 1 and threads[0] != _loop_thread(client)


def test_a_config_goes_gzip_to_a_client_without_brotli(client: TestClient, threads: list[int]) -> None:
    response, raw = _raw(client, "/config", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw).decode() == JSONResponse(CONFIG).body.decode()
    assert len(threads) == 1


@pytest.mark.parametrize(
    ("path", "method", "encoding"),
    [
        ("/small", "GET", "br"),  # too small to be worth a thread: Gradio's as before
        ("/missing", "GET", "br"),  # an error page
        ("/stream", "GET", "br"),  # a stream, sent in parts
        ("/picture", "GET", "br"),  # not a text type
        ("/", "POST", "br"),
        ("/", "GET", "identity"),
        ("/", "GET", ""),
    ],
)
def test_everything_else_is_left_as_it_was(
    client: TestClient, threads: list[int], path: str, method: str, encoding: str
) -> None:
    plain = Starlette(routes=ROUTES)
    plain.add_middleware(BrotliMiddleware, quality=4)  # type: ignore[arg-type]
    with TestClient(plain) as without:
        expected, expected_raw = _raw(without, path, encoding, method)
    response, raw = _raw(client, path, encoding, method)
    assert threads == []
    assert response.status_code == expected.status_code
    assert raw == expected_raw
    assert response.headers.get("content-encoding") == expected.headers.get("content-encoding")


def test_head_is_left_to_the_app(client: TestClient, threads: list[int]) -> None:
    response = client.head("/", headers={"accept-encoding": "br"})
    assert response.status_code == 200 and response.content == b"" and threads == []


def test_the_studio_launches_it_outside_the_gate_and_the_frontend_files(tmp_path: Path) -> None:
    from jobs.settings import Settings
    from ui.frontend_assets import PrecompressedAssets
    from ui.gate import Guard, StudioGate
    from ui.layout import launch_options
    from ui.page_cache import PageCache

    settings = Settings.from_env({"STUDIO_DATA_DIR": str(tmp_path / "data")})
    stack = launch_options(settings, Guard(settings))["app_kwargs"]["middleware"]
    # Starlette runs the first listed outermost: the gate adds its script to the login page
    # before this compresses it, and the frontend files' paths go straight through; the kept
    # page is inside the gate, which gives each visitor its cookie
    assert [entry.cls for entry in stack] == [CompressOffLoop, StudioGate, PageCache, PrecompressedAssets]
    assert stack[0].kwargs == {"skip_prefix": "/assets/"}


def test_a_skipped_prefix_goes_straight_through(threads: list[int]) -> None:
    app = Starlette(routes=ROUTES)
    app.add_middleware(CompressOffLoop, skip_prefix="/con")  # type: ignore[arg-type]
    with TestClient(app) as client:
        response, _ = _raw(client, "/config", "br")
        assert "content-encoding" not in response.headers and threads == []
        assert _raw(client, "/", "br")[0].headers["content-encoding"] == "br"


def test_the_same_body_again_is_compressed_once(client: TestClient, threads: list[int]) -> None:
    first = _raw(client, "/", "br")[1]
    assert _raw(client, "/", "br")[1] == first
    assert len(threads) == 1
    _raw(client, "/", "gzip")  # another encoding is another result
    assert len(threads) == 2


def test_only_the_last_few_results_are_kept() -> None:
    kept = compress_off_loop.RecentlyCompressed()
    bodies = [f"body {i} ".encode() * 3000 for i in range(compress_off_loop.KEPT + 1)]
    for body in bodies:
        assert brotli.decompress(kept(body, "br")) == body
    assert len(kept._kept) == compress_off_loop.KEPT
    assert (compress_off_loop.hashlib.blake2b(bodies[0], digest_size=16).digest(), "br") not in kept._kept


def test_the_very_same_body_object_again_is_answered_on_the_loop_without_a_digest() -> None:
    # The page cache sends the same bytes object for every request of a kept page.
    page = PAGE.encode() * 4

    async def same_object(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": page})

    middleware = CompressOffLoop(same_object)
    digests: list[bytes] = []
    real = middleware.compressed

    class Counted:
        def sent_before(self, body: bytes, encoding: str) -> bytes | None:
            return real.sent_before(body, encoding)

        def __call__(self, body: bytes, encoding: str) -> bytes:
            digests.append(body)
            return real(body, encoding)

    middleware.compressed = Counted()  # type: ignore[assignment]
    client = TestClient(middleware)
    answers = [_raw(client, "/", "br")[1] for _ in range(3)]
    assert all(brotli.decompress(answer) == page for answer in answers)
    assert len(digests) == 1  # only the first went to a worker thread
    # an equal body in another object is still found by its digest, not recompressed
    kept = compress_off_loop.RecentlyCompressed()
    first = kept(page, "br")
    assert kept.sent_before(page, "br") is first
    copy = bytes(bytearray(page))
    assert kept.sent_before(copy, "br") is None and kept(copy, "br") is first
    assert kept.sent_before(page, "gzip") is None
