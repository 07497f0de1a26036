"""FakeProviders: RunComfy's and WaveSpeedAI's APIs on one local HTTP server, with faults.

    with FakeProviders(queue_seconds=0.05, run_seconds=0.05) as fake:
        settings = Settings(base_urls={"runcomfy": fake.base_url, "wavespeed": fake.base_url}, ...)
        fake.add_fault("status", "status", status=503, times=2)
        fake.next_outcome("moderation")

RunComfy lives under /v1/, WaveSpeed under /api/v3/, outputs and uploads under /files/,
and the control API under /__fake__/ (see control.py).
"""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from tests.fakes import control, money_api, runcomfy_api, wavespeed_api
from tests.fakes.faults import Fault
from tests.fakes.jobs import FakeJob, parse_outcome
from tests.fakes.media import sample_video
from tests.fakes.state import Call, FakeState, RecordedRequest, Reply, Timing, json_reply, route
from tests.fakes.transport import FakeHTTPServer


def download(state: FakeState, call: Call) -> Reply:
    """GET/HEAD /files/<path>: outputs (once their job succeeded), uploads, served files."""
    path = state.resolve_file(call.params["rel"])
    if path is None:
        return Reply(
            status=404, body=b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
        )
    # The URL's name decides the type, as on a CDN: /files/out/<id>.mp4 is video/mp4 even
    # when a benchmark serves a differently named file behind it.
    content_type = mimetypes.guess_type(call.params["rel"])[0] or mimetypes.guess_type(path.name)[0]
    return Reply(file=path, content_type=content_type or "application/octet-stream")


class FakeProviders:
    """Both provider APIs on http://127.0.0.1:<port>. Thread-safe; start() / stop() or `with`."""

    RUNCOMFY_KEY = "rc-test-key"
    WAVESPEED_KEY = "ws-test-key"
    # Valid keys of a second account: its jobs are not visible to the first (403001 / 404).
    RUNCOMFY_OTHER_KEY = "rc-other-key"
    WAVESPEED_OTHER_KEY = "ws-other-key"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        queue_seconds: float = 0.2,
        run_seconds: float = 0.3,
        queue_length: int = 2,
        output_video: Path | None = None,
    ) -> None:
        self._address = (host, port)
        self._output_video = output_video
        self._state = FakeState(
            Timing(queue_seconds, run_seconds, queue_length),
            output_video or Path(),
            keys={
                "runcomfy": {self.RUNCOMFY_KEY, self.RUNCOMFY_OTHER_KEY},
                "wavespeed": {self.WAVESPEED_KEY, self.WAVESPEED_OTHER_KEY},
            },
        )
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._temp: str | None = None
        self.base_url = ""

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeProviders:
        if self._server is not None:
            return self
        state = self._state
        state.output_video = self._output_video or sample_video()
        self._temp = tempfile.mkdtemp(prefix="dreamina-fake-")
        state.upload_dir = Path(self._temp)
        state.stopping.clear()
        routes = [
            *control.routes(),
            *money_api.routes(),  # before WaveSpeed's catch-all submit route
            *wavespeed_api.routes(),  # includes PUT /files/put/<token> (SDK uploads)
            route("GET", r"/files/(?P<rel>.+)", "files", "download", download),
            *runcomfy_api.routes(),
        ]
        self._server = FakeHTTPServer(self._address, state, routes)
        host, port = self._server.server_address[:2]
        self.base_url = state.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-providers",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: hung and slow handlers are released, open connections dropped."""
        server, self._server = self._server, None
        if server is None:
            return
        self._state.stopping.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- inspection -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in arrival order (the live list)."""
        return self._state.requests

    @property
    def jobs(self) -> dict[str, FakeJob]:
        """Every job created, by request id (the live dict)."""
        return self._state.jobs

    def submits(self, provider: str | None = None) -> list[RecordedRequest]:
        """The submit requests received (faulted ones included), optionally of one provider."""
        with self._state.lock:
            return [
                r
                for r in self._state.requests
                if r.op == "submit" and (provider is None or r.provider == provider)
            ]

    # --- scripting --------------------------------------------------------------------

    def add_fault(
        self,
        op: str,
        kind: str,
        *,
        provider: str | None = None,
        times: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        body: object | None = None,
        after_bytes: int | None = None,
    ) -> None:
        """Make the next `times` requests for `op` (or "*") fail as `kind` says; see faults.py."""
        self._state.faults.add(
            Fault(
                op=op,
                kind=kind,
                provider=provider,
                times=times,
                status=status,
                retry_after=retry_after,
                delay=delay,
                body=body,
                after_bytes=after_bytes,
            )
        )

    def next_outcome(self, outcome: str) -> None:
        """The outcome of the next submitted job ("moderation", "unreachable_input",
        "failed", "expired", "success" or "slow=N"); calls queue up in order."""
        parse_outcome(outcome)
        with self._state.lock:
            self._state.outcomes.append(outcome)

    def expire_outputs(self) -> None:
        """From now on every output URL answers 404, as after the providers' retention."""
        with self._state.lock:
            self._state.expired = True

    def serve_file(self, path: Path, name: str | None = None) -> str:
        """A URL under /files/ that serves `path` (GET, HEAD, Range)."""
        return self._state.add_file(Path(path), name)

    def set_timing(
        self,
        queue_seconds: float | None = None,
        run_seconds: float | None = None,
        queue_length: int | None = None,
    ) -> None:
        """Timing for jobs created from now on (existing jobs keep theirs)."""
        with self._state.lock:
            timing = self._state.timing
            self._state.timing = Timing(
                timing.queue_seconds if queue_seconds is None else queue_seconds,
                timing.run_seconds if run_seconds is None else run_seconds,
                timing.queue_length if queue_length is None else queue_length,
            )

    def set_clock_skew(self, seconds: float) -> None:
        """Put the providers' clock `seconds` ahead of ours (negative: behind): every time
        they state (created_at, finished_at) carries it; their durations do not."""
        with self._state.lock:
            self._state.clock_skew = float(seconds)

    def set_money(
        self,
        *,
        balances: dict[str, float] | None = None,
        old_balance_path: bool | None = None,
        videos_per_minute: int | None | bool = False,
        window_seconds: float | None = None,
    ) -> None:
        """WaveSpeedAI's money side: balances per key, whether the older balance path is
        still served, and the per-minute video cap (None: no cap) and its window."""
        money = money_api.config_of(self._state)
        with self._state.lock:
            if balances is not None:
                money.balances = dict(balances)
            if old_balance_path is not None:
                money.old_balance_path = old_balance_path
            if videos_per_minute is not False:
                money.videos_per_minute = videos_per_minute  # type: ignore[assignment]
                money.window_start, money.window_count = 0.0, 0
            if window_seconds is not None:
                money.window_seconds = window_seconds

    def reset(self) -> None:
        """Forget everything (jobs, files, requests, faults, outcomes, expiry, timing changes)."""
        self._state.reset()


__all__ = ["FakeProviders", "FakeJob", "RecordedRequest", "json_reply"]


def serve_until_terminated(fake: FakeProviders) -> None:
    """Block until SIGTERM or Ctrl-C, then stop the fake (for the fake run as its own process)."""
    import signal

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
