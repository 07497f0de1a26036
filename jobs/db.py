"""Opening a SQLite file the studio's way: the job store and the spend ledger both use this.

- The journal: WAL on a local disk, the DELETE journal with exclusive locking on a network
  or bucket mount, where WAL's shared memory is not safe (jobs/db_journal.py chooses).
- Autocommit (`isolation_level=None`): nothing starts a transaction behind the caller's
  back; every write goes through `write_transaction`.
- One connection per file, shared by the engine's loop and worker threads
  (`check_same_thread=False`); its owner guards every use with a lock.
- Rows by column name; a file locked by another process is waited for, not failed on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from jobs.db_journal import Journal

Synchronous = Literal["FULL", "NORMAL"]


def connect(
    path: Path, journal: Journal, synchronous: Synchronous, *, busy_seconds: float = 5.0
) -> sqlite3.Connection:
    """A connection to `path` (its folder made if missing) with the journal and
    `synchronous` level set: FULL fsyncs every commit, NORMAL (in WAL) only checkpoints."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_seconds)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        if journal == "delete":
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("PRAGMA journal_mode = DELETE")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction. IMMEDIATE takes the write lock up front, so no other writer
    (in this process or another) slips between a check and the write it allows, and a
    busy file makes us wait (busy_timeout) rather than fail half-way. Rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def flush_wal(path: Path) -> None:
    """Make every commit so far durable: fsync the write-ahead log (committed pages live
    there until a checkpoint, which syncs the database file itself before reusing it).
    Without a WAL (the DELETE journal) there is nothing to do: each commit was synced.
    Blocking: call it off the event loop."""
    try:
        fd = os.open(path.with_name(path.name + "-wal"), os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
