"""Streaming download against real local HTTP servers: the fake providers' file server
(Range support, dropped connections, error statuses) and, for the two behaviours it
never shows (no Content-Length, a server that ignores Range), a tiny stdlib server."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jobs.download import CHUNK_BYTES, download, part_path
from providers.base import ProviderError
from providers.http import RetryPolicy
from tests.fakes.server import FakeProviders

# Tiny delays: the retry logic is exercised, the clock barely moves.
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, jitter=0.0)
SIZE = 3 * 1024 * 1024 + 12345  # not a multiple of the chunk size, on purpose


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.mp4"
    path.write_bytes(os.urandom(SIZE))
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "videos" / "saved.mp4"


def download_requests(fake: FakeProviders) -> list[dict[str, str]]:
    return [r.headers for r in fake.requests if r.op == "download"]


def assert_nothing_left(dest: Path) -> None:
    assert not dest.exists()
    assert not part_path(dest).exists()
    assert list(dest.parent.iterdir()) == []


async def test_saves_a_byte_identical_copy_and_reports_progress(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    url = fake_providers.serve_file(source)
    seen: list[tuple[int, int | None]] = []

    saved = await download(url, dest, policy=FAST, on_progress=lambda done, total: seen.append((done, total)))

    assert saved == SIZE
    assert sha256(dest) == sha256(source)
    assert not part_path(dest).exists()
    assert seen[-1] == (SIZE, SIZE)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    # Written in large blocks, not one call per network read.
    assert len(seen) <= SIZE // CHUNK_BYTES + 2


async def test_a_dropped_connection_resumes_with_a_range_request(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    cut = 1_500_000
    fake_providers.add_fault("download", "reset", after_bytes=cut)
    url = fake_providers.serve_file(source)

    assert await download(url, dest, policy=FAST) == SIZE

    assert sha256(dest) == sha256(source)
    first, second = download_requests(fake_providers)
    assert "range" not in {name.lower() for name in first}
    assert {name.lower(): value for name, value in second.items()}["range"] == f"bytes={cut}-"


async def test_several_drops_in_a_row_still_complete(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    fake_providers.add_fault("download", "reset", after_bytes=700_000, times=3)
    url = fake_providers.serve_file(source)

    assert await download(url, dest, policy=FAST) == SIZE

    assert sha256(dest) == sha256(source)
    assert len(download_requests(fake_providers)) == 4


async def test_a_leftover_part_file_is_resumed_not_restarted(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(source.read_bytes()[:1_000_000])
    url = fake_providers.serve_file(source)

    assert await download(url, dest, policy=FAST) == SIZE

    assert sha256(dest) == sha256(source)
    (only,) = download_requests(fake_providers)
    assert {k.lower(): v for k, v in only.items()}["range"] == "bytes=1000000-"


@pytest.mark.parametrize("status", [404, 410, 403])
async def test_a_gone_video_is_reported_as_expired(
    fake_providers: FakeProviders, source: Path, dest: Path, status: int
) -> None:
    fake_providers.add_fault("download", "status", status=status)
    url = fake_providers.serve_file(source)

    with pytest.raises(ProviderError) as caught:
        await download(url, dest, policy=FAST)

    assert caught.value.kind == "expired"
    assert "no longer has this video" in caught.value.message
    assert f"HTTP {status}" in caught.value.message
    assert len(download_requests(fake_providers)) == 1  # not retried
    assert_nothing_left(dest)


async def test_outputs_past_retention_are_expired(fake_providers: FakeProviders, dest: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await download(f"{fake_providers.base_url}/files/out/unknown-job.mp4", dest, policy=FAST)
    assert caught.value.kind == "expired"
    assert_nothing_left(dest)


async def test_server_errors_are_retried_then_succeed(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    fake_providers.add_fault("download", "status", status=503, times=2)
    url = fake_providers.serve_file(source)

    assert await download(url, dest, policy=FAST) == SIZE

    assert sha256(dest) == sha256(source)
    assert len(download_requests(fake_providers)) == 3


async def test_server_errors_that_never_stop_give_up_cleanly(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    fake_providers.add_fault("download", "status", status=503, times=10)
    url = fake_providers.serve_file(source)

    with pytest.raises(ProviderError) as caught:
        await download(url, dest, policy=FAST)

    assert caught.value.kind == "server"
    assert caught.value.retryable
    assert len(download_requests(fake_providers)) == FAST.attempts
    assert_nothing_left(dest)


async def test_a_video_over_the_size_cap_is_refused_before_the_body(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    url = fake_providers.serve_file(source)

    with pytest.raises(ProviderError) as caught:
        await download(url, dest, max_bytes=1024 * 1024, policy=FAST)

    assert caught.value.kind == "job_failed"
    assert "larger than" in caught.value.message
    assert_nothing_left(dest)


async def test_a_dropped_connection_that_never_recovers_leaves_no_part_file(
    fake_providers: FakeProviders, source: Path, dest: Path
) -> None:
    fake_providers.add_fault("download", "reset", after_bytes=0, times=10)
    url = fake_providers.serve_file(source)

    with pytest.raises(ProviderError) as caught:
        await download(url, dest, policy=FAST)

    assert caught.value.kind == "network"
    assert_nothing_left(dest)


async def test_file_urls_are_copied_atomically(source: Path, dest: Path) -> None:
    seen: list[tuple[int, int | None]] = []

    saved = await download(
        source.as_uri(), dest, on_progress=lambda done, total: seen.append((done, total)), allow_local=True
    )

    assert saved == SIZE
    assert sha256(dest) == sha256(source)
    assert not part_path(dest).exists()
    assert seen[-1] == (SIZE, SIZE)


async def test_a_missing_local_file_is_expired(tmp_path: Path, dest: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await download((tmp_path / "gone.mp4").as_uri(), dest, allow_local=True)
    assert caught.value.kind == "expired"
    assert_nothing_left(dest)


async def test_a_local_file_over_the_cap_is_refused(source: Path, dest: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await download(source.as_uri(), dest, max_bytes=1000, allow_local=True)
    assert caught.value.kind == "job_failed"
    assert_nothing_left(dest)


async def test_other_schemes_are_refused(dest: Path) -> None:
    with pytest.raises(ProviderError) as caught:
        await download("ftp://example.invalid/video.mp4", dest)
    assert caught.value.kind == "job_failed"


# --- behaviours the fake does not show -------------------------------------------------


STALL_AFTER = 1024 * 1024
MANY = 33  # more than any default thread pool (min(32, cores + 4))


class _Odd(BaseHTTPRequestHandler):
    """'chunked': no Content-Length at all. 'ignore-range': always 200 with the whole body.
    'stall': the first STALL_AFTER bytes, then nothing until `release` is set (a Range
    request is answered at once). 'together': nothing until MANY requests are waiting."""

    body = b""
    mode = "chunked"
    ranges: list[str | None] = []
    release = threading.Event()
    together = threading.Barrier(MANY, timeout=20)

    def do_GET(self) -> None:
        type(self).ranges.append(self.headers.get("Range"))
        if self.mode == "stall":
            self._stall()
            return
        if self.mode == "together":
            self.together.wait()
        self.send_response(200)
        if self.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(self.body), 256 * 1024):
                piece = self.body[start : start + 256 * 1024]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)

    def _stall(self) -> None:
        asked = self.headers.get("Range")
        start = int(asked.removeprefix("bytes=").rstrip("-")) if asked else 0
        self.send_response(206 if asked else 200)
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{len(self.body) - 1}/{len(self.body)}")
        self.send_header("Content-Length", str(len(self.body) - start))
        self.end_headers()
        if asked:
            self.wfile.write(self.body[start:])
            return
        # The megabyte ends in a small separate read, as a busy network delivers it: it
        # must reach the .part too, not wait in a write buffer for more bytes.
        tail = STALL_AFTER - 3072
        self.wfile.write(self.body[:tail])
        self.wfile.flush()
        time.sleep(0.05)
        self.wfile.write(self.body[tail:STALL_AFTER])
        self.wfile.flush()
        self.release.wait(timeout=20)
        self.wfile.write(self.body[STALL_AFTER:])

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def odd_server(source: Path) -> Iterator[tuple[str, type[_Odd]]]:
    handler = type(
        "Handler",
        (_Odd,),
        {
            "body": source.read_bytes(),
            "ranges": [],
            "release": threading.Event(),
            "together": threading.Barrier(MANY, timeout=20),
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video.mp4", handler
    finally:
        handler.release.set()
        handler.together.abort()
        server.shutdown()
        server.server_close()


async def test_without_content_length_the_cap_is_enforced_while_streaming(
    odd_server: tuple[str, type[_Odd]], dest: Path
) -> None:
    url, handler = odd_server
    handler.mode = "chunked"

    with pytest.raises(ProviderError) as caught:
        await download(url, dest, max_bytes=1024 * 1024, policy=FAST)

    assert caught.value.kind == "job_failed"
    assert_nothing_left(dest)


async def test_without_content_length_a_clean_end_is_complete(
    odd_server: tuple[str, type[_Odd]], source: Path, dest: Path
) -> None:
    url, handler = odd_server
    handler.mode = "chunked"

    assert await download(url, dest, policy=FAST) == SIZE
    assert sha256(dest) == sha256(source)


async def test_a_server_that_ignores_range_makes_the_download_start_over(
    odd_server: tuple[str, type[_Odd]], source: Path, dest: Path
) -> None:
    url, handler = odd_server
    handler.mode = "ignore-range"
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(b"stale bytes that must not survive" * 1000)

    assert await download(url, dest, policy=FAST) == SIZE

    assert sha256(dest) == sha256(source)
    assert handler.ranges == ["bytes=33000-"]


def download_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "video-download"]


async def test_a_cancelled_download_stops_at_once_writes_nothing_more_and_the_next_resumes(
    odd_server: tuple[str, type[_Odd]], source: Path, dest: Path
) -> None:
    url, handler = odd_server
    handler.mode = "stall"
    others = set(download_threads())  # any left by earlier tests are not this one's
    task = asyncio.create_task(download(url, dest, policy=FAST))
    part = part_path(dest)
    for _ in range(1000):
        if part.exists() and part.stat().st_size >= STALL_AFTER:
            break
        await asyncio.sleep(0.01)
    assert part.stat().st_size == STALL_AFTER, "the first megabyte arrived, then the server stalled"

    task.cancel()
    # Returns although the download thread is still blocked reading from the stalled server.
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    handler.release.set()  # the old connection now gets the rest of the body...
    for _ in range(500):
        if not set(download_threads()) - others:
            break
        await asyncio.sleep(0.01)
    assert not set(download_threads()) - others, "the stopped download's thread has ended"
    assert part.stat().st_size == STALL_AFTER, "...and none of it was written after the cancel"

    assert await download(url, dest, policy=FAST) == SIZE
    assert sha256(dest) == sha256(source)
    assert handler.ranges == [None, f"bytes={STALL_AFTER}-"]
    assert not part.exists()


async def test_downloads_run_side_by_side_however_many_there_are(
    odd_server: tuple[str, type[_Odd]], source: Path, tmp_path: Path
) -> None:
    # The server answers nobody until all MANY requests are waiting: downloads sharing a
    # small thread pool (one user's waiting for another's to end) never get there.
    url, handler = odd_server
    handler.mode = "together"
    saved = await asyncio.gather(
        *(download(url, tmp_path / "many" / f"{n}.mp4", policy=FAST) for n in range(MANY))
    )
    assert saved == [SIZE] * MANY
    assert sha256(tmp_path / "many" / "7.mp4") == sha256(source)
