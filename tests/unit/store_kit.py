"""What the job store's tests share: a minimal job record and an open store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jobs.records import JobRecord
from jobs.store import JobStore


def make_job(job_id: str, owner: str = "alice", created_at: float = 1000.0, **changes: object) -> JobRecord:
    base = JobRecord(
        id=job_id,
        owner=owner,
        kind="t2v",
        model="simulator/dreamina-3.0/text-to-video",
        provider="simulator",
        prompt=f"a cat on a skateboard ({job_id})",
        created_at=created_at,
    )
    return base.copy(**changes)



def open_store(tmp_path: Path) -> Iterator[JobStore]:
    """An open store in a fresh folder, closed afterwards (the `store` fixture)."""
    opened = JobStore(tmp_path / "db" / "studio.sqlite3")
    opened.open()
    yield opened
    opened.close()
