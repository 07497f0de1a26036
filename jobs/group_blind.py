"""Blind comparisons: while a blind group has no pick, nothing shown anywhere says which
model (or provider) made which member. The grid, the history, the running-jobs list, the
result panel and the API all ask here, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jobs.group_store import GroupRecord, GroupStore
from jobs.records import JobRecord

# A member's record fields that name (or betray) its model or provider: the provider's
# request id and its own video URL have the provider's shape and host.
MASKED_FIELDS = ("model", "provider", "request_id", "locator", "remote_url", "simulated")
# A job of a blind group that is no longer one of its cells (a retried member's first try).
UNLISTED = "?"


def names_hidden(group: GroupRecord) -> bool:
    """Blind mode hides the models' names until a pick is made."""
    return group.blind and group.pick is None


def blind_name(index: int) -> str:
    """'Model A', 'Model B'…: a cell's name while a blind comparison hides the models."""
    return f"Model {chr(ord('A') + index)}"


def letter_of(group: GroupRecord, job_id: str) -> str:
    """The cell's letter of `job_id` in `group` ('B'), or UNLISTED."""
    ids = group.job_ids
    return chr(ord("A") + ids.index(job_id)) if job_id in ids else UNLISTED


def hidden_letters(store: GroupStore, owner: str, records: Iterable[JobRecord]) -> dict[str, str]:
    """Job id -> its cell's letter ('B'), for every record that is a member of one of the
    owner's blind comparisons not yet picked. One read per group, none for plain jobs."""
    groups: dict[str, GroupRecord | None] = {}
    found: dict[str, str] = {}
    for record in records:
        if not record.group_id:
            continue
        if record.group_id not in groups:
            groups[record.group_id] = store.get(record.group_id, owner)
        group = groups[record.group_id]
        if group is not None and names_hidden(group):
            found[record.id] = letter_of(group, record.id)
    return found


def masked(data: dict[str, Any], letter: str, group_id: str | None) -> dict[str, Any]:
    """A member's record (as a dict) with every field that names its model or provider
    blanked, and a download name that says only the comparison and the cell; `blind_name`
    says which cell it is."""
    for name in MASKED_FIELDS:
        if name in data:
            data[name] = {} if name == "locator" else None
    if data.get("download_name"):
        data["download_name"] = f"dreamina_compare-{group_id}-{letter}.mp4"
    data["blind_name"] = f"Model {letter}"
    return data
