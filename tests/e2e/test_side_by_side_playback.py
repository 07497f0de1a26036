"""The side-by-side video plays in Chromium: loaded from a local HTTP server into a plain
<video> element, it starts, its time advances to the end, and it seeks."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page

from jobs.side_by_side import CellLabel, render_side_by_side
from tests.clips import BLUE, GREEN, RED, solid_clip

PAGE = """<!doctype html><meta charset="utf-8">
<video id="v" src="side.mp4" muted playsinline preload="auto"></video>"""


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single byte ranges (206), as the app's file route serves them: a
    browser seeks a video only in a resource that takes ranges."""

    def do_GET(self) -> None:
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not match or not path.is_file():
            super().do_GET()
            return
        data = path.read_bytes()
        start = int(match[1])
        end = min(int(match[2]) if match[2] else len(data) - 1, len(data) - 1)
        if start > end:
            self.send_error(416)
            return
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.wfile.write(data[start : end + 1])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`tmp_path` over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_RangeHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_side_by_side_video_plays_to_the_end_and_seeks_in_chromium(
    page: Page, tmp_path: Path, served: str
) -> None:
    members = [
        solid_clip(tmp_path / "a.mp4", RED, size=(320, 180), frames=48),
        solid_clip(tmp_path / "b.mp4", GREEN, size=(180, 320), frames=24),
        solid_clip(tmp_path / "c.mp4", BLUE, size=(240, 240), frames=36),
    ]
    labels = [
        CellLabel("Pro", "RunComfy", 40, 0.6),
        CellLabel("720p", "WaveSpeedAI", 30, 0.3),
        CellLabel("Sim"),
    ]
    result = render_side_by_side(members, labels, tmp_path / "side.mp4")
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")

    page.goto(f"{served}/index.html")
    page.wait_for_function("() => document.getElementById('v').readyState >= 2", timeout=15_000)
    facts = page.evaluate(
        "() => { const v = document.getElementById('v');"
        " return {w: v.videoWidth, h: v.videoHeight, d: v.duration, error: v.error && v.error.code}; }"
    )
    assert facts["error"] is None
    assert (facts["w"], facts["h"]) == (result.plan.grid.width, result.plan.grid.height)
    assert facts["d"] == pytest.approx(result.plan.duration, abs=0.05)

    page.evaluate("() => document.getElementById('v').play()")
    page.wait_for_function("() => document.getElementById('v').currentTime > 0.3", timeout=15_000)
    page.wait_for_function("() => document.getElementById('v').ended", timeout=15_000)
    end = page.evaluate("() => document.getElementById('v').currentTime")
    assert end == pytest.approx(result.plan.duration, abs=0.1)

    page.evaluate(
        "() => new Promise(done => { const v = document.getElementById('v');"
        " v.addEventListener('seeked', done, {once: true}); v.currentTime = 1.0; })"
    )
    state = page.evaluate(
        "() => { const v = document.getElementById('v'); return {t: v.currentTime, ready: v.readyState}; }"
    )
    assert state["t"] == pytest.approx(1.0, abs=0.05) and state["ready"] >= 2
