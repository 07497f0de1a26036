"""The job store's file: migrations move old databases forward (and a broken or newer one
is refused), a damaged file is noticed, and a killed writer never leaves a broken database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import jobs.store_schema as schema
from jobs.records import HistoryQuery
from jobs.store import JobStore
from tests import old_schema
from tests.unit.store_kit import make_job

REPO_ROOT = Path(__file__).resolve().parents[2]


# -- migrations --------------------------------------------------------------------------

# One row as a v1 studio wrote it.
V1_ROW = {
    "id": "old-1", "owner": "alice", "kind": "t2v", "model": "simulator/x", "provider": "simulator",
    "prompt": "from v1", "options": '{"seed": 3}', "state": "succeeded", "created_at": 5.0, "nsfw": 1, "simulated": 1,
}


def write_v1(path: Path) -> None:
    old_schema.write_v1(path, [V1_ROW])


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_an_empty_v0_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE unrelated (x)")  # a v0 file that exists but has no jobs table
    conn.close()
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(schema.MIGRATIONS)
    store.insert(make_job("a"))
    assert store.get("a") == make_job("a")
    store.close()


def test_a_v1_database_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(schema.MIGRATIONS)
    old = store.get("old-1")
    assert old.prompt == "from v1" and old.options == {"seed": 3} and old.nsfw is True and old.simulated
    assert old.locator == {}, "a row from before locators has its request id as its whole locator"
    store.close()


def test_later_migrations_run_in_order_and_keep_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    steps = [
        *schema.MIGRATIONS,
        ("CREATE TABLE step_two (n INTEGER)", "INSERT INTO step_two VALUES (2)"),
        ("INSERT INTO step_two SELECT n + 1 FROM step_two",),  # needs step two to have run
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", steps)
    store = JobStore(path)
    store.open()
    store.close()
    assert user_version(path) == len(steps)
    conn = sqlite3.connect(path)
    assert sorted(r[0] for r in conn.execute("SELECT n FROM step_two")) == [2, 3]
    assert conn.execute("SELECT prompt FROM jobs WHERE id = 'old-1'").fetchone()[0] == "from v1"
    conn.close()
    store.open()  # re-opening at the current version runs nothing again
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM step_two").fetchone()[0] == 2
    conn.close()


def test_a_failing_migration_rolls_back_to_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    broken = ("CREATE TABLE half_done (x)", "THIS IS NOT SQL")
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        JobStore(path).open()
    assert user_version(path) == len(schema.MIGRATIONS) - 1, "the steps before the broken one stay"
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    conn.close()


def test_a_database_from_a_newer_studio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        JobStore(path).open()


def test_a_field_without_a_column_is_caught_at_open(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(old_schema.V1_TABLE.replace("note TEXT", "unused TEXT") + "PRAGMA user_version = 1;")
    conn.close()
    with pytest.raises(RuntimeError, match="note.*migration"):
        JobStore(path).open()


# -- damage and crashes ------------------------------------------------------------------


def test_integrity_check_notices_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    store = JobStore(path)
    store.open()
    for n in range(300):
        store.insert(make_job(f"job-{n:03d}", created_at=float(n), prompt="x" * 200))
    assert store.integrity_ok()
    store.close()  # checkpoints the WAL into the main file
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 2 * page):  # scribble over many pages
        data[offset + 100 : offset + 400] = os.urandom(300)
    path.write_bytes(bytes(data))
    damaged = JobStore(path)
    try:
        damaged.open()
    except sqlite3.DatabaseError:
        return  # refusing to open is also noticing
    assert not damaged.integrity_ok()
    damaged.close()


CRASH_WRITER = r"""
import sys
from pathlib import Path
from jobs.records import JobRecord
from jobs.store import JobStore

store = JobStore(Path(sys.argv[1]))
store.open()
tag = sys.argv[2]
n = 0


def ack(state, job_id):
    # One write per line: print() with PYTHONUNBUFFERED=1 writes each piece
    # separately, so a kill could land between "queued" and the id.
    sys.stdout.write(f"{state} {job_id}\n")
    sys.stdout.flush()


while True:
    job_id = f"{tag}-{n:06d}"
    store.insert(JobRecord(id=job_id, owner=f"owner-{n % 3}", kind="t2v", model="m", provider="simulator",
                           prompt=f"prompt {job_id} " * 40, options={"job": job_id, "pad": "x" * 700},
                           created_at=float(n)))
    ack("submitting", job_id)
    store.update(job_id, state="queued", request_id="req-" + job_id, submitted_at=n + 0.5,
                 note="queued " + job_id * 20)
    ack("queued", job_id)
    store.update(job_id, state="succeeded", video_path=f"videos/{job_id}.mp4", video_bytes=n,
                 finished_at=n + 1.0, note="done " + job_id * 30)
    ack("succeeded", job_id)
    n += 1
"""

PROGRESS = {"submitting": 0, "queued": 1, "succeeded": 2}


def test_a_writer_killed_mid_write_leaves_a_whole_database(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    acknowledged: dict[str, str] = {}
    for round_no, lines_before_kill in enumerate([1, 40, 97, 160, 233]):
        child = subprocess.Popen(
            [sys.executable, "-c", CRASH_WRITER, str(path), f"r{round_no}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        assert child.stdout is not None
        lines: list[str] = []
        while len(lines) < lines_before_kill:
            line = child.stdout.readline()
            assert line, f"writer exited early: {child.stderr.read() if child.stderr else ''}"
            lines.append(line)
        child.send_signal(signal.SIGKILL)  # mid-loop: usually inside some transaction
        out, _err = child.communicate()
        assert child.returncode == -signal.SIGKILL
        # The child printed each line only after its commit returned. A kill
        # can still cut the last line short; an unfinished line acknowledges nothing.
        finished = out.split("\n")[:-1]
        for line in lines + finished:
            state, job_id = line.split()
            if PROGRESS[state] >= PROGRESS[acknowledged.get(job_id, "submitting")]:
                acknowledged[job_id] = state

    store = JobStore(path)
    store.open()
    assert store.integrity_ok()
    rows = {r.id: r for r in store.unfinished()}
    for owner in ("owner-0", "owner-1", "owner-2"):
        cursor = None
        while True:
            page = store.list(owner, HistoryQuery(limit=500, before=cursor))
            rows.update((r.id, r) for r in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    for job_id, state in acknowledged.items():
        assert job_id in rows, f"{job_id} was committed but is gone"
        assert PROGRESS[rows[job_id].state] >= PROGRESS[state]
    for job_id, record in rows.items():  # no half-written row anywhere
        n = int(job_id.split("-")[1])
        assert record.prompt == f"prompt {job_id} " * 40
        assert record.options == {"job": job_id, "pad": "x" * 700}
        if record.state == "submitting":
            assert record.request_id is None and record.note is None
        elif record.state == "queued":
            assert record.request_id == "req-" + job_id and record.note == "queued " + job_id * 20
            assert record.video_path is None
        else:
            assert record.state == "succeeded"
            assert record.video_path == f"videos/{job_id}.mp4" and record.video_bytes == n
            assert record.finished_at == n + 1.0 and record.note == "done " + job_id * 30
    assert len(rows) >= len(acknowledged) > 100
    store.close()


def test_a_v2_database_is_migrated_to_v3_keeping_its_rows_outside_any_group(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    old_schema.upgrade_to_v2(path, '{"status_url": "https://x/1"}')  # v2 as it was released
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(schema.MIGRATIONS) >= 3
    old = store.get("old-1")
    assert old is not None and old.group_id is None and old.locator == {"status_url": "https://x/1"}
    assert store.list("alice", HistoryQuery()).items == [old]
    with store.reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM groups").fetchone()[0] == 0
    store.close()


# A v3 studio's words, exactly as it stored them (English only), and what a page in French
# and in Chinese says for each once the store has given them their codes (schema v4).
V3_WORDS = [
    (
        {"state": "failed", "error_kind": "timeout", "error_message": "Still unfinished after 45 minutes. "
         "The job took longer than the studio waits. It may still finish: use 'Check again' later."},
        "error", "timed_out", "Toujours pas terminée après 45 minutes.", "45 分钟后仍未完成。",
    ),
    (
        {"state": "failed", "error_kind": "job_failed", "error_message": "WaveSpeedAI could not make this video: "
         "Task execution failed. Try again, or change the prompt or image."},
        "error", "made_nothing_said", "WaveSpeedAI n'a pas pu produire cette vidéo. Message du fournisseur : "
        "Task execution failed", "Task execution failed",
    ),
    (
        {"state": "failed", "error_kind": "validation", "error_message": "WaveSpeedAI refused the request "
         "(HTTP 400): ratio. Change the aspect ratio and try again."},
        "error", "provider_said", "Modifiez « Format d'image » et réessayez.", "ratio",
    ),
    (
        {"state": "cancelled", "error_kind": "cancelled", "error_message": "Cancelled at the provider."},
        "error", "cancelled_at_provider", "Annulée chez le fournisseur.", "已在服务商处取消",
    ),
    (
        {"state": "running", "note": "Waiting for a WaveSpeedAI key to check this job: enter it in the API "
         "keys tab and press 'Check again'."},
        "note", "key_wait", "WaveSpeedAI", "WaveSpeedAI",
    ),
    (
        {"state": "failed", "error_kind": "server", "error_message": "Something only the provider says."},
        "error", None, "Message du fournisseur : Something only the provider says.", "Something only the provider says.",
    ),
]


def test_a_v3_database_is_migrated_to_v4_and_its_stored_words_show_in_french_and_chinese(tmp_path: Path) -> None:
    from ui.stored_text import job_text

    path = tmp_path / "studio.sqlite3"
    rows = [
        {**V1_ROW, "id": f"v3-{n}", "created_at": 10.0 + n, **columns}
        for n, (columns, *_rest) in enumerate(V3_WORDS)
    ]
    old_schema.write_v3(path, rows)
    assert user_version(path) == 3
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(schema.MIGRATIONS) >= 4
    for n, (columns, which, code, french, chinese) in enumerate(V3_WORDS):
        record = store.get(f"v3-{n}")
        assert record is not None
        english = columns.get("error_message" if which == "error" else "note")
        assert (record.error_code if which == "error" else record.note_code) == code, english
        assert job_text("en", record, which) == english  # the English is kept as it was
        assert french in job_text("fr", record, which), english
        assert chinese in job_text("zh", record, which), english
        assert "Still unfinished" not in job_text("zh", record, which)
    store.close()
