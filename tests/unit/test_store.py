"""The job store: every field survives, updates are atomic, owners see only their own jobs,
and the engine's queries answer from the right rows. (History paging: test_store_history.py;
migrations, damage and crashes: test_store_schema.py.)"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import jobs.store as store_module
from jobs.records import ACTIVE_STATES, HistoryQuery, JobRecord
from jobs.store import JobStore
from tests.unit.store_kit import make_job, open_store


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
        note_code="key_wait",
        note_params={"provider": "WaveSpeedAI"},
        error_code="timed_out",
        error_params={"minutes": "45", "next_step": "timeout"},
    )



@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    yield from open_store(tmp_path)


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


def test_a_durable_write_fsyncs_the_log_after_letting_go_of_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock is shared with the engine's loop: held across an fsync, every read waited.
    store = JobStore(tmp_path / "jobs.db")
    store.open()
    seen: list[bool] = []

    def flush(path: Path) -> None:
        free = store._lock.acquire(blocking=False)
        if free:
            store._lock.release()
        seen.append(free and path == store.db_path)

    monkeypatch.setattr("jobs.store.flush_wal", flush)
    store.insert(make_job("a"))
    store.update("a", request_id="r-1")  # durable
    store.update("a", state="running")  # progress: no fsync of its own
    assert seen == [True, True]
    store.close()
