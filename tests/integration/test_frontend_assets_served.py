"""The launched studio (`python app.py`) serves Gradio's frontend code compressed once and
cacheable (ui/frontend_assets.py): every script and stylesheet the page names arrives
Brotli-compressed, byte for byte the file in Gradio's build folder, and what the middleware
does not hold is still Gradio's to answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest

from tests.e2e.launcher import RunningApp, launch_app
from ui.gradio_internals import frontend_code

CHROMIUM_ENCODINGS = "gzip, deflate, br, zstd"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with launch_app(tmp_path_factory.mktemp("assets")) as running:
        yield running


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app.url, timeout=30, headers={"accept-encoding": CHROMIUM_ENCODINGS}) as client:
        yield client


def page_assets(client: httpx.Client) -> list[str]:
    html = client.get("/").text
    names = sorted(set(re.findall(r'(?:src|href)="\./assets/([^"/]+)"', html)))
    assert names, "the page names no scripts under ./assets/"
    return names


def raw_get(client: httpx.Client, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_every_script_the_page_names_is_brotli_cacheable_and_the_files_bytes(client: httpx.Client) -> None:
    folder, prefix = frontend_code()
    for name in page_assets(client):
        response, raw = raw_get(client, prefix + name)
        assert response.status_code == 200, name
        assert response.headers["content-encoding"] == "br", name
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", name
        assert brotli.decompress(raw) == (folder / name).read_bytes(), name


def test_a_browser_asking_again_with_the_etag_gets_304(client: httpx.Client) -> None:
    name = page_assets(client)[0]
    first = client.get(f"/assets/{name}")
    again = client.get(f"/assets/{name}", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_gradio_still_answers_what_the_middleware_does_not_hold(client: httpx.Client) -> None:
    assert client.get("/assets/no-such-file-Ab12Cd34.js").status_code == 404
    # a range request is Gradio's FileResponse, uncompressed
    name = page_assets(client)[0]
    ranged = client.get(f"/assets/{name}", headers={"range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.content) == 10
    assert ranged.content == (frontend_code()[0] / name).read_bytes()[:10]
    # ...and names the same media type as the middleware does for the whole file
    assert ranged.headers["content-type"] == client.get(f"/assets/{name}").headers["content-type"]


def test_the_folders_fonts_are_served_as_they_are(client: httpx.Client) -> None:
    folder, prefix = frontend_code()
    font = next(p.name for p in sorted(Path(folder).iterdir()) if p.suffix == ".woff2")
    response, raw = raw_get(client, prefix + font)
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert raw == (folder / font).read_bytes()
