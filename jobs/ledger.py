"""The spend ledger: one entry per job sent to a provider, apart from the job rows, so
deleting a job from history never gives its money back.

An entry is written as a *reservation* before the submit is sent, inside the same SQLite
transaction that checked the limits (jobs.limits), so parallel submits cannot all see room
for one more. Then it becomes:
  charged   the provider accepted the job (it bills it);
  unknown   the outcome was ambiguous (the job may exist and be billed): it keeps counting;
  refunded  the provider documents a refund for what happened (e.g. WaveSpeedAI refunds
            failed requests); `note` says which rule applied.
A definite refusal (nothing created) removes the reservation. A reservation found on start
belongs to a submit the process did not see end: it becomes `unknown`.

Storage: its own SQLite file (`spend.sqlite3`), so its writes never make the job store
rebuild its derived counts (it does when another connection writes its file). Commits do
not fsync (synchronous=NORMAL): the engine calls `flush()` off its event loop, alongside
the job row's fsynced insert, before the submit is sent, so a reservation is on disk before
the provider hears of the job. A later settlement lost to a power cut leaves the entry
`reserved`, which the next start turns into `unknown`: still counted. A visitor's address
(`quota_key`) is stored only as an HMAC under a random per-database salt.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jobs.db import Synchronous, connect, flush_wal, write_transaction
from jobs.db_journal import Journal

EntryState = Literal["reserved", "charged", "unknown", "refunded"]
# Entries that cost (or may cost) money. Refunded ones still count as jobs made.
COSTING = ("reserved", "charged", "unknown")


def _day(column: str) -> str:
    """SQL for the UTC day a timestamp column falls in (SQLite's % works on integers)."""
    return f"(CAST({column} AS INTEGER) - CAST({column} AS INTEGER) % 86400)"


_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS spend (
        job_id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        quota_key TEXT,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        usd REAL NOT NULL,
        price_source TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        settled_at REAL,
        note TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS spend_created ON spend (created_at)",
    "CREATE INDEX IF NOT EXISTS spend_owner_created ON spend (owner, created_at)",
    "CREATE INDEX IF NOT EXISTS spend_quota_created ON spend (quota_key, created_at)",
    "CREATE TABLE IF NOT EXISTS spend_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
    # The whole server's USD per UTC day, kept by triggers so the daily limit's check reads
    # one row instead of summing a busy day's entries (bench/reservation.py). Derived data:
    # rebuilt from `spend` on every open, so it cannot drift.
    "CREATE TABLE IF NOT EXISTS spend_days (day REAL PRIMARY KEY NOT NULL, usd REAL NOT NULL) WITHOUT ROWID",
    f"""
    CREATE TRIGGER IF NOT EXISTS spend_days_insert AFTER INSERT ON spend
    WHEN NEW.state IN {COSTING} BEGIN
        INSERT INTO spend_days VALUES ({_day('NEW.created_at')}, NEW.usd)
            ON CONFLICT (day) DO UPDATE SET usd = usd + NEW.usd;
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS spend_days_delete AFTER DELETE ON spend
    WHEN OLD.state IN {COSTING} BEGIN
        UPDATE spend_days SET usd = usd - OLD.usd WHERE day = {_day('OLD.created_at')};
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS spend_days_update AFTER UPDATE OF state ON spend
    WHEN (OLD.state IN {COSTING}) IS NOT (NEW.state IN {COSTING}) BEGIN
        UPDATE spend_days
            SET usd = usd + CASE WHEN NEW.state IN {COSTING} THEN NEW.usd ELSE -OLD.usd END
            WHERE day = {_day('OLD.created_at')};
    END
    """,
)
_REBUILD_DAYS = (
    "DELETE FROM spend_days",
    f"INSERT INTO spend_days SELECT {_day('created_at')} AS day, SUM(usd) FROM spend "
    f"WHERE state IN {COSTING} GROUP BY day",
)


@dataclass(frozen=True)
class Entry:
    job_id: str
    owner: str
    quota_key: str | None  # the HMAC, never the address
    provider: str
    model: str
    usd: float
    price_source: str
    state: EntryState
    created_at: float
    settled_at: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Usage:
    """What one scope has used in a window: jobs made and USD that costs or may cost."""

    jobs: int
    usd: float


def day_start(now: float) -> float:
    """Midnight UTC of `now`'s day: daily limits renew then."""
    return now - (now % 86400)


def month_start(now: float) -> float:
    tm = time.gmtime(now)
    return float(calendar.timegm((tm.tm_year, tm.tm_mon, 1, 0, 0, 0)))


class Ledger:
    """The spend table. Thread-safe; `transaction()` is the atomic check-and-reserve step."""

    def __init__(self, db_path: Path, journal: Journal = "wal") -> None:
        self._path = db_path
        # "wal" on a local disk; "delete" with exclusive locking on a network or bucket
        # mount (jobs/db_journal.py), where every commit is synced instead (no WAL to flush).
        self._journal = journal
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._salt = b""

    def open(self) -> None:
        # In WAL, commits are made durable by `flush()`; the DELETE journal has no log to
        # flush later, so there every commit is synced.
        synchronous: Synchronous = "NORMAL" if self._journal == "wal" else "FULL"
        self._conn = connect(self._path, self._journal, synchronous, busy_seconds=10.0)
        with self.transaction() as tx:
            for statement in (*_SCHEMA, *_REBUILD_DAYS):
                tx.execute(statement)
            row = tx.execute("SELECT value FROM spend_meta WHERE name = 'salt'").fetchone()
            if row is None:
                salt = secrets.token_hex(16)
                tx.execute("INSERT INTO spend_meta VALUES ('salt', ?)", (salt,))
            else:
                salt = row["value"]
            # A submit the last process did not see end may have reached the provider.
            tx.execute(
                "UPDATE spend SET state = 'unknown', note = ? WHERE state = 'reserved'",
                ("The studio stopped while this job was being sent; it may have been billed.",),
            )
        self._salt = bytes.fromhex(salt)

    def flush(self) -> None:
        """Make every commit so far durable (jobs.db.flush_wal). Blocking: call it off the
        event loop."""
        flush_wal(self._path)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so no other writer, in
        this process or another, can slip between a check and the insert it allows."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("Ledger.open() has not been called")
            with write_transaction(conn) as tx:
                yield tx

    def hash_quota_key(self, quota_key: str | None) -> str | None:
        if not quota_key:
            return None
        return hmac.new(self._salt, quota_key.encode(), hashlib.sha256).hexdigest()[:32]

    # --- reading (also inside a transaction: pass `conn`) --------------------------------

    def usage(
        self,
        since: float,
        *,
        owner: str | None = None,
        quota_hash: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> Usage:
        """Jobs and USD since `since` for one owner, one hashed address, or (neither) everyone."""
        where, params = ["created_at >= ?"], [since]
        if owner is not None:
            where.append("owner = ?")
            params.append(owner)  # type: ignore[arg-type]
        if quota_hash is not None:
            where.append("quota_key = ?")
            params.append(quota_hash)  # type: ignore[arg-type]
        sql = (
            "SELECT COUNT(*) AS jobs, COALESCE(SUM(CASE WHEN state IN ('reserved','charged','unknown') "
            f"THEN usd END), 0) AS usd FROM spend WHERE {' AND '.join(where)}"
        )
        with self._lock:
            target = conn or self._conn
            assert target is not None
            row = target.execute(sql, params).fetchone()
        return Usage(int(row["jobs"]), float(row["usd"]))

    def server_usd_on(self, day: float, conn: sqlite3.Connection) -> float:
        """The whole server's USD on the UTC day starting at `day` (see spend_days)."""
        row = conn.execute("SELECT usd FROM spend_days WHERE day = ?", (day,)).fetchone()
        return float(row["usd"]) if row else 0.0

    def oldest_since(
        self,
        since: float,
        *,
        owner: str | None = None,
        quota_hash: str | None = None,
        conn: sqlite3.Connection,
    ) -> float | None:
        """When the oldest entry of the window was made (the rolling hour renews from it)."""
        column, value = ("owner", owner) if owner is not None else ("quota_key", quota_hash)
        row = conn.execute(
            f"SELECT MIN(created_at) AS t FROM spend WHERE created_at >= ? AND {column} = ?", (since, value)
        ).fetchone()
        return float(row["t"]) if row and row["t"] is not None else None

    def entry(self, job_id: str) -> Entry | None:
        with self._lock:
            assert self._conn is not None
            row = self._conn.execute("SELECT * FROM spend WHERE job_id = ?", (job_id,)).fetchone()
        return Entry(**dict(row)) if row else None

    def entries(self, owner: str | None = None) -> list[Entry]:
        sql, params = "SELECT * FROM spend", ()
        if owner is not None:
            sql, params = "SELECT * FROM spend WHERE owner = ?", (owner,)  # type: ignore[assignment]
        with self._lock:
            assert self._conn is not None
            rows = self._conn.execute(sql + " ORDER BY created_at", params).fetchall()
        return [Entry(**dict(row)) for row in rows]

    # --- writing ---------------------------------------------------------------------

    @staticmethod
    def reserve(conn: sqlite3.Connection, entry: Entry) -> None:
        """Insert a reservation; call inside `transaction()` after checking the limits."""
        conn.execute(
            "INSERT INTO spend (job_id, owner, quota_key, provider, model, usd, price_source, state, "
            "created_at, settled_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, 'reserved', ?, NULL, NULL)",
            (
                entry.job_id,
                entry.owner,
                entry.quota_key,
                entry.provider,
                entry.model,
                entry.usd,
                entry.price_source,
                entry.created_at,
            ),
        )

    def _set(self, job_id: str, sql: str, params: tuple[Any, ...]) -> None:
        with self.transaction() as conn:
            conn.execute(sql, (*params, job_id))

    def charge(self, job_id: str, now: float) -> None:
        """The provider accepted the job."""
        self._set(job_id, "UPDATE spend SET state = 'charged', settled_at = ? WHERE job_id = ?", (now,))

    def keep_unknown(self, job_id: str, now: float, note: str) -> None:
        """The submit's outcome is ambiguous: the reservation stays, as money maybe spent."""
        self._set(
            job_id,
            "UPDATE spend SET state = 'unknown', settled_at = ?, note = ? WHERE job_id = ?",
            (now, note),
        )

    def release(self, job_id: str) -> None:
        """The provider definitely refused (nothing created): the reservation goes."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM spend WHERE job_id = ? AND state = 'reserved'", (job_id,))

    def refund(self, job_id: str, now: float, note: str) -> None:
        """The provider documents a refund for this outcome; `note` names the rule."""
        self._set(
            job_id,
            "UPDATE spend SET state = 'refunded', settled_at = ?, note = ? "
            "WHERE job_id = ? AND state IN ('charged', 'unknown')",
            (now, note),
        )
