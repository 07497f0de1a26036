"""The job store's schema: the `jobs` table and its migrations, and the history totals
kept by triggers. jobs/store.py opens the file and calls `bring_up_to_date` and
`install_counts`.

Adding a JobRecord field means appending a migration that adds its column: `check_columns`
refuses to open a database where a field has no column, so a forgotten migration fails
loudly on the first start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from jobs.db import write_transaction

# v1: the jobs table and its indexes. A state CHECK constraint is left out on purpose:
# SQLite cannot alter a constraint without rebuilding the table, and states are checked here.
_V1 = (
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        model TEXT NOT NULL,
        provider TEXT NOT NULL,
        prompt TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        input_image TEXT,
        request_id TEXT,
        state TEXT NOT NULL,
        queue_position INTEGER,
        error_kind TEXT,
        error_message TEXT,
        remote_url TEXT,
        video_path TEXT,
        poster_path TEXT,
        video_duration REAL,
        video_width INTEGER,
        video_height INTEGER,
        video_bytes INTEGER,
        video_codec TEXT,
        seed INTEGER,
        nsfw INTEGER,
        provider_seconds REAL,
        created_at REAL NOT NULL,
        submitted_at REAL,
        started_at REAL,
        finished_at REAL,
        saved_at REAL,
        simulated INTEGER NOT NULL DEFAULT 0,
        note TEXT
    )
    """,
    # History paging: newest first per owner, keyset on (created_at, id).
    "CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC)",
    # History filters keep the same order so a filtered page is still an index walk.
    "CREATE INDEX jobs_owner_provider ON jobs (owner, provider, created_at DESC, id DESC)",
    "CREATE INDEX jobs_owner_model ON jobs (owner, model, created_at DESC, id DESC)",
    "CREATE INDEX jobs_owner_state ON jobs (owner, state, created_at DESC, id DESC)",
    # Resume on start: the unfinished jobs of every owner, oldest first.
    "CREATE INDEX jobs_state_created ON jobs (state, created_at)",
    # ETA: the latest successful runs of one model.
    "CREATE INDEX jobs_model_state_finished ON jobs (model, state, finished_at)",
)

# History totals without a scan: row counts per (owner, comparison, provider, model,
# state), kept by triggers in the connection's TEMP schema (`grp` is the job's group id, ''
# for a job of no comparison). Derived data, never stored in the file: rebuilt on open and
# whenever another connection has written (PRAGMA data_version), so it needs no migration
# and cannot drift. COUNT(*) walked every row of the owner's index: a quarter of a
# millisecond per 10,000 jobs, most of a history page's cost (bench/history.py); with
# comparisons it walked them with a subquery per row (jobs/history_query.total).
_COUNTS = (
    """
    CREATE TEMP TABLE job_counts (
        owner TEXT NOT NULL, grp TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
        state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (owner, grp, provider, model, state)
    ) WITHOUT ROWID
    """,
    """
    CREATE TEMP TRIGGER job_counts_insert AFTER INSERT ON main.jobs BEGIN
        INSERT INTO job_counts
            VALUES (NEW.owner, COALESCE(NEW.group_id, ''), NEW.provider, NEW.model, NEW.state, 1)
            ON CONFLICT (owner, grp, provider, model, state) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TEMP TRIGGER job_counts_delete AFTER DELETE ON main.jobs BEGIN
        UPDATE job_counts SET n = n - 1 WHERE owner = OLD.owner AND grp = COALESCE(OLD.group_id, '')
            AND provider = OLD.provider AND model = OLD.model AND state = OLD.state;
    END
    """,
    """
    CREATE TEMP TRIGGER job_counts_update AFTER UPDATE OF owner, group_id, provider, model, state ON main.jobs
    WHEN OLD.owner IS NOT NEW.owner OR OLD.group_id IS NOT NEW.group_id OR OLD.provider IS NOT NEW.provider
        OR OLD.model IS NOT NEW.model OR OLD.state IS NOT NEW.state
    BEGIN
        UPDATE job_counts SET n = n - 1 WHERE owner = OLD.owner AND grp = COALESCE(OLD.group_id, '')
            AND provider = OLD.provider AND model = OLD.model AND state = OLD.state;
        INSERT INTO job_counts
            VALUES (NEW.owner, COALESCE(NEW.group_id, ''), NEW.provider, NEW.model, NEW.state, 1)
            ON CONFLICT (owner, grp, provider, model, state) DO UPDATE SET n = n + 1;
    END
    """,
)

# v2: the job locator (what the adapter kept from the submit reply besides the request id).
# Rows from before it get '{}': their request id alone is the whole locator.
_V2 = ("ALTER TABLE jobs ADD COLUMN locator TEXT NOT NULL DEFAULT '{}'",)

# v3: comparisons (jobs/groups.py). A job names its group; a group row keeps its members'
# order, shared settings, pick and files as JSON (jobs/group_store.py). Older rows get NULL:
# a job of no group.
_V3 = (
    "ALTER TABLE jobs ADD COLUMN group_id TEXT",
    "CREATE INDEX jobs_group ON jobs (group_id) WHERE group_id IS NOT NULL",
    """
    CREATE TABLE groups (
        id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        created_at REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX groups_owner_created ON groups (owner, created_at DESC, id DESC)",
)

# MIGRATIONS[n] takes a database from user_version n to n + 1. Append only; never edit a
# released step (databases in the field have already run it).
MIGRATIONS: list[tuple[str, ...]] = [_V1, _V2, _V3]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def bring_up_to_date(conn: sqlite3.Connection, db_path: Path) -> None:
    """Run every migration the file has not had yet; refuse a file newer than this code."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"{db_path} has schema version {current}, newer than this studio "
            f"understands ({len(MIGRATIONS)}). Update the studio, or point STUDIO_DATA_DIR elsewhere."
        )
    for version in range(current, len(MIGRATIONS)):
        # Each step and its version bump commit together: a crash mid-migration leaves
        # the previous version, which the next start simply migrates again.
        with write_transaction(conn):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")


def check_columns(conn: sqlite3.Connection, fields: Iterable[str]) -> None:
    """RuntimeError naming every JobRecord field without a column."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    missing = [name for name in fields if name not in columns]
    if missing:
        raise RuntimeError(
            f"JobRecord field(s) {', '.join(missing)} have no column in the jobs table: "
            "add a migration to jobs/store_schema.py MIGRATIONS."
        )


def install_counts(conn: sqlite3.Connection) -> int:
    """Create the TEMP totals and their triggers on this connection and fill them;
    returns the `data_version` they were built at."""
    for statement in _COUNTS:
        conn.execute(statement)
    return rebuild_counts(conn)


def rebuild_counts(conn: sqlite3.Connection) -> int:
    """Recount the totals from the jobs table; returns the `data_version` they match."""
    conn.execute("DELETE FROM temp.job_counts")
    conn.execute(
        "INSERT INTO temp.job_counts SELECT owner, COALESCE(group_id, ''), provider, model, state, COUNT(*) "
        "FROM main.jobs GROUP BY owner, COALESCE(group_id, ''), provider, model, state"
    )
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
