"""Comparisons on disk: the `groups` table beside the jobs (schema v3, jobs/store.py).

A group row holds what the comparison is (its members' order, models, takes and seeds,
shared options, blind mode, the pick, its poster mosaic and side-by-side video) as JSON;
the members themselves are ordinary job rows that name the group (`jobs.group_id`), so
history filters, delete and export work on them as on any job. The row is written durably
before any member is sent: a restart finds the group and its members and reopens it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from jobs.store import JobStore, decode_cursor, encode_cursor

Kind = Literal["t2v", "i2v"]


@dataclass
class Member:
    """One cell of a comparison: a job of `model` (take `take`, from 1) sent with `seed`,
    priced `price_usd` when the group was reserved. `error` says why it never became a
    job (e.g. its image could not be prepared); a job's own failure is in its record."""

    job_id: str
    model: str
    take: int = 1
    seed: int | None = None
    price_usd: float = 0.0
    price_source: str = "catalog"
    options: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # The error's catalogue code and its plain parameters, so a page can say it in its language.
    error_code: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Member:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class GroupRecord:
    """A comparison: one prompt (and image) sent to `members` at once."""

    id: str
    owner: str
    kind: Kind
    prompt: str
    created_at: float
    members: list[Member] = field(default_factory=list)
    takes: int = 1
    blind: bool = False
    pick: str | None = None  # the winning member's job id
    options: dict[str, Any] = field(default_factory=dict)  # the shared options as asked
    poster_path: str | None = None  # the members' posters as one mosaic (jobs/mosaic.py)
    side_by_side_path: str | None = None  # the exported side-by-side video
    side_by_side_jobs: list[str] = field(default_factory=list)  # the members it shows

    @property
    def job_ids(self) -> list[str]:
        return [m.job_id for m in self.members]

    def member(self, job_id: str) -> Member | None:
        return next((m for m in self.members if m.job_id == job_id), None)

    @property
    def price_usd(self) -> float:
        return round(sum(m.price_usd for m in self.members), 6)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupRecord:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["members"] = [Member.from_dict(m) for m in values.get("members", [])]
        return cls(**values)


@dataclass
class GroupPage:
    items: list[GroupRecord]
    next_cursor: str | None = None


def _data(group: GroupRecord) -> str:
    values = group.to_dict()
    for column in ("id", "owner", "created_at"):
        values.pop(column)
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _group(row: Any) -> GroupRecord:
    data = json.loads(row["data"] or "{}")
    return GroupRecord.from_dict({**data, "id": row["id"], "owner": row["owner"], "created_at": row["created_at"]})


class GroupStore:
    """The groups table, through the job store's connection. Safe from any thread."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def insert(self, group: GroupRecord) -> None:
        """A new group, fsynced before it returns (its members are sent right after)."""
        with self._store.writing(durable=True) as conn:
            conn.execute(
                "INSERT INTO groups (id, owner, created_at, data) VALUES (?, ?, ?, ?)",
                (group.id, group.owner, group.created_at, _data(group)),
            )

    def save(self, group: GroupRecord, *, durable: bool = False) -> GroupRecord:
        """Write the group's changed fields (its id, owner and time never change)."""
        with self._store.writing(durable=durable) as conn:
            found = conn.execute(
                "UPDATE groups SET data = ? WHERE id = ? AND owner = ?", (_data(group), group.id, group.owner)
            ).rowcount
        if not found:
            raise KeyError(group.id)
        return group

    def get(self, group_id: str, owner: str) -> GroupRecord | None:
        with self._store.reading() as conn:
            row = conn.execute("SELECT * FROM groups WHERE id = ? AND owner = ?", (group_id, owner)).fetchone()
        return _group(row) if row is not None else None

    def page(self, owner: str, limit: int = 24, before: str | None = None) -> GroupPage:
        """The owner's groups, newest first, a page at a time (keyset, as job history)."""
        limit = max(1, min(int(limit), 200))
        sql, params = "SELECT * FROM groups WHERE owner = ?", [owner]
        if before:
            created_at, group_id = decode_cursor(before)
            sql += " AND (created_at, id) < (?, ?)"
            params += [created_at, group_id]  # type: ignore[list-item]
        with self._store.reading() as conn:
            rows = conn.execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit + 1]).fetchall()
        items = [_group(row) for row in rows[:limit]]
        cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
        return GroupPage(items, cursor)

    def all(self, owner: str) -> list[GroupRecord]:
        """Every group of the owner, oldest first (the tally)."""
        with self._store.reading() as conn:
            rows = conn.execute("SELECT * FROM groups WHERE owner = ? ORDER BY created_at, id", (owner,)).fetchall()
        return [_group(row) for row in rows]

    def delete(self, group_id: str, owner: str) -> bool:
        with self._store.writing(durable=True) as conn:
            return bool(conn.execute("DELETE FROM groups WHERE id = ? AND owner = ?", (group_id, owner)).rowcount)
