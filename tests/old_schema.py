"""Databases as older studios wrote them, for the migration tests (unit and integration).

The v1 jobs table is frozen here exactly as the first released schema created it (no
locator column, no groups): later versions must still open a file an old studio wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

V1_TABLE = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL,
    provider TEXT NOT NULL, prompt TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}',
    input_image TEXT, request_id TEXT, state TEXT NOT NULL, queue_position INTEGER,
    error_kind TEXT, error_message TEXT, remote_url TEXT, video_path TEXT, poster_path TEXT,
    video_duration REAL, video_width INTEGER, video_height INTEGER, video_bytes INTEGER,
    video_codec TEXT, seed INTEGER, nsfw INTEGER, provider_seconds REAL, created_at REAL NOT NULL,
    submitted_at REAL, started_at REAL, finished_at REAL, saved_at REAL,
    simulated INTEGER NOT NULL DEFAULT 0, note TEXT
);
CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC);
"""


def write_v1(db: Path, rows: Sequence[Mapping[str, object]]) -> None:
    """A v1 database at `db` holding `rows` (column -> value; the rest take their defaults)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    try:
        conn.executescript(V1_TABLE)
        for row in rows:
            names = ", ".join(row)
            conn.execute(f"INSERT INTO jobs ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    finally:
        conn.close()


def upgrade_to_v2(db: Path, locator: str = "{}") -> None:
    """Move a v1 file to v2 as the v2 studio did (the locator column), every row's locator
    set to `locator` (JSON)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("ALTER TABLE jobs ADD COLUMN locator TEXT NOT NULL DEFAULT '{}'")
        conn.execute("UPDATE jobs SET locator = ?", (locator,))
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    finally:
        conn.close()


# v3 as it was released: comparisons (the group_id column, the groups table).
V3_STEP = """
ALTER TABLE jobs ADD COLUMN group_id TEXT;
CREATE INDEX jobs_group ON jobs (group_id) WHERE group_id IS NOT NULL;
CREATE TABLE groups (
    id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, created_at REAL NOT NULL, data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX groups_owner_created ON groups (owner, created_at DESC, id DESC);
PRAGMA user_version = 3;
"""


def write_v3(db: Path, rows: Sequence[Mapping[str, object]]) -> None:
    """A v3 database at `db` holding `rows`, as a v3 studio left it: its jobs' notes and
    errors in English only (no codes)."""
    write_v1(db, rows)
    upgrade_to_v2(db)
    conn = sqlite3.connect(db)
    try:
        conn.executescript(V3_STEP)
        conn.commit()
    finally:
        conn.close()
