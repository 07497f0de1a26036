"""The durable job store: one SQLite table of jobs, which is also the history.

One row per job; the columns map 1:1 to `JobRecord` fields, so adding a field to the record
means adding a dataclass field and a migration that adds the column (`open()` refuses to run
when a field has no column, so a forgotten migration fails loudly on the first start).

Durability: WAL (or, on a network mount, the DELETE journal with exclusive locking). Every write is one transaction, so a crash at any instant leaves either
the old row or the new one, and a process crash loses nothing. What a power cut may lose
depends on the write: a new row, a provider request id and a deletion are fsynced before
the call returns (`synchronous=FULL`), because a lost request id is a billed job the studio
no longer knows about. Progress and outcomes (queue position, running, downloading,
succeeded) are committed without their own fsync (`NORMAL`): a power cut can roll back
only the latest of them, never past a durable one (the WAL is replayed in order), and the
engine re-derives them by polling the job again from its request id. The fsync happens on
the caller's thread, which for the engine is its event loop: with 32 jobs finishing at once,
an fsync per progress update held every watcher up (bench/concurrency.py).

Threading: one connection shared by the engine's event loop and worker threads
(`check_same_thread=False`), every use guarded by one lock; SQLite work here is sub-millisecond.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobs.records import ACTIVE_STATES, TERMINAL_STATES, HistoryPage, HistoryQuery, JobRecord

# Fields stored in a non-native form: JSON text and 0/1 integers.
JSON_FIELDS: frozenset[str] = frozenset({"options", "locator"})
BOOL_FIELDS: frozenset[str] = frozenset({"nsfw", "simulated"})
KNOWN_STATES: frozenset[str] = ACTIVE_STATES | TERMINAL_STATES
MAX_PAGE = 500

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

# History totals without a scan: row counts per (owner, provider, model, state), kept by
# triggers in the connection's TEMP schema. Derived data, never stored in the file: rebuilt
# on open and whenever another connection has written (PRAGMA data_version), so it needs no
# migration and cannot drift. COUNT(*) walked every row of the owner's index: a quarter of a
# millisecond per 10,000 jobs, most of a history page's cost (bench/history.py).
_COUNTS = (
    """
    CREATE TEMP TABLE job_counts (
        owner TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, state TEXT NOT NULL,
        n INTEGER NOT NULL, PRIMARY KEY (owner, provider, model, state)
    ) WITHOUT ROWID
    """,
    """
    CREATE TEMP TRIGGER job_counts_insert AFTER INSERT ON main.jobs BEGIN
        INSERT INTO job_counts VALUES (NEW.owner, NEW.provider, NEW.model, NEW.state, 1)
            ON CONFLICT (owner, provider, model, state) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TEMP TRIGGER job_counts_delete AFTER DELETE ON main.jobs BEGIN
        UPDATE job_counts SET n = n - 1 WHERE owner = OLD.owner AND provider = OLD.provider
            AND model = OLD.model AND state = OLD.state;
    END
    """,
    """
    CREATE TEMP TRIGGER job_counts_update AFTER UPDATE OF owner, provider, model, state ON main.jobs
    WHEN OLD.owner IS NOT NEW.owner OR OLD.provider IS NOT NEW.provider
        OR OLD.model IS NOT NEW.model OR OLD.state IS NOT NEW.state
    BEGIN
        UPDATE job_counts SET n = n - 1 WHERE owner = OLD.owner AND provider = OLD.provider
            AND model = OLD.model AND state = OLD.state;
        INSERT INTO job_counts VALUES (NEW.owner, NEW.provider, NEW.model, NEW.state, 1)
            ON CONFLICT (owner, provider, model, state) DO UPDATE SET n = n + 1;
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


def _encode(name: str, value: Any) -> Any:
    """A record field's value as stored in its column."""
    if name in JSON_FIELDS:
        return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True)
    if name in BOOL_FIELDS and value is not None:
        return int(bool(value))
    return value


def _decode(name: str, value: Any) -> Any:
    if name in JSON_FIELDS:
        return json.loads(value) if value else {}
    if name in BOOL_FIELDS and value is not None:
        return bool(value)
    return value


def _escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _casefold_contains(haystack: str | None, needle: str | None) -> int:
    """SQL function for non-ASCII search text: SQLite's LIKE folds case for ASCII only."""
    if haystack is None or needle is None:
        return 0
    return int(needle in haystack.casefold())


# Method `JobStore.list` shadows the builtin inside the class body, so its annotations
# use these aliases.
Records = list[JobRecord]
Floats = list[float]
Strings = list[str]


def encode_cursor(created_at: float, job_id: str) -> str:
    """The opaque cursor that points just past the job (created_at, job_id)."""
    raw = json.dumps([created_at, job_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Inverse of `encode_cursor`; ValueError for anything this store did not hand out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(created_at, bool) or not isinstance(created_at, (int, float)):
            raise TypeError("created_at")
        if not isinstance(job_id, str):
            raise TypeError("id")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError(
            f"The history cursor {cursor!r} is not valid; start again from the first page."
        ) from exc
    return float(created_at), job_id


class JobStore:
    """Jobs on disk. Open once per process; every method is safe to call from any thread."""

    def __init__(self, db_path: Path, journal: str = "wal") -> None:
        self.db_path = Path(db_path)
        # "wal" on a local disk; "delete" (with exclusive locking) on a network or bucket
        # mount, where WAL's shared memory is not safe (jobs/db_journal.py chooses).
        self.journal = journal
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._counts_version: int | None = None  # data_version job_counts was built at
        self._fields: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(JobRecord))

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, set the pragmas and bring the schema up to date. Safe to call twice."""
        with self._lock:
            if self._conn is not None:
                return
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; every write below says BEGIN.
            conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None, timeout=5.0)
            try:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA busy_timeout = 5000")
                if self.journal == "delete":
                    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
                    conn.execute("PRAGMA journal_mode = DELETE")
                else:
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.create_function("studio_contains", 2, _casefold_contains, deterministic=True)
                self._migrate(conn)
                self._check_columns(conn)
                for statement in _COUNTS:
                    conn.execute(statement)
                self._rebuild_counts(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @staticmethod
    def schema_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, conn: sqlite3.Connection) -> None:
        current = self.schema_version(conn)
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.db_path} has schema version {current}, newer than this studio "
                f"understands ({len(MIGRATIONS)}). Update the studio, or point STUDIO_DATA_DIR elsewhere."
            )
        for version in range(current, len(MIGRATIONS)):
            # Each step and its version bump commit together: a crash mid-migration leaves
            # the previous version, which the next start simply migrates again.
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _rebuild_counts(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM temp.job_counts")
        conn.execute(
            "INSERT INTO temp.job_counts SELECT owner, provider, model, state, COUNT(*) "
            "FROM main.jobs GROUP BY owner, provider, model, state"
        )
        self._counts_version = int(conn.execute("PRAGMA data_version").fetchone()[0])

    def _check_columns(self, conn: sqlite3.Connection) -> None:
        columns = {row["name"] for row in conn.execute("PRAGMA table_info(jobs)")}
        missing = [name for name in self._fields if name not in columns]
        if missing:
            raise RuntimeError(
                f"JobRecord field(s) {', '.join(missing)} have no column in the jobs table: "
                "add a migration to jobs/store.py MIGRATIONS."
            )

    # -- plumbing --------------------------------------------------------------------------

    def reading(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """The connection, held for reads by a table's own module (jobs/group_store.py)."""
        return self._connection()

    def writing(self, durable: bool = True) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction for a table's own module (jobs/group_store.py)."""
        return self._transaction(durable)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise RuntimeError("JobStore is not open: call open() first.")
            yield self._conn

    @contextmanager
    def _transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction. IMMEDIATE takes the write lock up front, so another process
        writing the same file makes us wait (busy_timeout) rather than fail mid-way.
        `durable`: fsync the commit (and with it every earlier one) before returning."""
        with self._connection() as conn:
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _record(self, row: sqlite3.Row) -> JobRecord:
        return JobRecord.from_dict({name: _decode(name, row[name]) for name in self._fields})

    def _select(self, sql: str, params: Collection[Any] = ()) -> Records:
        with self._connection() as conn:
            rows = conn.execute(sql, tuple(params)).fetchall()
        return [self._record(row) for row in rows]

    @staticmethod
    def _check_state(state: Any) -> None:
        if state not in KNOWN_STATES:
            raise ValueError(f"Unknown job state {state!r}; expected one of {sorted(KNOWN_STATES)}.")

    # -- writes ----------------------------------------------------------------------------

    def insert(self, record: JobRecord) -> None:
        """Add a new job. sqlite3.IntegrityError if the id already exists."""
        self._check_state(record.state)
        values = record.to_dict()
        columns = ", ".join(self._fields)
        marks = ", ".join("?" for _ in self._fields)
        params = [_encode(name, values[name]) for name in self._fields]
        with self._transaction() as conn:
            conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks})", params)

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Change some fields of one job in one transaction and return the whole new record.

        KeyError if there is no such job; TypeError for a name that is not a JobRecord field
        (or `id`, which never changes); ValueError for an unknown state.
        """
        unknown = [name for name in changes if name not in self._fields or name == "id"]
        if unknown:
            raise TypeError(f"JobStore.update() cannot set {', '.join(sorted(unknown))}")
        if "state" in changes:
            self._check_state(changes["state"])
        # Encode before the transaction: a value that cannot be stored fails with nothing written.
        params = [_encode(name, value) for name, value in changes.items()]
        with self._transaction(durable="request_id" in changes or "locator" in changes) as conn:
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)
                conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*params, job_id])
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise KeyError(job_id)
        return self._record(row)

    def delete(
        self, job_id: str, owner: str, *, only_states: Collection[str] | None = None
    ) -> JobRecord | None:
        """Delete the owner's job and return what it was; None if it is not theirs (or,
        with `only_states`, not in one of those states: the check and the delete are atomic)."""
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ? AND owner = ?", (job_id, owner)).fetchone()
            if row is None or (only_states is not None and row["state"] not in only_states):
                return None
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return self._record(row)

    # -- reads -----------------------------------------------------------------------------

    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        """One job; with `owner`, None unless the job is that owner's."""
        if owner is None:
            found = self._select("SELECT * FROM jobs WHERE id = ?", (job_id,))
        else:
            found = self._select("SELECT * FROM jobs WHERE id = ? AND owner = ?", (job_id, owner))
        return found[0] if found else None

    def list(self, owner: str, query: HistoryQuery) -> HistoryPage:
        """One page of the owner's history, newest first.

        Keyset paging: the cursor is the last row's (created_at, id), so a page costs an
        index walk of `limit` rows however long the history, and rows added between two
        fetches never shift or repeat what the next page shows. `total` counts every row
        matching the filters: from the trigger-kept job_counts when there is no text filter
        (constant time), else a count over the owner's index.
        """
        where = ["owner = ?"]
        params: list[Any] = [owner]
        for column in ("provider", "model", "state"):
            value = getattr(query, column)
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        text = (query.text or "").strip()
        if text:
            if text.isascii():
                where.append("prompt LIKE ? ESCAPE '\\'")
                params.append(f"%{_escape_like(text)}%")
            else:
                where.append("studio_contains(prompt, ?)")
                params.append(text.casefold())
        limit = max(1, min(int(query.limit), MAX_PAGE))
        page_where = list(where)
        page_params = list(params)
        if query.before:
            created_at, job_id = decode_cursor(query.before)
            page_where.append("(created_at, id) < (?, ?)")
            page_params += [created_at, job_id]
        sql = f"SELECT * FROM jobs WHERE {' AND '.join(page_where)} ORDER BY created_at DESC, id DESC LIMIT ?"
        with self._connection() as conn:
            # One read transaction, so the page and its total come from the same snapshot.
            conn.execute("BEGIN")
            try:
                rows = conn.execute(sql, [*page_params, limit + 1]).fetchall()
                if text:  # prompt text is not in the counts: count the matching rows
                    count_sql = f"SELECT COUNT(*) FROM jobs WHERE {' AND '.join(where)}"
                else:
                    if int(conn.execute("PRAGMA data_version").fetchone()[0]) != self._counts_version:
                        self._rebuild_counts(conn)  # another connection wrote to the file
                    count_sql = f"SELECT COALESCE(SUM(n), 0) FROM temp.job_counts WHERE {' AND '.join(where)}"
                total = conn.execute(count_sql, params).fetchone()[0]
            finally:
                conn.execute("COMMIT")
        items = [self._record(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(last.created_at, last.id)
        return HistoryPage(items=items, next_cursor=next_cursor, total=int(total))

    def unfinished(self) -> Records:
        """Every owner's jobs that are not finished, oldest first: what the engine resumes."""
        marks = ", ".join("?" for _ in ACTIVE_STATES)
        return self._select(
            f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created_at, id", sorted(ACTIVE_STATES)
        )

    def active(self, owner: str) -> Records:
        """The owner's unfinished jobs, oldest first."""
        marks = ", ".join("?" for _ in ACTIVE_STATES)
        return self._select(
            f"SELECT * FROM jobs WHERE owner = ? AND state IN ({marks}) ORDER BY created_at, id",
            [owner, *sorted(ACTIVE_STATES)],
        )

    def run_durations(self, model: str, limit: int = 20) -> Floats:
        """Submit-to-finish seconds of the model's latest successful runs, latest first."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT finished_at - submitted_at FROM jobs "
                "WHERE model = ? AND state = 'succeeded' AND finished_at IS NOT NULL "
                "AND submitted_at IS NOT NULL AND finished_at >= submitted_at "
                "ORDER BY finished_at DESC LIMIT ?",
                (model, max(0, int(limit))),
            ).fetchall()
        return [float(row[0]) for row in rows]

    def count_created_since(self, owner: str, since: float) -> int:
        """How many jobs the owner created at or after `since` (the hourly limit)."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE owner = ? AND created_at >= ?", (owner, since)
            ).fetchone()
        return int(row[0])

    def finished_with_files_oldest_first(self, limit: int = 100) -> Records:
        """Finished jobs (any owner) that still reference a local file, oldest first:
        the candidates when the data folder is over its size cap."""
        marks = ", ".join("?" for _ in TERMINAL_STATES)
        return self._select(
            f"SELECT * FROM jobs WHERE state IN ({marks}) AND (video_path IS NOT NULL "
            "OR poster_path IS NOT NULL OR input_image IS NOT NULL) ORDER BY created_at, id LIMIT ?",
            [*sorted(TERMINAL_STATES), max(0, int(limit))],
        )

    def references(self, path: str) -> int:
        """How many jobs name `path` as their video, poster or input image; a file is only
        removed once nothing refers to it (an input image may be reused by a re-run)."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE video_path = ?1 OR poster_path = ?1 OR input_image = ?1",
                (path,),
            ).fetchone()
        return int(row[0])

    def integrity_ok(self) -> bool:
        """Whether SQLite's full integrity check finds nothing wrong."""
        with self._connection() as conn:
            try:
                rows = conn.execute("PRAGMA integrity_check").fetchall()
            except sqlite3.DatabaseError:
                return False  # damaged badly enough that the check itself cannot run
        return [tuple(row) for row in rows] == [("ok",)]

    def explain(self, sql: str, params: Collection[Any] = ()) -> Strings:
        """The query plan of `sql`, for tests and benchmarks that check an index is used."""
        with self._connection() as conn:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(params)).fetchall()
        return [str(row["detail"]) for row in rows]
