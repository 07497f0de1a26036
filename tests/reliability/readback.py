"""What the reliability tests read back once something has happened: every byte the fake
providers recorded of a request, a job's final record (polled through /job), every job
/history lists for a caller, and where the app keeps a job's files on disk (read from its
database). The processes those come from, and the calls that make them, are in
tests/reliability/harness.py.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.reliability.harness import AppProcess

TERMINAL = ("succeeded", "failed", "cancelled")


def request_bytes(request: Mapping[str, Any]) -> bytes:
    """Everything the fake recorded of one request: headers and body."""
    body = base64.b64decode(request.get("body_b64") or "")
    headers = "\n".join(f"{k}: {v}" for k, v in (request.get("headers") or {}).items())
    return headers.encode() + b"\n" + body


def wait_for_job(client: Any, job_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll /job until the job is finished; its final record."""
    last: dict[str, Any] = {}

    def finished() -> dict[str, Any] | None:
        nonlocal last
        last = client.predict(job_id=job_id, api_name="/job")
        return last if last["state"] in TERMINAL else None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = finished()
        if record:
            return record
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {last.get('state')} after {timeout:.0f} s: {last}")


def all_history(client: Any, **filters: Any) -> list[dict[str, Any]]:
    """Every job /history returns for this caller, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(1000):
        page = client.predict(cursor=cursor, limit=200, api_name="/history", **filters)
        items += page["items"]
        cursor = page["next_cursor"] or ""
        if not cursor:
            return items
    raise AssertionError("/history kept returning a next_cursor")


def stored_files(app: AppProcess, job_id: str) -> dict[str, str | None]:
    """Where the app keeps a job's files on disk (video_path, poster_path, input_image),
    read from its database: the API no longer says (it answers with signed URLs)."""
    import sqlite3

    with sqlite3.connect(f"file:{app.data_dir / 'studio.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
        row = db.execute(
            "SELECT video_path, poster_path, input_image FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
    assert row is not None, f"no job {job_id} in the database"
    return dict(zip(("video_path", "poster_path", "input_image"), row, strict=True))
