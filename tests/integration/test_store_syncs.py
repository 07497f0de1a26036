"""Where the job store's fsyncs happen, seen from outside: a child process writes through
JobStore under `strace`, and every sync of the database, its journal or its log is placed
before, inside or after the store's lock (jobs/store.py `_transaction`).

WAL: a durable write's log is fsynced after the lock is let go; a progress write has none.
The DELETE journal (a network or bucket mount): every sync is SQLite's own, made inside
COMMIT and in the order that keeps the file whole (journal, database, then the zeroed
journal header, which is the commit point), so none can move past the lock without
running COMMIT itself outside it, which the one shared connection cannot do safely; see
`JobStore._transaction`. Either way a row is durable before the write returns: a job's row
before its submit is sent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The child: three writes (a new row: durable; progress: not; a request id: durable), each
# after a marker naming it; the store's lock stats a marker as it is taken and let go.
CHILD = """
import os, sys
from pathlib import Path
from jobs.store import JobStore
from tests.unit.store_kit import make_job

journal, folder, marker = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

class MarkedLock:
    def __init__(self, lock):
        self.lock = lock
    def __enter__(self):
        self.lock.acquire()
        os.path.exists(marker + "/held")
    def __exit__(self, *exc):
        os.path.exists(marker + "/free")
        self.lock.release()

store = JobStore(folder / "jobs.db", journal)
store.open()
store._lock = MarkedLock(store._lock)
os.path.exists(marker + "/insert")
store.insert(make_job("a"))
os.path.exists(marker + "/progress")
store.update("a", state="running")
os.path.exists(marker + "/request_id")
store.update("a", request_id="r-1")
os.path.exists(marker + "/end")
store._lock = store._lock.lock
store.close()
"""
SYNC = re.compile(r"\b(?:fsync|fdatasync)\(\d+<([^>]*)>\)")


def strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("STUDIO_REQUIRE_STRACE") == "1":
            pytest.fail("strace is not installed (apt-get install strace); CI installs it")
        pytest.skip("strace is not installed: apt-get install strace")
    return found


def synced_file(path: str) -> str:
    for suffix, name in (("-journal", "journal"), ("-wal", "wal"), (".db", "db")):
        if path.endswith(suffix):
            return name
    return "folder"


def syncs_by_write(tmp_path: Path, journal: str) -> dict[str, dict[str, list[str]]]:
    """Write -> {"inside": files synced while the store's lock was held, "after": files
    synced once it was let go, before the next write}."""
    folder, marker, trace = tmp_path / journal, str(tmp_path / "marker"), tmp_path / f"{journal}.strace"
    folder.mkdir()
    command = [strace(), "-f", "-y", "-qq", "-s", "4096", "-o", str(trace), "-e", "trace=fsync,fdatasync,%%stat"]
    done = subprocess.run(
        [*command, sys.executable, "-c", CHILD, journal, str(folder), marker],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0 and "ptrace" in done.stderr and os.environ.get("STUDIO_REQUIRE_STRACE") != "1":
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, list[str]]] = {}
    write, place = None, "before"
    for line in trace.read_text().splitlines():
        if marker + "/" in line:
            name = line.split(marker + "/", 1)[1].split('"', 1)[0]
            if name == "held":
                place = "inside"
            elif name == "free":
                place = "after"
            else:
                write, place = name, "before"
                found[write] = {"before": [], "inside": [], "after": []}
        elif write is not None and (sync := SYNC.search(line)):
            found[write][place].append(synced_file(sync.group(1)))
    assert list(found) == ["insert", "progress", "request_id", "end"], found
    return found


def test_in_wal_a_durable_write_fsyncs_its_log_after_letting_go_of_the_lock(tmp_path: Path) -> None:
    syncs = syncs_by_write(tmp_path, "wal")
    for durable in ("insert", "request_id"):
        assert syncs[durable] == {"before": [], "inside": [], "after": ["wal"]}, syncs
    assert syncs["progress"] == {"before": [], "inside": [], "after": []}, syncs


def test_with_the_delete_journal_every_sync_is_the_commits_own_inside_the_lock(tmp_path: Path) -> None:
    syncs = syncs_by_write(tmp_path, "delete")
    for write in ("insert", "progress", "request_id"):
        inside = syncs[write]["inside"]
        # The journal is synced before the database is written, the database before the
        # journal's header is zeroed, and that last sync is the commit point.
        assert inside[0] == "journal" and inside[-1] == "journal" and inside.count("db") == 1, syncs
        assert inside.index("db") > 0, syncs
        assert syncs[write]["before"] == [] and syncs[write]["after"] == [], syncs
    # A durable write runs at synchronous=FULL: one more journal sync than progress (NORMAL).
    assert len(syncs["insert"]["inside"]) == len(syncs["progress"]["inside"]) + 1, syncs
    assert syncs["request_id"]["inside"] == syncs["insert"]["inside"], syncs
