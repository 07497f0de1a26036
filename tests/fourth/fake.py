"""KeyHub's local HTTP fake (127.0.0.1 only), learned from tests/fourth/keyhub.py's
docstring (KeyHub's "published" API), not from the adapter code.

A job answers IN_QUEUE on its first status request, IN_PROGRESS on its second, and
COMPLETED (with the sample video's URL) from the third on. The status URL carries a token
unrelated to the request id, so only a client that kept the submit reply can poll.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class KeyHubFake:
    key: str
    video: Path
    requests: list[Seen] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> job
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> KeyHubFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, payload: object = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "video/mp4" if raw is not None else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                return self.headers.get("Authorization") == f"Key {fake.key}"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append(Seen("POST", self.path, dict(self.headers), body))
                if not self._authorised():
                    return self._reply(401, {"detail": "invalid key"})
                if not self.path.startswith("/v1/run/"):
                    return self._reply(404, {"detail": "no such model"})
                request_id, token = f"kh-{secrets.token_hex(6)}", secrets.token_hex(8)
                fake.jobs[token] = {"id": request_id, "polls": 0, "body": body}
                self._reply(200, {"request_id": request_id, "status_url": f"{fake.url}/queue/{token}/status"})

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(Seen("GET", self.path, dict(self.headers)))
                if self.path.startswith("/files/"):
                    return self._reply(200, raw=fake.video.read_bytes())
                parts = self.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "queue" or parts[2] != "status":
                    return self._reply(404, {"detail": "not found"})
                if not self._authorised():
                    return self._reply(401, {"detail": "invalid key"})
                job = fake.jobs.get(parts[1])
                if job is None:
                    return self._reply(404, {"detail": "no such job"})
                job["polls"] += 1
                if job["polls"] == 1:
                    return self._reply(200, {"status": "IN_QUEUE", "queue_position": 1})
                if job["polls"] == 2:
                    return self._reply(200, {"status": "IN_PROGRESS"})
                self._reply(200, {"status": "COMPLETED", "video": {"url": f"{fake.url}/files/{job['id']}.mp4"}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="keyhub-fake", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
