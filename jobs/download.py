"""Streaming download of a finished video to local disk, resumable and atomic.

A provider's output URL expires (WaveSpeed deletes outputs after 7 days), so the studio
keeps its own copy. The body is streamed to `<dest>.part` in large chunks with constant
memory, fsynced, then renamed over `dest`: a reader never sees half a video. A connection
that drops mid-body is resumed with a Range request instead of starting over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import httpx

from jobs import oplog
from providers import atomic
from providers.base import ProviderError
from providers.http import RETRY_STATUSES, RetryPolicy, make_blocking_client, parse_retry_after

CHUNK_BYTES = 1024 * 1024
# Written bytes are handed to the disk every WRITEBACK_BYTES while the body still arrives, so
# the fsync before the rename waits only for the tail: without it the fsync of a 300 MB video
# took 0.15-0.18 s here after the last byte, a quarter of the whole download (bench/download.py).
WRITEBACK_BYTES = 8 * 1024 * 1024
# Per-operation limits: `read` bounds the wait for the next bytes, never the whole body,
# so a 2 GB video on a slow line still completes while a stalled server is noticed.
DOWNLOAD_TIMEOUT = httpx.Timeout(connect=15.0, read=60.0, write=30.0, pool=15.0)
_GONE = frozenset({403, 404, 410})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")

Progress = Callable[[int, int | None], None]
DEFAULT_POLICY = RetryPolicy()


def unguessable_name(suffix: str) -> str:
    """A fresh file name nobody can guess: anyone with a media URL can fetch the file,
    so the name itself is the secret. `suffix` includes the dot, e.g. '.mp4'."""
    return f"{secrets.token_urlsafe(18)}{suffix}"


def part_path(dest: Path) -> Path:
    """Where a download in progress is written before the atomic rename."""
    return dest.with_name(dest.name + ".part")


def _finish(handle: BinaryIO, part: Path, dest: Path) -> None:
    handle.close()
    atomic.commit(part, dest, "full")  # a paid video whose URL expires: keep it through a power cut


def _too_big(max_bytes: int) -> ProviderError:
    return ProviderError(
        "job_failed",
        f"The video is larger than the {max_bytes / 1024**3:.1f} GB the studio saves; the download was stopped.",
    )


def _copy_local(source: Path, dest: Path, max_bytes: int, on_progress: Progress | None) -> int:
    """The simulator's `file://` outputs, copied with the same .part + rename discipline."""
    part = part_path(dest)
    try:
        total = source.stat().st_size
    except FileNotFoundError as exc:
        raise ProviderError("expired", f"The video file {source.name} no longer exists.") from exc
    if total > max_bytes:
        raise _too_big(max_bytes)
    done = 0
    try:
        with source.open("rb") as src, part.open("wb") as out:
            while chunk := src.read(CHUNK_BYTES):
                out.write(chunk)
                done += len(chunk)
                if done > max_bytes:
                    raise _too_big(max_bytes)
                if on_progress:
                    on_progress(done, total)
            _finish(out, part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return done


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    """(first byte, total or None) from 'bytes 100-999/1000'; None if absent or odd."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _status_error(response: httpx.Response) -> ProviderError:
    code = response.status_code
    if code in _GONE:
        return ProviderError(
            "expired",
            f"The provider no longer has this video (HTTP {code} from {response.url.host}).",
            status_code=code,
        )
    return ProviderError("job_failed", f"The video download was refused (HTTP {code}).", status_code=code)


class _Restart(Exception):
    """The server answered with bytes we cannot append: start again from zero."""


class _Stopped(Exception):
    """The caller gave up on this download (cancelled): leave the `.part` as it is."""


class _Transfer:
    """What the download thread and the event loop share. `guard` makes "stopped?" and the
    write that follows one step, so once `stop()` returns the thread never touches the
    `.part` again, even while it is still blocked reading from a stalled server."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.stopped = threading.Event()

    def stop(self) -> None:
        with self.guard:
            self.stopped.set()

    def check(self) -> None:
        if self.stopped.is_set():
            raise _Stopped

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the guard for a write to the `.part`; raises _Stopped if stopped already."""
        with self.guard:
            self.check()
            yield


def _start_writeback(handle: BinaryIO, start: int, end: int) -> None:
    """Ask the kernel to start writing bytes [start, end) of `handle` to disk now, without
    waiting for it (POSIX_FADV_DONTNEED starts writeback of dirty pages; it cannot drop them
    while they are dirty or being written, so the file stays in the page cache for the remux
    that reads it next). A hint: where the platform lacks it, the final fsync does it all."""
    if hasattr(os, "posix_fadvise") and end > start:
        with contextlib.suppress(OSError):
            os.posix_fadvise(handle.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)


def _rewind(handle: BinaryIO, transfer: _Transfer) -> int:
    """Empty the `.part` to start the body again from byte zero; returns 0, the bytes held."""
    with transfer.writing():
        handle.seek(0)
        handle.truncate()
    return 0


def _stream_once(
    client: httpx.Client,
    url: str,
    handle: BinaryIO,
    have: int,
    total: int | None,
    max_bytes: int,
    on_progress: Progress | None,
    transfer: _Transfer,
) -> tuple[int, int | None, tuple[int, float | None] | None]:
    """One GET from byte `have` on. Returns (bytes held, total if known, retry) where retry
    is (status, Retry-After seconds) when a retryable status (429/5xx) came instead of data."""
    # Identity encoding: Range offsets must count the bytes as stored on disk.
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = client.build_request("GET", url, headers=headers, timeout=DOWNLOAD_TIMEOUT)
    response = client.send(request, stream=True)
    try:
        code = response.status_code
        if code in RETRY_STATUSES:
            return have, total, (code, parse_retry_after(response.headers.get("Retry-After")))
        if code == 416 and have:
            # Asked for bytes past the end: fine if we hold exactly the whole file already
            # (a crash between the last write and the rename), else start over.
            unsatisfied = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
            if unsatisfied and int(unsatisfied.group(1)) == have:
                return have, have, None
            raise _Restart
        content_range = _parse_content_range(response.headers.get("Content-Range"))
        if code == 206 and have:
            if content_range is None or content_range[0] != have:
                raise _Restart  # a range we did not ask for
            total = content_range[1] if content_range[1] is not None else total
        elif code in (200, 206):
            # A 200 to a Range request means the server ignored it: this body starts at zero.
            have = _rewind(handle, transfer)
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            if code == 206:
                total = content_range[1] if content_range else None
        else:
            raise _status_error(response)
        if total is not None and total > max_bytes:
            raise _too_big(max_bytes)
        # Each network read (64 KiB) goes straight to the file: gathering reads into a
        # bytearray first copied every byte twice and halved throughput (bench/download.py).
        # Whatever arrived is written even when the connection drops, so a resume starts at
        # the true offset. Progress is reported once per CHUNK_BYTES.
        reported = flushed = have
        for chunk in response.iter_raw():
            with transfer.writing():
                handle.write(chunk)
                # A small read would otherwise wait in the file object's buffer until more
                # arrives: a stalled server would leave bytes we hold off the .part.
                handle.flush()
                if have + len(chunk) - flushed >= WRITEBACK_BYTES:
                    _start_writeback(handle, flushed, have + len(chunk))
                    flushed = have + len(chunk)
            have += len(chunk)
            if have > max_bytes:
                raise _too_big(max_bytes)
            if on_progress and have - reported >= CHUNK_BYTES:
                reported = have
                on_progress(have, total)
        if on_progress:
            on_progress(have, total)
        return have, total, None
    finally:
        response.close()


def _download_http(
    url: str,
    dest: Path,
    max_bytes: int,
    policy: RetryPolicy,
    on_progress: Progress | None,
    transfer: _Transfer,
    what: str = "download",
) -> int:
    """The whole download with its retries (the only retry layer for it, each one logged),
    on the calling (worker) thread."""
    part = part_path(dest)
    # A .part left by an interrupted run (crash or shutdown) is resumed, not thrown away.
    handle = part.open("r+b" if part.exists() else "wb")
    have = handle.seek(0, os.SEEK_END)
    if have > max_bytes:
        handle.truncate(0)
        have = handle.seek(0)
    total: int | None = None
    failures = 0  # consecutive tries that brought no new bytes; any progress resets it
    restarts = 0
    try:
        with make_blocking_client(DOWNLOAD_TIMEOUT) as client:
            while True:
                before = have
                retry: tuple[int, float | None] | None = None
                problem: str | None = None
                try:
                    have, total, retry = _stream_once(
                        client, url, handle, have, total, max_bytes, on_progress, transfer
                    )
                except _Restart:
                    restarts += 1
                    if restarts > policy.attempts:
                        raise ProviderError(
                            "network", "The video host kept sending byte ranges that were not asked for."
                        ) from None
                    have, total = _rewind(handle, transfer), None
                    continue
                except httpx.TransportError as exc:
                    # The bytes that did arrive were written; pick up where they stop.
                    transfer.check()
                    have = handle.tell()
                    problem = type(exc).__name__
                if retry is None and problem is None and (total is None or have >= total):
                    break
                failures = 0 if have > before else failures + 1
                if failures >= policy.attempts:
                    if retry is not None:
                        raise ProviderError(
                            "rate_limited" if retry[0] == 429 else "server",
                            f"The video host kept answering HTTP {retry[0]} after {policy.attempts} tries.",
                            status_code=retry[0],
                        )
                    raise ProviderError(
                        "network",
                        f"The video download from {httpx.URL(url).host} kept failing "
                        f"({problem or 'ended early'}) after {have} bytes.",
                    )
                wait = policy.delay(max(failures, 1), retry[1] if retry else None)
                oplog.retrying(what, f"HTTP {retry[0]}" if retry else (problem or "ended early"), wait)
                if transfer.stopped.wait(wait):
                    raise _Stopped
        with transfer.writing():
            _finish(handle, part, dest)
        return have
    except BaseException:
        handle.close()
        # Stopped (or failing after the caller gave up): the bytes are kept for the next run,
        # which may already be appending to this .part. Otherwise nothing is left behind.
        if not transfer.stopped.is_set():
            part.unlink(missing_ok=True)
        raise


async def _on_own_thread(work: Callable[[], int], transfer: _Transfer) -> int:
    """Run `work` on a thread of its own (not the default pool: a download can take
    minutes, and one user's must never wait for a free thread behind another's). If the
    caller is cancelled, the transfer is stopped and the cancellation goes on at once."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[int] = loop.create_future()

    def deliver(result: int | None, error: BaseException | None) -> None:
        if outcome.done():
            return
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        result, error = None, None
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            loop.call_soon_threadsafe(deliver, result, error)

    threading.Thread(target=run, name="video-download", daemon=True).start()
    try:
        return await asyncio.shield(outcome)
    except asyncio.CancelledError:
        transfer.stop()
        raise


async def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int = 2 * 1024**3,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_progress: Callable[[int, int | None], None] | None = None,
    allow_local: bool = False,
    what: str = "download",
) -> int:
    """Save `url` to `dest` atomically and return the number of bytes saved.

    http(s): streamed on a thread of its own (blocking httpx moves bytes about 1.5x faster
    than the async client: bench/download.py), with a per-read timeout, retried on 429/5xx
    and transport errors, resumed with `Range` after a dropped connection. `file://` (the
    simulator): copied in a thread. `on_progress(done, total)` is called from that thread.
    Raises ProviderError: 'expired' (403/404/410 or a missing file), 'job_failed' (over
    `max_bytes`, or another refusal), 'network'/'server'/'rate_limited' when retries run
    out. On failure no `.part` file is left behind and `dest` is untouched; only a cancelled
    download keeps its `.part`, which the next call for the same `dest` resumes.
    A `file://` URL is refused unless `allow_local` (only the offline simulator's outputs).
    `what` names the download in the retry log lines.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(url)
    if parts.scheme == "file" and not allow_local:
        raise ProviderError(
            "job_failed", "The provider gave a local file instead of a web address; it was not read."
        )
    if parts.scheme == "file":
        source = Path(unquote(parts.path))
        return await asyncio.to_thread(_copy_local, source, dest, max_bytes, on_progress)
    if parts.scheme not in ("http", "https"):
        raise ProviderError(
            "job_failed", f"The provider gave a video link the studio cannot fetch: {url[:80]}"
        )
    transfer = _Transfer()
    return await _on_own_thread(
        lambda: _download_http(url, dest, max_bytes, policy, on_progress, transfer, what), transfer
    )
