"""History totals for an owner with comparisons: counted from the trigger-kept totals
(jobs/history_query.total), and always equal to the entries the pages list, for one entry
per comparison and for members one by one (a blind comparison's hidden until its pick),
through changes of state, deletions and writes by another connection."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import history_query
from jobs.group_store import GroupRecord, GroupStore, Member
from jobs.records import HistoryQuery
from jobs.store import JobStore
from tests.unit.store_kit import make_job, open_store

SIM = ("simulator", "simulator/dreamina-3-0/text-to-video")
WS = ("wavespeed", "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    yield from open_store(tmp_path)


def add_group(store: JobStore, group_id: str, at: float, states: list[str], *, blind: bool = False) -> None:
    members = []
    for n, state in enumerate(states):
        provider, model = (SIM, WS)[n % 2]
        job_id = f"{group_id}-{n}"
        store.insert(
            make_job(job_id, created_at=at + n, state=state, provider=provider, model=model, group_id=group_id)
        )
        members.append(Member(job_id=job_id, model=model))
    GroupStore(store).insert(
        GroupRecord(id=group_id, owner="alice", kind="t2v", prompt="p", created_at=at, members=members, blind=blind)
    )


def fill(store: JobStore) -> None:
    for n in range(12):
        provider, model = (SIM, WS)[n % 2]
        state = ("succeeded", "failed", "running")[n % 3]
        store.insert(make_job(f"plain{n:02d}", created_at=100 + n, state=state, provider=provider, model=model))
    add_group(store, "g1", 200, ["succeeded", "succeeded", "failed"])
    add_group(store, "g2", 300, ["failed", "failed"])
    add_group(store, "g3", 400, ["succeeded", "running"], blind=True)
    add_group(store, "g4", 500, ["running", "queued"])
    store.insert(make_job("bob1", owner="bob", created_at=600, group_id=None))


QUERIES = [
    HistoryQuery(limit=3, one_per_group=per_group, state=state, provider=provider, text=text)
    for per_group, state, provider, text in itertools.product(
        (True, False), (None, "succeeded", "failed", "running"), (None, "wavespeed"), (None, "cat")
    )
]


def listed(store: JobStore, query: HistoryQuery) -> tuple[int, int]:
    """(the entries every page lists, the first page's total)."""
    count, cursor, total = 0, None, None
    while True:
        page = store.list("alice", dataclasses.replace(query, before=cursor))
        count += len(page.items)
        total = page.total if total is None else total
        cursor = page.next_cursor
        if cursor is None:
            return count, int(total or 0)


def check_every_query(store: JobStore) -> None:
    for query in QUERIES:
        count, total = listed(store, query)
        assert total == count, query


def test_totals_equal_the_listed_entries_through_changes(store: JobStore, tmp_path: Path) -> None:
    fill(store)
    check_every_query(store)
    assert listed(store, HistoryQuery(one_per_group=True))[1] == 12 + 4  # plain jobs + one entry each
    assert listed(store, HistoryQuery())[1] == 12 + 3 + 2 + 2  # members, the blind ones hidden
    store.update("g2-0", state="succeeded")
    store.update("g4-1", state="failed")
    store.update("plain02", state="succeeded")  # a job of no comparison changes and goes too
    store.delete("plain03", "alice")
    store.delete("g1-0", "alice")
    store.delete("g4-0", "alice")  # g4's last running member: its count stays, at 0
    check_every_query(store)
    group = GroupStore(store).get("g3", "alice")
    assert group is not None
    GroupStore(store).save(dataclasses.replace(group, pick="g3-0"))  # a pick shows the members
    check_every_query(store)
    assert listed(store, HistoryQuery())[1] == 11 + 2 + 2 + 2 + 1
    # Another connection writes: the totals are rebuilt from the file.
    with sqlite3.connect(tmp_path / "db" / "studio.sqlite3") as other:
        other.execute("UPDATE jobs SET state = 'failed' WHERE id IN ('g1-1', 'plain00')")
        other.execute("DELETE FROM jobs WHERE id = 'plain01'")
    other.close()
    check_every_query(store)


def test_a_grouped_total_is_read_from_the_kept_counts_not_the_rows() -> None:
    for query in (
        HistoryQuery(one_per_group=True),
        HistoryQuery(one_per_group=True, state="succeeded"),
        HistoryQuery(),
        HistoryQuery(state="failed", provider="wavespeed"),
    ):
        sql, _ = history_query.total("alice", query, grouped=True)
        assert "FROM jobs" not in sql and "temp.job_counts" in sql, query
    sql, _ = history_query.total("alice", HistoryQuery(one_per_group=True, text="cat"), grouped=True)
    assert "FROM jobs" in sql  # prompt text is not in the counts
