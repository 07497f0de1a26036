"""A history query as SQL: the filters of a `HistoryQuery` as a WHERE clause, and the
opaque keyset cursor that points just past the last job of a page (jobs/store.py pages
with them).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from jobs.records import HistoryQuery

MAX_PAGE = 500
# The SQL function the text filter calls for non-ASCII text (register `casefold_contains`).
CONTAINS_FUNCTION = "studio_contains"


@dataclass(frozen=True)
class Filters:
    """The WHERE clause of a history query, its parameters, and whether it filters on
    prompt text (which the trigger-kept totals cannot count)."""

    where: tuple[str, ...]
    params: tuple[Any, ...]
    has_text: bool

    @property
    def sql(self) -> str:
        return " AND ".join(self.where)


def filters(owner: str, query: HistoryQuery) -> Filters:
    """The owner's rows that match the query's provider, model, state and prompt text."""
    where = ["owner = ?"]
    params: list[Any] = [owner]
    for column in ("provider", "model", "state"):
        value = getattr(query, column)
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    text = (query.text or "").strip()
    if text:
        if text.isascii():
            where.append("prompt LIKE ? ESCAPE '\\'")
            params.append(f"%{escape_like(text)}%")
        else:
            where.append(f"{CONTAINS_FUNCTION}(prompt, ?)")
            params.append(text.casefold())
    return Filters(tuple(where), tuple(params), bool(text))


# A member of one of the owner's blind comparisons that has no pick yet.
_HIDDEN = (
    "EXISTS (SELECT 1 FROM groups g WHERE g.id = jobs.group_id AND g.owner = jobs.owner"
    " AND json_extract(g.data, '$.blind') = 1 AND json_extract(g.data, '$.pick') IS NULL)"
)


def group_filter(query: HistoryQuery) -> tuple[str, tuple[Any, ...]]:
    """The WHERE part for jobs of comparisons (for an owner who has any): one entry per
    comparison (its newest member in the asked state), or the members one by one except
    those a blind comparison still hides."""
    if not query.one_per_group:
        return f"(group_id IS NULL OR NOT {_HIDDEN})", ()
    state, params = ("AND +m.state = ?", (query.state,)) if query.state else ("", ())
    # `+m.owner` (and `+m.state`): look the comparison's members up by jobs_group (a handful),
    # not by walking the owner's index in time order until one turns up.
    newest = (
        "SELECT m.id FROM jobs m WHERE m.group_id = jobs.group_id AND +m.owner = jobs.owner "
        f"{state} ORDER BY m.created_at DESC, m.id DESC LIMIT 1"
    )
    return f"(group_id IS NULL OR id = ({newest}))", params


def page_limit(query: HistoryQuery) -> int:
    return max(1, min(int(query.limit), MAX_PAGE))


def total(owner: str, query: HistoryQuery, grouped: bool) -> tuple[str, tuple[Any, ...]]:
    """The SQL (and parameters) that counts the query's whole history for `owner` (who has
    comparisons when `grouped`) from the trigger-kept totals (jobs/store_schema.py), so its
    cost does not grow with the history: every job (`job_counts`), less the members of the
    comparisons still hidden (`group_counts` of `hidden_groups`); or for one entry per
    comparison, less every member (`member_counts`) plus the comparisons with a member in the
    asked state (`group_entries`). A row count only for a prompt-text filter, or one entry per
    comparison narrowed to a provider or model (which its newest member decides; the page
    never asks for that)."""
    found = filters(owner, query)
    if found.has_text or (grouped and query.one_per_group and (query.provider or query.model)):
        if grouped:
            clause, params = group_filter(query)
            found = Filters((*found.where, clause), (*found.params, *params), True)
        return f"SELECT COUNT(*) FROM jobs WHERE {found.sql}", found.params
    every = f"SELECT COALESCE(SUM(n), 0) FROM temp.job_counts WHERE {found.sql}"
    if not grouped:
        return every, found.params
    if not query.one_per_group:
        hidden = "SELECT id FROM temp.hidden_groups WHERE owner = ?"
        members = f"SELECT COALESCE(SUM(n), 0) FROM temp.group_counts WHERE {found.sql} AND grp IN ({hidden})"
        return f"SELECT ({every}) - ({members})", (*found.params, *found.params, owner)
    members = f"SELECT COALESCE(SUM(n), 0) FROM temp.member_counts WHERE {found.sql}"
    entries = "SELECT COALESCE(SUM(n), 0) FROM temp.group_entries WHERE owner = ? AND state = ?"
    return (
        f"SELECT ({every}) - ({members}) + ({entries})",
        (*found.params, *found.params, owner, query.state or ""),
    )


def escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def casefold_contains(haystack: str | None, needle: str | None) -> int:
    """SQL function for non-ASCII search text: SQLite's LIKE folds case for ASCII only."""
    if haystack is None or needle is None:
        return 0
    return int(needle in haystack.casefold())


def encode_cursor(created_at: float, job_id: str) -> str:
    """The opaque cursor that points just past the job (created_at, job_id)."""
    raw = json.dumps([created_at, job_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Inverse of `encode_cursor`; ValueError for anything this store did not hand out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(created_at, bool) or not isinstance(created_at, (int, float)):
            raise TypeError("created_at")
        if not isinstance(job_id, str):
            raise TypeError("id")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError(
            f"The history cursor {cursor!r} is not valid; start again from the first page."
        ) from exc
    return float(created_at), job_id
