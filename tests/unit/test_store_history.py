"""The job store's history: keyset pages are stable and complete, and the filters (provider,
model, state, prompt text) page and count like the unfiltered history."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.records import HistoryQuery
from jobs.store import JobStore, decode_cursor, encode_cursor
from tests.unit.store_kit import make_job, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    yield from open_store(tmp_path)


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
