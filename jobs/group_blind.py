"""Blind comparisons: while a blind group has no pick, nothing shown anywhere says which
model (or provider) made which member. The grid, the history, the running-jobs list, the
result panel and the API all ask here, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jobs.group_store import GroupRecord, GroupStore
from jobs.records import JobRecord

# A member's record fields that name (or betray) its model or provider: the provider's
# request id and its own video URL have the provider's shape and host; its options say which
# model's controls it had (frames or duration); the codec and the provider's own timing which
# provider encoded and timed it.
MASKED_FIELDS = (
    "model",
    "provider",
    "request_id",
    "locator",
    "remote_url",
    "simulated",
    "options",
    "video_codec",
    "provider_seconds",
)
# Texts a member's view may carry that can name its provider or model (a note, an error).
TEXT_FIELDS = ("note", "error_message", "error")
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


def masked(
    data: dict[str, Any], letter: str, group_id: str | None, names: Sequence[str] = ()
) -> dict[str, Any]:
    """A member's view (a dict: its record as the API or MCP shows it) with every field that
    names its model or provider blanked, each of `names` (the model's id and label, the
    provider's name and label) said as its cell's name in its note and error, and a download
    name that says only the comparison and the cell; `blind_name` says which cell it is."""
    for name in MASKED_FIELDS:
        if name in data:
            data[name] = {} if name in ("locator", "options") else None
    cell = f"Model {letter}"
    for name in TEXT_FIELDS:
        if isinstance(data.get(name), str):
            for said in sorted((n for n in names if n), key=len, reverse=True):  # longest first
                data[name] = data[name].replace(said, cell)
    if data.get("download_name"):
        data["download_name"] = f"dreamina_compare-{group_id}-{letter}.mp4"
    data["blind_name"] = cell
    return data


# What a masked record names as its provider: none (`is_masked`).
NO_PROVIDER = ""


def masked_record(record: JobRecord, letter: str, names: Sequence[str] = (), cell: str | None = None) -> JobRecord:
    """A copy of a hidden member's record for a page to show: its model is its cell's name
    (`cell`, in the page's words; 'Model B'), and nothing else names or betrays the model or
    provider (`masked`), its note and error included (in English and in the parameters a
    page says them with). Never stored."""
    cell = cell or f"Model {letter}"
    ordered = sorted((n for n in names if n), key=len, reverse=True)  # longest first

    def hide(value: Any) -> Any:
        if isinstance(value, str):
            for said in ordered:
                value = value.replace(said, cell)
        return value

    return record.copy(
        model=cell,
        provider=NO_PROVIDER,
        request_id=None,
        locator={},
        remote_url=None,
        simulated=False,
        options={},
        video_codec=None,
        provider_seconds=None,
        note=hide(record.note),
        note_params={k: hide(v) for k, v in record.note_params.items()},
        error_message=hide(record.error_message),
        error_params={k: hide(v) for k, v in record.error_params.items()},
    )


def is_masked(record: JobRecord) -> bool:
    """Whether `record` is a `masked_record` copy."""
    return record.provider == NO_PROVIDER
