"""Old rows' words, read back once: a job stored before schema v4 kept only the English of
its note and error. The v4 migration (jobs/store_schema.py) reads each such text here,
against the English the studio wrote then, into the code and parameters a new row is stored
with (jobs/job_words.py, providers.base.ProviderError). This is the only place a job's
English is matched: the templates below are a frozen copy of what a v3 studio wrote (never
edit them to follow jobs/job_words.py), so a later change of an English sentence cannot
break the translation of an old row either.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from providers.base import SAID

# jobs/job_words.py TEMPLATES as of schema v3 (668dc77).
V3_TEMPLATES: dict[str, str] = {
    # notes, while a job is active
    "waiting_to_send": "Waiting to send to {provider}…",
    "key_wait": (
        "Waiting for a {provider} key to check this job: enter it in the API keys tab and press 'Check again'."
    ),
    "not_configured": "Provider {provider} is not configured; the job is kept.",
    "failing": (
        "{provider} is failing to answer ({what}); the studio keeps asking. The job is not lost "
        "and will not be sent again."
    ),
    "still_sending": "This job is still being sent; cancel it again in a moment.",
    "cannot_cancel.none.billed": (
        "Not cancelled: {provider} has no way to cancel a job once it is sent (no cancel was sent); "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.queued.billed": (
        "Not cancelled: {provider} cancels only jobs still waiting in its queue, and this one has started; "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.running.billed": (
        "Not cancelled: {provider} says this job can no longer be cancelled; "
        "it will run to the end and be billed. It will still be saved to your history."
    ),
    "cannot_cancel.none.free": (
        "Not cancelled: {provider} has no way to cancel a job once it is sent (no cancel was sent); "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    "cannot_cancel.queued.free": (
        "Not cancelled: {provider} cancels only jobs still waiting in its queue, and this one has started; "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    "cannot_cancel.running.free": (
        "Not cancelled: {provider} says this job can no longer be cancelled; "
        "it will run to the end (free: the simulator bills nothing). It will still be saved to your history."
    ),
    # errors of an ended job
    "cancelled_unsent": "Cancelled while waiting to be sent; nothing was sent or billed.",
    "cancelled_queued": "Cancelled before it started; the provider does not bill a cancelled job.",
    "cancelled_at_provider": "Cancelled at the provider.",
    # the studio's own details inside a classified error (ProviderError: detail, then the
    # next step of its kind); read back, never written, by these names
    "timed_out": "Still unfinished after {minutes} minutes.",
    "unreadable_answers": "The studio could not read the provider's answers.",
    "no_video": "The provider could not make this video.",
    "no_key": "No {provider} API key: set {env} or enter a key in the API keys tab.",
    # providers/errors.failed_job_error: the provider's label, then its own words
    "made_nothing_said": "{provider} could not make this video: {words}.",
    "made_nothing": "{provider} could not make this video.",
    "image_unfetched_said": "{provider} could not download the input image: {words}.",
    "image_unfetched": "{provider} could not download the input image.",
    "filtered_said": "{provider}'s content filter stopped the job: {words}.",
    "filtered": "{provider}'s content filter stopped the job.",
}


# providers/base.py next steps as of schema v3: the end of a classified error's message.
V3_NEXT_STEPS: dict[str, str] = {
    "auth": "Check the API key in the API keys tab or the environment; it may be missing, mistyped or revoked.",
    "validation": "Check the settings and try again.",
    "insufficient_balance": "Top up your balance with the provider, then try again.",
    "rate_limited": "The provider is busy; the studio retries polls by itself. Try a new job in a minute.",
    "moderation": "The provider's content filter refused this prompt or image. Rephrase it or use another image.",
    "not_found": "The provider no longer knows this job.",
    "expired": "The provider deleted this output before it was saved. The request id is kept for reference.",
    "server": "The provider had an internal error. Try again in a few minutes.",
    "network": "The provider could not be reached. Check the connection and try again.",
    "submit_unknown": "The job may or may not have been created (and billed). It was not sent again; check the provider's dashboard.",
    "job_failed": "Try again, or change the prompt or image.",
    "timeout": "The job took longer than the studio waits. It may still finish: use 'Check again' later.",
    "cancelled": "The job was cancelled.",
}

class Phrasebook:
    """English templates by code: `read` finds the code and parameters a text was said
    with (None for any other text). Codes are tried in order: put a template before any
    other that could also match its texts."""

    def __init__(self, templates: dict[str, str]) -> None:
        self.templates = templates
        self._patterns: dict[str, re.Pattern[str]] = {}

    def _pattern(self, code: str) -> re.Pattern[str]:
        if code not in self._patterns:
            parts = re.split(r"\{(\w+)\}", self.templates[code])
            regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
            self._patterns[code] = re.compile(regex + r"\Z", re.DOTALL)
        return self._patterns[code]

    def read(self, text: str | None) -> tuple[str, dict[str, str]] | None:
        if not text:
            return None
        for code in self.templates:
            found = self._pattern(code).match(text)
            if found:
                return code, found.groupdict()
        return None



_FIELD_STEP = re.compile(r" ?Change the (?P<field>[\w ]+) and try again\.\Z")
_BOOK = Phrasebook(V3_TEMPLATES)


def note_words(text: str | None) -> tuple[str | None, dict[str, Any]]:
    """An old note's code and parameters; (None, {}) for words that are not the studio's."""
    found = _BOOK.read(text)
    return (found[0], dict(found[1])) if found else (None, {})


def error_words(text: str | None, kind: str | None) -> tuple[str | None, dict[str, Any]]:
    """An old error's code and parameters, as ProviderError stores a new one: the detail's
    code (SAID with `words` for a provider's), `next_step` when the message ends with its
    kind's next step, `field` for a validation error naming one."""
    if not text:
        return None, {}
    params: dict[str, Any] = {}
    detail = text
    field = _FIELD_STEP.search(text) if kind == "validation" else None
    step = V3_NEXT_STEPS.get(kind or "")
    if field:
        params.update(next_step=kind, field=field["field"].replace(" ", "_"))
        detail = text[: field.start()]
    elif step and text.endswith(step):
        params["next_step"] = kind
        detail = text[: -len(step)]
    detail = detail.strip()
    if not detail:
        return (None, params) if params else (None, {})
    found = _BOOK.read(detail)
    if found:
        return found[0], {**found[1], **params}
    return (SAID, {"words": detail, **params}) if params else (None, {})


def convert(conn: sqlite3.Connection) -> None:
    """The v4 migration's step: every old row's note and error given its code and parameters
    (in the migration's transaction)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    if not {"note", "error_message", "error_kind"} <= columns:
        return  # not a table a studio wrote: opening it fails naming the missing column
    rows = conn.execute(
        "SELECT id, note, error_message, error_kind FROM jobs WHERE note IS NOT NULL OR error_message IS NOT NULL"
    ).fetchall()
    for job_id, note, error, kind in rows:
        note_code, note_params = note_words(note)
        error_code, error_params = error_words(error, kind)
        conn.execute(
            "UPDATE jobs SET note_code = ?, note_params = ?, error_code = ?, error_params = ? WHERE id = ?",
            (note_code, json.dumps(note_params), error_code, json.dumps(error_params), job_id),
        )
