"""The job store: every field survives, updates are atomic, owners see only their own jobs,
history pages are stable, migrations move old databases forward, and a killed writer never
leaves a broken database."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import jobs.store as store_module
from jobs.records import ACTIVE_STATES, HistoryQuery, JobRecord
from jobs.store import JobStore, decode_cursor, encode_cursor

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def full_record() -> JobRecord:
    """A record where no field has its default value, so a column that is lost shows up."""
    return JobRecord(
        id="job-full",
        owner="alice",
        kind="i2v",
        model="wavespeed/bytedance/dreamina-v3.0/image-to-video-1080p",
        provider="wavespeed",
        prompt="Une fenêtre 🌅 שלום «quoted» 50%_off \\ back",
        options={"aspect_ratio": "16:9", "duration": 5, "nested": {"a": [1, 2.5, None]}},
        input_image="/data/inputs/job-full.png",
        request_id="req-123",
        locator={"status_url": "https://api.example/requests/req-123"},
        state="succeeded",
        queue_position=3,
        error_kind="timeout",
        error_message="took too long",
        remote_url="https://cdn.example/video.mp4",
        video_path="/data/videos/job-full.mp4",
        poster_path="/data/posters/job-full.webp",
        video_duration=5.04,
        video_width=1920,
        video_height=1080,
        video_bytes=12_345_678,
        video_codec="h264",
        seed=2**40 + 7,
        nsfw=False,
        provider_seconds=41.5,
        created_at=1_700_000_000.123456,
        submitted_at=1_700_000_001.5,
        started_at=1_700_000_010.25,
        finished_at=1_700_000_060.75,
        saved_at=1_700_000_062.0,
        simulated=True,
        note="checked twice",
        group_id="group-1",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "db" / "studio.sqlite3")
    opened.open()
    yield opened
    opened.close()


# -- opening ------------------------------------------------------------------------------


def test_open_creates_the_folder_sets_pragmas_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "studio.sqlite3"
    store = JobStore(path)
    store.open()
    store.open()  # a second open is a no-op, not a second connection or migration
    assert path.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store_module.MIGRATIONS)
    conn.close()
    assert store.integrity_ok()
    store.close()
    store.close()


def test_methods_refuse_before_open(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        JobStore(tmp_path / "x.sqlite3").get("nope")


# -- fields ------------------------------------------------------------------------------


def test_every_field_round_trips(store: JobStore) -> None:
    record = full_record()
    for f in dataclasses.fields(JobRecord):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        assert getattr(record, f.name) != default, f"full_record() leaves {f.name} at its default"
    store.insert(record)
    loaded = store.get(record.id)
    assert loaded == record
    assert isinstance(loaded.nsfw, bool) and isinstance(loaded.simulated, bool)
    assert loaded.to_json() == record.to_json()


def test_defaults_round_trip_including_null_booleans(store: JobStore) -> None:
    record = make_job("plain")
    store.insert(record)
    loaded = store.get("plain")
    assert loaded == record
    assert loaded.nsfw is None and loaded.simulated is False and loaded.options == {}


def test_bool_and_json_columns_match_the_record_annotations() -> None:
    # If a new bool/dict field is added to JobRecord, it must be stored as such too.
    for f in dataclasses.fields(JobRecord):
        annotation = str(f.type)
        assert (annotation.startswith("bool")) == (f.name in store_module.BOOL_FIELDS), f.name
        assert (annotation.startswith("dict")) == (f.name in store_module.JSON_FIELDS), f.name


def test_a_stored_record_has_no_secret_like_field(store: JobStore) -> None:
    store.insert(full_record())
    data = json.loads(store.get("job-full").to_json())
    for name in data:
        assert not any(word in name.lower() for word in ("key", "token", "secret", "password")), name
    conn = sqlite3.connect(store.db_path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
    conn.close()
    assert not [c for c in columns if any(w in c.lower() for w in ("key", "token", "secret"))]


def test_insert_rejects_duplicates_and_unknown_states(store: JobStore) -> None:
    store.insert(make_job("a"))
    with pytest.raises(sqlite3.IntegrityError):
        store.insert(make_job("a", prompt="another"))
    with pytest.raises(ValueError, match="state"):
        store.insert(make_job("b", state="exploded"))  # type: ignore[arg-type]
    assert store.get("a").prompt == make_job("a").prompt
    assert store.get("b") is None


# -- update ------------------------------------------------------------------------------


def test_update_returns_the_new_record(store: JobStore) -> None:
    store.insert(make_job("a"))
    updated = store.update("a", state="running", queue_position=None, started_at=5.0, options={"seed": 7})
    assert updated.state == "running" and updated.started_at == 5.0 and updated.options == {"seed": 7}
    assert updated.prompt == make_job("a").prompt
    assert store.get("a") == updated


def test_update_of_a_missing_job_is_a_key_error(store: JobStore) -> None:
    with pytest.raises(KeyError):
        store.update("ghost", state="failed")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"state": "failed", "api_key": "sk-123"}, TypeError),  # unknown field
        ({"state": "failed", "id": "other"}, TypeError),  # the id never changes
        ({"error_kind": "server", "state": "exploded"}, ValueError),  # unknown state
        ({"state": "failed", "options": {"bad": object()}}, TypeError),  # cannot be stored
    ],
)
def test_a_rejected_update_changes_nothing(store: JobStore, changes: dict, error: type) -> None:
    store.insert(make_job("a"))
    with pytest.raises(error):
        store.update("a", **changes)
    assert store.get("a") == make_job("a")


def test_readers_never_see_half_an_update(tmp_path: Path) -> None:
    # A second connection (as a second process would have) reads while the first writes
    # state, path and timestamp together: every snapshot must show all three or none.
    path = tmp_path / "studio.sqlite3"
    writer, reader = JobStore(path), JobStore(path)
    writer.open()
    reader.open()
    writer.insert(make_job("a"))
    done = threading.Event()
    seen: list[JobRecord] = []

    def read() -> None:
        while not done.is_set():
            seen.append(reader.get("a"))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(1, 150):
            writer.update("a", state="running", video_bytes=n, finished_at=float(n), note=f"n={n}")
            writer.update("a", state="queued", video_bytes=None, finished_at=None, note=None)
    finally:
        done.set()
        thread.join()
    assert seen
    for record in seen:
        if record.state == "running":
            assert (
                record.finished_at == float(record.video_bytes) and record.note == f"n={record.video_bytes}"
            )
        else:
            assert record.video_bytes is None and record.finished_at is None and record.note is None
    writer.close()
    reader.close()


# -- owner scoping -----------------------------------------------------------------------


def test_another_owner_sees_nothing(store: JobStore) -> None:
    store.insert(make_job("a", owner="alice"))
    assert store.get("a", owner="bob") is None
    assert store.get("a", owner="alice") is not None
    page = store.list("bob", HistoryQuery())
    assert page.items == [] and page.total == 0 and page.next_cursor is None
    assert store.delete("a", "bob") is None
    assert store.get("a") is not None
    assert store.active("bob") == []
    assert store.count_created_since("bob", 0) == 0


def test_delete_returns_the_row_it_removed(store: JobStore) -> None:
    store.insert(make_job("a", state="failed"))
    assert store.delete("a", "alice") == make_job("a", state="failed")
    assert store.get("a") is None
    assert store.delete("a", "alice") is None


def test_delete_with_only_states_leaves_other_states(store: JobStore) -> None:
    store.insert(make_job("a", state="running"))
    assert store.delete("a", "alice", only_states={"succeeded", "failed"}) is None
    assert store.get("a") is not None


# -- history paging ----------------------------------------------------------------------


def fetch_all(store: JobStore, owner: str, query: HistoryQuery, between=None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = store.list(owner, dataclasses.replace(query, before=cursor))
        pages.append([r.id for r in page.items])
        if between:
            between()
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_keyset_pages_give_every_row_once_newest_first(store: JobStore) -> None:
    for n in range(55):
        store.insert(make_job(f"job-{n:02d}", created_at=1000.0 + n))
    store.insert(make_job("other", owner="bob", created_at=2000.0))
    pages = fetch_all(store, "alice", HistoryQuery(limit=10))
    assert [len(p) for p in pages] == [10, 10, 10, 10, 10, 5]
    flat = [job_id for page in pages for job_id in page]
    assert flat == [f"job-{n:02d}" for n in range(54, -1, -1)]
    assert store.list("alice", HistoryQuery(limit=10)).total == 55


def test_paging_is_stable_when_jobs_arrive_between_fetches(store: JobStore) -> None:
    for n in range(55):
        store.insert(make_job(f"job-{n:02d}", created_at=1000.0 + n))
    arrivals = iter(range(100))

    def new_job() -> None:
        n = next(arrivals)
        store.insert(make_job(f"new-{n:02d}", created_at=5000.0 + n))

    flat = [job_id for page in fetch_all(store, "alice", HistoryQuery(limit=10), new_job) for job_id in page]
    assert flat == [f"job-{n:02d}" for n in range(54, -1, -1)]


def test_rows_with_the_same_created_at_are_ordered_by_id_and_not_lost(store: JobStore) -> None:
    for n in range(25):
        store.insert(make_job(f"tie-{n:02d}", created_at=1234.5))
    flat = [job_id for page in fetch_all(store, "alice", HistoryQuery(limit=7)) for job_id in page]
    assert flat == [f"tie-{n:02d}" for n in range(24, -1, -1)]


def test_first_and_later_pages_use_the_owner_index(store: JobStore) -> None:
    # What keeps the first page of 10,000 jobs as cheap as the first page of 10: an index
    # walk that stops after `limit` rows, never a scan and sort of the whole history.
    page_sql = (
        "SELECT * FROM jobs WHERE owner = ? AND (created_at, id) < (?, ?) "
        "ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    plan = " ".join(store.explain(page_sql, ["alice", 1.0, "x", 10]))
    assert "jobs_owner_created" in plan and "TEMP B-TREE" not in plan
    model_sql = "SELECT * FROM jobs WHERE owner = ? AND model = ? ORDER BY created_at DESC, id DESC LIMIT ?"
    plan = " ".join(store.explain(model_sql, ["alice", "m", 10]))
    assert "jobs_owner_model" in plan and "TEMP B-TREE" not in plan
    durations_sql = (
        "SELECT finished_at - submitted_at FROM jobs WHERE model = ? AND state = 'succeeded' "
        "ORDER BY finished_at DESC LIMIT ?"
    )
    assert "jobs_model_state_finished" in " ".join(store.explain(durations_sql, ["m", 20]))


def test_cursor_is_opaque_and_checked() -> None:
    cursor = encode_cursor(1700000000.123456, "job-1")
    assert "job-1" not in cursor
    assert decode_cursor(cursor) == (1700000000.123456, "job-1")
    for bad in ("", "not-a-cursor", encode_cursor(1.0, "x")[:-3] + "!!!", "WzEsMl0"):
        with pytest.raises(ValueError, match="cursor"):
            decode_cursor(bad)


def test_list_rejects_a_forged_cursor(store: JobStore) -> None:
    with pytest.raises(ValueError, match="first page"):
        store.list("alice", HistoryQuery(before="garbage"))


def test_limit_is_clamped(store: JobStore) -> None:
    for n in range(3):
        store.insert(make_job(f"job-{n}", created_at=float(n)))
    assert len(store.list("alice", HistoryQuery(limit=0)).items) == 1
    assert len(store.list("alice", HistoryQuery(limit=10_000)).items) == 3


# -- filters -----------------------------------------------------------------------------


@pytest.fixture
def varied(store: JobStore) -> JobStore:
    rows = [
        (
            "rc-1",
            "runcomfy",
            "runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
            "succeeded",
            "100% pure joy",
        ),
        ("rc-2", "runcomfy", "runcomfy/bytedance/dreamina-3-0/pro/image-to-video", "failed", "1000 pure joy"),
        (
            "ws-1",
            "wavespeed",
            "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
            "succeeded",
            "snake_case",
        ),
        (
            "ws-2",
            "wavespeed",
            "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
            "running",
            "snakeXcase",
        ),
        ("ws-3", "wavespeed", "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p", "failed", "a\\b path"),
        ("sim-1", "simulator", "simulator/text-to-video", "succeeded", "Sunset 🌅 over the SEA"),
        ("sim-2", "simulator", "simulator/text-to-video", "succeeded", "שלום עולם and مرحبا بالعالم"),
        ("sim-3", "simulator", "simulator/text-to-video", "cancelled", "КОТ на крыше"),
    ]
    for n, (job_id, provider, model, state, prompt) in enumerate(rows):
        store.insert(
            make_job(job_id, created_at=100.0 + n, provider=provider, model=model, state=state, prompt=prompt)
        )
    store.insert(make_job("bob-1", owner="bob", provider="runcomfy", prompt="100% pure joy"))
    return store


def ids(store: JobStore, **filters: object) -> list[str]:
    page = store.list("alice", HistoryQuery(limit=50, **filters))
    assert page.total == len(page.items)
    return [r.id for r in page.items]


def test_filter_by_provider_model_and_state(varied: JobStore) -> None:
    assert ids(varied, provider="runcomfy") == ["rc-2", "rc-1"]
    assert ids(varied, model="wavespeed/bytedance/dreamina-v3.0/text-to-video-720p") == [
        "ws-3",
        "ws-2",
        "ws-1",
    ]
    assert ids(varied, state="failed") == ["ws-3", "rc-2"]
    assert ids(varied, provider="wavespeed", state="succeeded") == ["ws-1"]
    assert ids(varied, provider="nobody") == []


def test_text_filter_treats_wildcards_literally(varied: JobStore) -> None:
    assert ids(varied, text="100%") == ["rc-1"]  # not "1000 pure joy"
    assert ids(varied, text="snake_case") == ["ws-1"]  # not "snakeXcase"
    assert ids(varied, text="a\\b") == ["ws-3"]
    assert ids(varied, text="%") == ["rc-1"]
    assert ids(varied, text="_") == ["ws-1"]


def test_text_filter_is_case_insensitive_and_unicode_safe(varied: JobStore) -> None:
    assert ids(varied, text="sea") == ["sim-1"]
    assert ids(varied, text="  SUNSET ") == ["sim-1"]
    assert ids(varied, text="🌅") == ["sim-1"]
    assert ids(varied, text="שלום") == ["sim-2"]
    assert ids(varied, text="مرحبا") == ["sim-2"]
    assert ids(varied, text="кот") == ["sim-3"]  # SQLite's LIKE alone folds ASCII only
    assert ids(varied, text="КРЫШЕ") == ["sim-3"]
    assert ids(varied, text="") == ids(varied)


def test_text_filter_pages_and_counts(varied: JobStore) -> None:
    page = varied.list("alice", HistoryQuery(limit=1, text="joy"))
    assert [r.id for r in page.items] == ["rc-2"] and page.total == 2
    rest = varied.list("alice", HistoryQuery(limit=1, text="joy", before=page.next_cursor))
    assert [r.id for r in rest.items] == ["rc-1"] and rest.next_cursor is None


# -- engine queries ----------------------------------------------------------------------


def test_unfinished_and_active(store: JobStore) -> None:
    states = ["submitting", "queued", "running", "downloading", "succeeded", "failed", "cancelled"]
    for n, state in enumerate(states):
        store.insert(make_job(f"a-{state}", owner="alice", created_at=100.0 - n, state=state))
        store.insert(make_job(f"b-{state}", owner="bob", created_at=50.0 - n, state=state))
    unfinished = store.unfinished()
    assert {r.state for r in unfinished} == ACTIVE_STATES
    assert [r.created_at for r in unfinished] == sorted(r.created_at for r in unfinished)
    assert {r.owner for r in unfinished} == {"alice", "bob"} and len(unfinished) == 8
    active = store.active("alice")
    assert [r.id for r in active] == ["a-downloading", "a-running", "a-queued", "a-submitting"]


def test_run_durations_are_the_latest_successes_of_the_model(store: JobStore) -> None:
    model = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
    for n in range(30):
        store.insert(
            make_job(
                f"ok-{n}", model=model, state="succeeded", submitted_at=1000.0 * n, finished_at=1000.0 * n + n
            )
        )
    store.insert(make_job("fail", model=model, state="failed", submitted_at=10**6, finished_at=10**6 + 999))
    store.insert(make_job("other", model="x", state="succeeded", submitted_at=10**6, finished_at=10**6 + 999))
    store.insert(make_job("nostart", model=model, state="succeeded", submitted_at=None, finished_at=10**6))
    assert store.run_durations(model) == [float(n) for n in range(29, 9, -1)]
    assert store.run_durations(model, limit=3) == [29.0, 28.0, 27.0]
    assert store.run_durations("unknown") == []


def test_count_created_since(store: JobStore) -> None:
    for n in range(5):
        store.insert(make_job(f"a-{n}", created_at=100.0 + n))
    store.insert(make_job("bob", owner="bob", created_at=104.0))
    assert store.count_created_since("alice", 102.0) == 3
    assert store.count_created_since("alice", 200.0) == 0


def test_finished_with_files_oldest_first(store: JobStore) -> None:
    store.insert(make_job("new", created_at=30.0, state="succeeded", video_path="v/new.mp4"))
    store.insert(make_job("old", created_at=10.0, state="failed", input_image="i/old.png"))
    store.insert(make_job("running", created_at=5.0, state="running", video_path="v/r.mp4"))
    store.insert(make_job("nofiles", created_at=1.0, state="succeeded"))
    store.insert(make_job("mid", created_at=20.0, state="cancelled", poster_path="p/mid.webp", owner="bob"))
    assert [r.id for r in store.finished_with_files_oldest_first()] == ["old", "mid", "new"]
    assert [r.id for r in store.finished_with_files_oldest_first(limit=1)] == ["old"]


def test_references_counts_every_path_column(store: JobStore) -> None:
    store.insert(make_job("a", input_image="in/shared.png", video_path="v/a.mp4"))
    store.insert(make_job("b", input_image="in/shared.png", poster_path="p/b.webp"))
    assert store.references("in/shared.png") == 2
    assert store.references("p/b.webp") == 1
    assert store.references("nothing") == 0


# -- migrations --------------------------------------------------------------------------

# The v1 schema exactly as released. Frozen here on purpose: later versions must still
# migrate a database that an old studio wrote.
V1_SNAPSHOT = """
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
INSERT INTO jobs (id, owner, kind, model, provider, prompt, options, state, created_at, nsfw, simulated)
VALUES ('old-1', 'alice', 't2v', 'simulator/x', 'simulator', 'from v1', '{"seed": 3}', 'succeeded', 5.0, 1, 1);
PRAGMA user_version = 1;
"""


def write_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SNAPSHOT)
    conn.close()


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
    assert user_version(path) == len(store_module.MIGRATIONS)
    store.insert(make_job("a"))
    assert store.get("a") == make_job("a")
    store.close()


def test_a_v1_database_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(store_module.MIGRATIONS)
    old = store.get("old-1")
    assert old.prompt == "from v1" and old.options == {"seed": 3} and old.nsfw is True and old.simulated
    assert old.locator == {}, "a row from before locators has its request id as its whole locator"
    store.close()


def test_later_migrations_run_in_order_and_keep_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "studio.sqlite3"
    write_v1(path)
    steps = [
        *store_module.MIGRATIONS,
        ("CREATE TABLE step_two (n INTEGER)", "INSERT INTO step_two VALUES (2)"),
        ("INSERT INTO step_two SELECT n + 1 FROM step_two",),  # needs step two to have run
    ]
    monkeypatch.setattr(store_module, "MIGRATIONS", steps)
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
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        JobStore(path).open()
    assert user_version(path) == len(store_module.MIGRATIONS) - 1, "the steps before the broken one stay"
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
    conn.executescript(V1_SNAPSHOT.replace("note TEXT", "unused TEXT"))
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
    conn = sqlite3.connect(path)  # v2 as it was released: the locator column
    conn.executescript(
        "ALTER TABLE jobs ADD COLUMN locator TEXT NOT NULL DEFAULT '{}';"
        "UPDATE jobs SET locator = '{\"status_url\": \"https://x/1\"}';"
        "PRAGMA user_version = 2;"
    )
    conn.close()
    store = JobStore(path)
    store.open()
    assert user_version(path) == len(store_module.MIGRATIONS) >= 3
    old = store.get("old-1")
    assert old is not None and old.group_id is None and old.locator == {"status_url": "https://x/1"}
    assert store.list("alice", HistoryQuery()).items == [old]
    with store.reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM groups").fetchone()[0] == 0
    store.close()
