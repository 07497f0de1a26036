"""The durable job store: one SQLite table of jobs, which is also the history.

One row per job; the columns map 1:1 to `JobRecord` fields (the schema and its migrations
are in jobs/store_schema.py; a history query's SQL and cursor in jobs/history_query.py).

Durability: WAL (or, on a network mount, the DELETE journal with exclusive locking;
jobs/db.py opens the file). Every write is one transaction, so a crash at any instant
leaves either the old row or the new one, and a process crash loses nothing. What a power
cut may lose depends on the write: a new row, a provider request id and a deletion are
fsynced before the call returns (WAL: the log fsynced once the commit is in and the lock
let go; DELETE journal: `synchronous=FULL`), because a lost request id is a billed
job the studio no longer knows about. Progress and outcomes (queue position, running,
downloading, succeeded) are committed without their own fsync (`NORMAL`): a power cut can
roll back only the latest of them, never past a durable one (the WAL is replayed in order),
and the engine re-derives them by polling the job again from its request id. An fsync
happens on the caller's thread: the engine makes its durable writes from worker threads
(jobs/submitter.py, jobs/recorder.py) and its progress writes on its loop, where an fsync
each held every watcher up when 32 jobs finished at once (bench/concurrency.py).

Threading: one connection shared by the engine's event loop and worker threads
(`check_same_thread=False`), every use guarded by one lock; SQLite work here is sub-millisecond.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobs import history_query, store_schema
from jobs.db import connect, flush_wal, write_transaction
from jobs.db_journal import Journal
from jobs.history_query import MAX_PAGE, decode_cursor, encode_cursor
from jobs.records import ACTIVE_STATES, TERMINAL_STATES, HistoryPage, HistoryQuery, JobRecord
from jobs.store_schema import MIGRATIONS

# Names other modules and tests import from here (the schema and the cursor live apart).
__all__ = ["MAX_PAGE", "MIGRATIONS", "JobStore", "decode_cursor", "encode_cursor"]

# Fields stored in a non-native form: JSON text and 0/1 integers.
JSON_FIELDS: frozenset[str] = frozenset({"options", "locator", "note_params", "error_params"})
BOOL_FIELDS: frozenset[str] = frozenset({"nsfw", "simulated"})
KNOWN_STATES: frozenset[str] = ACTIVE_STATES | TERMINAL_STATES


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


# Method `JobStore.list` shadows the builtin inside the class body, so its annotations
# use these aliases.
Records = list[JobRecord]
Floats = list[float]
Strings = list[str]


class JobStore:
    """Jobs on disk. Open once per process; every method is safe to call from any thread."""

    def __init__(self, db_path: Path, journal: Journal = "wal") -> None:
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
            conn = connect(self.db_path, self.journal, "FULL")
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.create_function(
                    history_query.CONTAINS_FUNCTION, 2, history_query.casefold_contains, deterministic=True
                )
                store_schema.bring_up_to_date(conn, self.db_path)
                store_schema.check_columns(conn, self._fields)
                self._counts_version = store_schema.install_counts(conn)
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
        return store_schema.schema_version(conn)

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
        """A write transaction (jobs.db.write_transaction). `durable`: fsync the commit
        (and with it every earlier one) before returning. In WAL mode the fsync of the log
        comes after the lock is let go (jobs.db.flush_wal, as the ledger does): the lock is
        shared with the engine's loop, which otherwise waited out every fsync of a crowd's
        submits (a read beside 4 threads inserting: median 4.0 ms, p90 15.8 ms; now 0.2, 1.4).
        The DELETE journal's syncs cannot follow it out: SQLite makes them inside COMMIT, in
        the order that keeps the file whole (journal, database, then the zeroed journal header,
        the commit point), and COMMIT must run under the lock (the one connection is shared:
        another thread's statement would join the open transaction; and SQLite, serialized
        here, holds the connection's own mutex through COMMIT anyway). Deferring them would
        need synchronous=OFF, which a power cut can leave corrupt, not just behind.
        tests/integration/test_store_syncs.py shows both, with strace."""
        after_lock = durable and self.journal == "wal"
        with self._connection() as conn:
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable and not after_lock else 'NORMAL'}")
            with write_transaction(conn):
                yield conn
        if after_lock:
            flush_wal(self.db_path)

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
        fetches never shift or repeat what the next page shows. `total` counts every entry
        matching the filters (a comparison one entry when `one_per_group`): from the
        trigger-kept job_counts (jobs/history_query.total), a row count only with a text filter.
        """
        found = history_query.filters(owner, query)
        limit = history_query.page_limit(query)
        with self._connection() as conn:
            # One read transaction, so the page and its total come from the same snapshot.
            conn.execute("BEGIN")
            try:
                grouped = bool(conn.execute("SELECT 1 FROM groups WHERE owner = ? LIMIT 1", (owner,)).fetchone())
                if grouped:  # comparisons: one entry each, or their members (jobs/history_query.py)
                    clause, params = history_query.group_filter(query)
                    found = history_query.Filters((*found.where, clause), (*found.params, *params), found.has_text)
                page_where, page_params = list(found.where), list(found.params)
                if query.before:
                    created_at, job_id = decode_cursor(query.before)
                    page_where.append("(created_at, id) < (?, ?)")
                    page_params += [created_at, job_id]
                sql = f"SELECT * FROM jobs WHERE {' AND '.join(page_where)} ORDER BY created_at DESC, id DESC LIMIT ?"
                rows = conn.execute(sql, [*page_params, limit + 1]).fetchall()
                if int(conn.execute("PRAGMA data_version").fetchone()[0]) != self._counts_version:
                    # another connection wrote to the file
                    self._counts_version = store_schema.rebuild_counts(conn)
                count_sql, count_params = history_query.total(owner, query, grouped)
                total = conn.execute(count_sql, count_params).fetchone()[0]
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
