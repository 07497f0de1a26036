"""The job store's schema: the `jobs` table and its migrations, and the history totals
kept by triggers. jobs/store.py opens the file and calls `bring_up_to_date` and
`install_counts`.

Adding a JobRecord field means appending a migration that adds its column: `check_columns`
refuses to open a database where a field has no column, so a forgotten migration fails
loudly on the first start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from jobs import legacy_words
from jobs.db import write_transaction

# A migration step: an SQL statement, or a function of the connection (inside the step's
# transaction) for what SQL alone cannot do.
Step = str | Callable[[sqlite3.Connection], None]

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

# History totals without a scan, kept by triggers in the connection's TEMP schema:
# - job_counts: jobs per (owner, provider, model, state);
# - member_counts: the same for the members of comparisons;
# - group_counts: a comparison's members per (provider, model, state);
# - group_states: a comparison's members per state ('' for any state), and group_entries:
#   per (owner, state) how many comparisons have a member in that state (the history's one
#   entry per comparison);
# - hidden_groups: the blind comparisons still hiding their members (no pick yet).
# Derived data, never stored in the file: rebuilt on open and whenever another connection has
# written (PRAGMA data_version), so it needs no migration and cannot drift. COUNT(*) walked
# every row of the owner's index: a quarter of a millisecond per 10,000 jobs, most of a
# history page's cost; for an owner with comparisons, with a subquery per row: over a second
# (bench/history.py; the queries are jobs/history_query.total).
_TABLES = {
    "job_counts": "owner, provider, model, state",
    "member_counts": "owner, provider, model, state",
    "group_counts": "owner, grp, provider, model, state",
    "group_states": "owner, grp, state",
    "group_entries": "owner, state",
}
_HIDDEN = "json_extract({row}.data, '$.blind') = 1 AND json_extract({row}.data, '$.pick') IS NULL"


def _values(table: str, row: str) -> str:
    """The key of `table` from a jobs row (NEW or OLD); `state` itself, or '' for group_states' 'any'."""
    return ", ".join(f"{row}.{'group_id' if c == 'grp' else c}" for c in _TABLES[table].split(", "))


def _add(table: str, row: str, *, grouped: bool = False, state: str | None = None) -> str:
    """One more of `row` (NEW) in `table`; `grouped`: only for a comparison's member."""
    values = _values(table, row) if state is None else f"{row}.owner, {row}.group_id, {state}"
    where = f" WHERE {row}.group_id IS NOT NULL" if grouped else ""
    return (
        f"INSERT INTO {table} ({_TABLES[table]}, n) SELECT {values}, 1{where} "
        f"ON CONFLICT ({_TABLES[table]}) DO UPDATE SET n = n + 1;"
    )


def _remove(table: str, row: str, *, grouped: bool = False, state: str | None = None) -> str:
    """One fewer of `row` (OLD) in `table`; `grouped`: only for a comparison's member."""
    names = _TABLES[table].split(", ")
    values = _values(table, row).split(", ") if state is None else [f"{row}.owner", f"{row}.group_id", state]
    where = " AND ".join(f"{name} = {value}" for name, value in zip(names, values, strict=True))
    member = f" AND {row}.group_id IS NOT NULL" if grouped else ""
    return f"UPDATE {table} SET n = n - 1 WHERE {where}{member};"


def _job_counts(row: str, change: Callable[..., str]) -> str:
    """The statements that count `row` (NEW or OLD) in or out of every kept count: `change`
    is _add or _remove."""
    return " ".join(
        [
            change("job_counts", row),
            change("member_counts", row, grouped=True),
            change("group_counts", row, grouped=True),
            change("group_states", row, grouped=True, state=f"{row}.state"),
            change("group_states", row, grouped=True, state="''"),
        ]
    )


_COUNTS = (
    *(
        f"CREATE TEMP TABLE {table} ({', '.join(f'{c} TEXT NOT NULL' for c in key.split(', '))}, "
        f"n INTEGER NOT NULL, PRIMARY KEY ({key})) WITHOUT ROWID"
        for table, key in _TABLES.items()
    ),
    "CREATE TEMP TABLE hidden_groups (owner TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (owner, id)) WITHOUT ROWID",
    f"CREATE TEMP TRIGGER job_counts_insert AFTER INSERT ON main.jobs BEGIN {_job_counts('NEW', _add)} END",
    f"CREATE TEMP TRIGGER job_counts_delete AFTER DELETE ON main.jobs BEGIN {_job_counts('OLD', _remove)} END",
    f"""
    CREATE TEMP TRIGGER job_counts_update AFTER UPDATE OF owner, group_id, provider, model, state ON main.jobs
    WHEN OLD.owner IS NOT NEW.owner OR OLD.group_id IS NOT NEW.group_id OR OLD.provider IS NOT NEW.provider
        OR OLD.model IS NOT NEW.model OR OLD.state IS NOT NEW.state
    BEGIN {_job_counts('OLD', _remove)} {_job_counts('NEW', _add)} END
    """,
    # A comparison's first member in a state makes it an entry of that state; its last one's
    # leaving takes it out.
    """
    CREATE TEMP TRIGGER group_entries_insert AFTER INSERT ON group_states WHEN NEW.n > 0 BEGIN
        INSERT INTO group_entries VALUES (NEW.owner, NEW.state, 1)
            ON CONFLICT (owner, state) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TEMP TRIGGER group_entries_update AFTER UPDATE OF n ON group_states
    WHEN (OLD.n > 0) IS NOT (NEW.n > 0) BEGIN
        INSERT INTO group_entries VALUES (NEW.owner, NEW.state, 1)
            ON CONFLICT (owner, state) DO UPDATE SET n = n + (CASE WHEN NEW.n > 0 THEN 1 ELSE -1 END);
    END
    """,
    f"""
    CREATE TEMP TRIGGER hidden_groups_insert AFTER INSERT ON main.groups WHEN {_HIDDEN.format(row="NEW")} BEGIN
        INSERT OR IGNORE INTO hidden_groups VALUES (NEW.owner, NEW.id);
    END
    """,
    f"""
    CREATE TEMP TRIGGER hidden_groups_update AFTER UPDATE ON main.groups BEGIN
        DELETE FROM hidden_groups WHERE owner = OLD.owner AND id = OLD.id;
        INSERT OR IGNORE INTO hidden_groups SELECT NEW.owner, NEW.id WHERE {_HIDDEN.format(row="NEW")};
    END
    """,
    """
    CREATE TEMP TRIGGER hidden_groups_delete AFTER DELETE ON main.groups BEGIN
        DELETE FROM hidden_groups WHERE owner = OLD.owner AND id = OLD.id;
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

# v4: a job's note and error keep their code and parameters beside the English
# (jobs/job_words.py), so a page says them in its language without matching the English.
# Older rows are read once, by the English a v3 studio wrote (jobs/legacy_words.py).
_V4: tuple[Step, ...] = (
    "ALTER TABLE jobs ADD COLUMN note_code TEXT",
    "ALTER TABLE jobs ADD COLUMN note_params TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE jobs ADD COLUMN error_code TEXT",
    "ALTER TABLE jobs ADD COLUMN error_params TEXT NOT NULL DEFAULT '{}'",
    legacy_words.convert,
)

# MIGRATIONS[n] takes a database from user_version n to n + 1. Append only; never edit a
# released step (databases in the field have already run it).
MIGRATIONS: list[tuple[Step, ...]] = [_V1, _V2, _V3, _V4]


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
                if callable(statement):
                    statement(conn)
                else:
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
    """Recount the totals from the jobs and groups tables; returns the `data_version` they match."""
    for table in (*_TABLES, "hidden_groups"):
        conn.execute(f"DELETE FROM temp.{table}")
    member = "WHERE group_id IS NOT NULL"
    for table, where in (("job_counts", ""), ("member_counts", member), ("group_counts", member)):
        key = _TABLES[table].replace("grp", "group_id")
        conn.execute(f"INSERT INTO temp.{table} SELECT {key}, COUNT(*) FROM main.jobs {where} GROUP BY {key}")
    # group_entries follows from group_states by its insert trigger.
    conn.execute(
        "INSERT INTO temp.group_states SELECT owner, group_id, state, COUNT(*) FROM main.jobs "
        f"{member} GROUP BY owner, group_id, state"
    )
    conn.execute(
        f"INSERT INTO temp.group_states SELECT owner, group_id, '', COUNT(*) FROM main.jobs {member} "
        "GROUP BY owner, group_id"
    )
    conn.execute(f"INSERT INTO temp.hidden_groups SELECT owner, id FROM main.groups g WHERE {_HIDDEN.format(row='g')}")
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
