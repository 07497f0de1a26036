"""HTTP plumbing: a threaded HTTP/1.1 server with keep-alive, routing, fault application,
and fast Range-aware file sending (os.sendfile through socket.sendfile)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.faults import AFTER_KINDS, Fault, error_body, error_in_200_body, malformed_json
from tests.fakes.state import Call, FakeState, RecordedRequest, Reply, Route, json_reply

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_MAX_BODY = 512 * 1024 * 1024


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler never keeps the process alive
    block_on_close = False
    request_queue_size = 256  # 50+ clients connecting at once must not hit a full backlog
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: FakeState, routes: list[Route]) -> None:
        self.state = state
        self.routes = routes
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists under another method)."""
        wanted = "GET" if method == "HEAD" else method
        other_method = False
        for candidate in self.routes:
            match = candidate.pattern.fullmatch(path)
            if match is None:
                continue
            if candidate.method == wanted:
                return candidate, match.groupdict(), False
            other_method = True
        return None, {}, other_method

    def drop_connections(self) -> None:
        """Wake every handler blocked on an idle keep-alive socket, so stop() is quick."""
        with self.connections_lock:
            sockets = list(self.connections)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # clients hanging up mid-transfer are normal here
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _provider_for(path: str) -> str:
    if path.startswith("/v1/"):
        return "runcomfy"
    if path.startswith("/api/"):
        return "wavespeed"
    if path.startswith("/files/"):
        return "files"
    return "control"


def _op_aliases(provider: str, op: str) -> tuple[str, ...]:
    # WaveSpeed has one poll endpoint; a fault on either "status" or "result" hits it.
    if provider == "wavespeed" and op == "result":
        return ("result", "status")
    return (op,)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeProviders/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this
    server: FakeHTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_GET

    # --- request ----------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    return None
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > _MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        state = self.server.state
        try:
            body = self._read_body()
        except (ValueError, OSError):
            body = None
        if body is None:
            self.close_connection = True
            self._send(json_reply({"error": "bad request framing"}, 400))
            return
        split = urlsplit(self.path)
        path = split.path
        route, params, other_method = self.server.find(self.command, path)
        provider = route.provider if route else _provider_for(path)
        op = route.op if route else "unknown"
        parsed: object | None = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                parsed = None
        record = RecordedRequest(
            provider=provider,
            op=op,
            method=self.command,
            path=path,
            query=dict(parse_qsl(split.query)),
            headers=dict(self.headers.items()),
            json=parsed,
            body=body,
            at=time.time(),
            client_port=int(self.client_address[1]) if len(self.client_address) > 1 else 0,
        )
        state.record(record)
        if route is None:
            status = 405 if other_method else 404
            shape = provider if provider in ("runcomfy", "wavespeed") else "wavespeed"
            self._send(json_reply(error_body(shape, status, f"no route for {self.command} {path}"), status))
            return
        fault = None
        if provider != "control":
            scopes = (provider,)
            if provider == "files":
                owner = state.owner_of_output(path.removeprefix("/files/"))
                scopes = (provider, owner) if owner else scopes
            fault = state.faults.take(_op_aliases(provider, op), scopes)
        if fault is not None and fault.kind not in AFTER_KINDS:
            self._apply_fault(fault, route, Call(record, params))
            return
        reply = self._handle(route, Call(record, params))
        if fault is not None and fault.kind == "reset_after_submit":
            self._abort()
            return
        if (
            fault is not None
            and fault.kind == "slow_after_submit"
            and state.stopping.wait(fault.delay or 1.0)
        ):
            self._abort()
            return
        self._send(reply)

    def _handle(self, route: Route, call: Call) -> Reply:
        try:
            return route.handler(self.server.state, call)
        except Exception:  # a bug in the fake: say so loudly, answer 500
            traceback.print_exc()
            return json_reply({"error": "the fake provider crashed; see stderr"}, 500)

    def _apply_fault(self, fault: Fault, route: Route, call: Call) -> None:
        state = self.server.state
        shape = route.provider
        if fault.kind == "status":
            status = fault.status or 500
            retry_after = (
                fault.retry_after if fault.retry_after is not None else (1 if status == 429 else None)
            )
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            if shape == "files" and fault.body is None:
                self._send(Reply(status=status, body=b"fault", headers=headers, content_type="text/plain"))
                return
            body = fault.body if fault.body is not None else error_body(shape, status)
            self._send(json_reply(body, status, headers))
        elif fault.kind == "slow":
            if state.stopping.wait(fault.delay if fault.delay is not None else 1.0):
                self._abort()
                return
            self._send(self._handle(route, call))
        elif fault.kind == "hang":
            state.stopping.wait()
            self._abort()
        elif fault.kind == "reset":
            if route.op == "download":
                reply = self._handle(route, call)
                if reply.file is not None:
                    self._send(reply, cut_after=fault.after_bytes, cut=True)
                    return
            self._abort()
        elif fault.kind == "malformed_json":
            self._send(Reply(status=200, body=malformed_json(shape)))
        elif fault.kind == "error_in_200":
            body = fault.body if fault.body is not None else error_in_200_body(shape, fault.status)
            self._send(json_reply(body, 200))

    # --- response ---------------------------------------------------------------------

    def _abort(self) -> None:
        """Close the socket with a TCP reset and no response: the client sees a
        connection error, not an HTTP status."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            os.close(sock.detach())

    def _send(self, reply: Reply, *, cut_after: int | None = None, cut: bool = False) -> None:
        if reply.file is not None:
            self._send_file(reply, cut_after=cut_after, cut=cut)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    def _send_file(self, reply: Reply, *, cut_after: int | None, cut: bool) -> None:
        path = reply.file
        assert path is not None
        try:
            size = path.stat().st_size
        except OSError:
            self._send(Reply(status=404, body=b"not found", content_type="text/plain"))
            return
        start, end, status = 0, size - 1, 200
        header = self.headers.get("Range")
        if header:
            match = _RANGE.match(header.strip())
            if match and (match.group(1) or match.group(2)):
                if match.group(1):
                    start = int(match.group(1))
                    end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
                else:  # suffix range: the last N bytes
                    start = max(0, size - int(match.group(2)))
                if start >= size or start > end:
                    self._send(
                        Reply(
                            status=416,
                            headers={"Content-Range": f"bytes */{size}"},
                            content_type="text/plain",
                        )
                    )
                    return
                status = 206
        length = end - start + 1 if size else 0
        self.send_response(status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        stat = path.stat()
        self.send_header("ETag", f'"{stat.st_size:x}-{int(stat.st_mtime):x}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        to_send = length
        if cut:
            to_send = min(length, cut_after if cut_after is not None else length // 2)
        with path.open("rb") as handle:
            self.wfile.flush()
            if to_send:
                self.connection.sendfile(handle, offset=start, count=to_send)
        if cut:
            # A clean close (FIN), not a reset: the client keeps exactly the bytes sent,
            # sees a body shorter than Content-Length, and can resume with a Range request.
            self.close_connection = True
