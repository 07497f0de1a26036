"""ui/frontend_assets.py: Gradio's frontend files from memory, compressed once, and every
request it does not answer passed on to the app behind it unchanged."""

from __future__ import annotations

import asyncio
import gzip
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui import frontend_assets
from ui.frontend_assets import PrecompressedAssets, etag_matches
from ui.http_encoding import accepted

SCRIPT = "Index-AbC12_x9.js"  # a Vite name: its content's hash
SCRIPT_BODY = b"export const answer = 42;\n" * 400
PLAIN = "logo.svg"  # no hash in the name
FONT = "Inter-Ab12Cd34.woff2"
ALL_ENCODINGS = "gzip, deflate, br, zstd"  # what Chromium sends


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    build = tmp_path / "assets"
    build.mkdir()
    (build / SCRIPT).write_bytes(SCRIPT_BODY)
    (build / PLAIN).write_text("<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 900 + "</svg>")
    (build / FONT).write_bytes(bytes(range(256)) * 8)
    (build / "nested").mkdir()
    (build / "nested" / "inner.js").write_text("inner")
    (tmp_path / "secret.js").write_text("not an asset")
    return build


def _behind(request: Request) -> PlainTextResponse:
    """The app behind the middleware (Gradio's place): says what reached it."""
    return PlainTextResponse(f"behind {request.method} {request.url.path}", status_code=299)


@pytest.fixture
def client(folder: Path) -> Iterator[TestClient]:
    app = Starlette(routes=[Route("/{path:path}", _behind, methods=["GET", "HEAD", "POST"])])
    app.add_middleware(PrecompressedAssets, folder=folder, prefix="/assets/")  # type: ignore[arg-type]
    with TestClient(app) as test_client:
        yield test_client


def _get(client: TestClient, name: str, encoding: str = ALL_ENCODINGS, **headers: str) -> Any:
    return client.get(f"/assets/{name}", headers={"accept-encoding": encoding, **headers})


@pytest.mark.parametrize(
    ("header", "choice"),
    [
        (ALL_ENCODINGS, "br"),
        ("gzip", "gzip"),
        ("", "identity"),
        ("identity", "identity"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("BR", "br"),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity;q=0", None),
        ("*;q=0", None),
        ("br;q=0, gzip;q=0, identity;q=0", None),
        ("br;q=oops, gzip", "gzip"),
    ],
)
def test_the_encoding_is_the_one_the_client_prefers_of_those_held(header: str, choice: str | None) -> None:
    assert accepted(header, ("br", "gzip", "identity")) == choice


def test_an_etag_matches_by_weak_comparison_in_a_list_or_star() -> None:
    assert etag_matches('"abc-br"', '"abc-br"')
    assert etag_matches('W/"abc-br", "other"', '"abc-br"')
    assert etag_matches("*", '"abc-br"')
    assert not etag_matches('"abc-gzip"', '"abc-br"')


def test_a_hashed_script_is_sent_brotli_compressed_and_cacheable_for_a_year(client: TestClient) -> None:
    response = _get(client, SCRIPT)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert response.content == SCRIPT_BODY  # httpx decodes br: the bytes are the file's
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    # as Starlette's FileResponse names it (Gradio registers its own type for .js on import)
    media_type = mimetypes.guess_type(SCRIPT)[0] or ""
    assert response.headers["content-type"] == media_type + ("; charset=utf-8" if media_type.startswith("text/") else "")
    assert "javascript" in media_type
    assert int(response.headers["content-length"]) < len(SCRIPT_BODY) / 10


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_other_clients_get_gzip_or_the_file_as_it_is(client: TestClient, folder: Path, encoding: str) -> None:
    with client.stream("GET", f"/assets/{SCRIPT}", headers={"accept-encoding": encoding}) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == (None if encoding == "identity" else "gzip")
    assert (gzip.decompress(raw) if encoding == "gzip" else raw) == (folder / SCRIPT).read_bytes()


def test_brotli_bytes_on_the_wire_are_the_file_compressed(client: TestClient) -> None:
    with client.stream("GET", f"/assets/{SCRIPT}", headers={"accept-encoding": "br"}) as response:
        raw = b"".join(response.iter_raw())
    assert brotli.decompress(raw) == SCRIPT_BODY


def test_a_name_without_a_hash_must_be_revalidated(client: TestClient) -> None:
    response = _get(client, PLAIN)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "image/svg+xml"


def test_a_font_goes_as_it_is_even_to_a_client_that_takes_brotli(client: TestClient, folder: Path) -> None:
    response = _get(client, FONT)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers and "vary" not in response.headers
    assert response.content == (folder / FONT).read_bytes()


def test_the_same_etag_again_is_answered_304_without_a_body(client: TestClient) -> None:
    first = _get(client, SCRIPT)
    again = _get(client, SCRIPT, **{"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    changed = _get(client, SCRIPT, **{"if-none-match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == SCRIPT_BODY


def test_each_encoding_has_its_own_etag(client: TestClient) -> None:
    tags = {_get(client, SCRIPT, encoding).headers["etag"] for encoding in ("br", "gzip", "identity")}
    assert len(tags) == 3


def test_head_sends_the_headers_without_the_body(client: TestClient) -> None:
    response = client.head(f"/assets/{SCRIPT}", headers={"accept-encoding": "br"})
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(brotli.compress(SCRIPT_BODY, quality=6))


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing.js",  # not in the folder: Gradio's 404
        "/assets/nested/inner.js",  # not directly in it
        "/assets/../secret.js",
        "/assets/",
        "/elsewhere/" + SCRIPT,
        "/gradio_api/file=" + SCRIPT,
    ],
)
def test_anything_not_directly_in_the_folder_goes_on_to_the_app(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"accept-encoding": ALL_ENCODINGS})
    assert response.status_code == 299 and response.text.startswith("behind GET")


def test_a_range_request_a_post_and_a_refused_encoding_go_on_to_the_app(client: TestClient) -> None:
    assert _get(client, SCRIPT, range="bytes=0-9").status_code == 299
    assert client.post(f"/assets/{SCRIPT}").status_code == 299
    assert _get(client, SCRIPT, "identity;q=0").status_code == 299
    # identity chosen while the header names br (refused): Gradio's compression would read
    # "br" in it and compress anyway, so the app answers as it always has
    assert _get(client, SCRIPT, "br;q=0").status_code == 299


def test_a_root_path_before_the_prefix_is_understood(folder: Path) -> None:
    app = Starlette(routes=[Route("/{path:path}", _behind)])
    app.add_middleware(PrecompressedAssets, folder=folder, prefix="/assets/")  # type: ignore[arg-type]
    with TestClient(app, root_path="/space") as client:
        response = client.get(f"/space/assets/{SCRIPT}", headers={"accept-encoding": "br"})
    assert response.status_code == 200 and response.content == SCRIPT_BODY


def test_a_file_is_read_once_and_then_served_from_memory(client: TestClient, folder: Path) -> None:
    assert _get(client, SCRIPT).content == SCRIPT_BODY
    (folder / SCRIPT).write_bytes(b"changed on disk")
    assert _get(client, SCRIPT).content == SCRIPT_BODY
    # another encoding is made when first asked for, from the disk
    assert _get(client, SCRIPT, "gzip").content == b"changed on disk"


def test_a_file_gone_before_its_first_request_is_left_to_the_app(client: TestClient, folder: Path) -> None:
    _get(client, PLAIN)  # the folder is listed on the first request
    (folder / SCRIPT).unlink()
    assert _get(client, SCRIPT).status_code == 299
    (folder / SCRIPT).write_bytes(SCRIPT_BODY)  # a failure is not remembered
    assert _get(client, SCRIPT).status_code == 200


def _asgi_get(middleware: PrecompressedAssets, name: str) -> Any:
    """One GET through the middleware by hand; returns (status, body)."""

    async def call() -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        scope = {
            "type": "http",
            "method": "GET",
            "path": f"/assets/{name}",
            "headers": [(b"accept-encoding", b"br")],
        }
        await middleware(scope, receive, send)
        return sent[0]["status"], sent[1]["body"]

    return call()


def test_requests_arriving_together_share_one_compression_and_a_leaving_one_cancels_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = frontend_assets.encode

    def counted(path: Path, encoding: str) -> frontend_assets.Encoded:
        calls.append(path.name)
        return real(path, encoding)

    monkeypatch.setattr(frontend_assets, "encode", counted)

    async def behind(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the middleware should have answered")

    middleware = PrecompressedAssets(behind, folder=folder, prefix="/assets/")

    async def scenario() -> list[tuple[int, bytes]]:
        leaving = asyncio.ensure_future(_asgi_get(middleware, SCRIPT))
        staying = [asyncio.ensure_future(_asgi_get(middleware, SCRIPT)) for _ in range(8)]
        await asyncio.sleep(0)
        leaving.cancel()  # a client gone while the file is compressed
        return list(await asyncio.gather(*staying))

    answers = asyncio.run(scenario())
    assert calls == [SCRIPT]
    assert {status for status, _ in answers} == {200}
    assert {brotli.decompress(body) for _, body in answers} == {SCRIPT_BODY}


def test_the_launch_middleware_names_the_folder_and_prefix(folder: Path) -> None:
    made = frontend_assets.middleware(folder, "/assets/")
    assert made.cls is PrecompressedAssets and made.kwargs == {"folder": folder, "prefix": "/assets/"}
