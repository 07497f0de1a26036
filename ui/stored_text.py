"""A job's stored words (its note, its error) said in the page's language.

Job rows keep the English and, beside it, the code and parameters it was said with
(jobs/job_words.py, providers.base.Words; old rows were given theirs when the store was
migrated, jobs/legacy_words.py). A page says the code as `job.<code>`, a classified error's
"what to do next" as `kind.<kind>` (or `kind.validation_field`), and a provider's own words
as it sent them, introduced in the page's language. Nothing here reads the English back:
changing an English sentence cannot change what another language says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from jobs.records import JobRecord
from providers.base import SAID
from ui.i18n import field_name, has, name_text, text

Which = Literal["note", "error"]


def _sentence(lang: str, code: str | None, params: Mapping[str, Any]) -> str | None:
    """The studio's sentence `code` in `lang`; a provider's words (SAID) as sent, introduced
    in `lang`; None when `lang` has no words for the code."""
    if code == SAID:
        words = str(params.get("words", ""))
        return text(lang, "job.provider_said", words=words) if words else None
    if not code or not has(f"job.{code}"):
        return None
    values = {k: v for k, v in params.items() if k not in ("next_step", "field")}
    if "provider" in values:
        values["provider"] = name_text(lang, str(values["provider"]))
    return text(lang, f"job.{code}", **values)


def _step(lang: str, params: Mapping[str, Any]) -> str | None:
    """What to do next after a classified error, in `lang` (None when the words have none)."""
    kind, field = params.get("next_step"), params.get("field")
    if kind == "validation" and field:
        label = str(field).replace("_", " ").capitalize()
        return text(lang, "kind.validation_field", field=field_name(lang, str(field), label))
    if kind and has(f"kind.{kind}"):
        return text(lang, f"kind.{kind}")
    return None


def said(lang: str, english: str | None, code: str | None, params: Mapping[str, Any]) -> str:
    """Stored words (`english`, said with `code` and `params`) for a page in `lang`."""
    if not english:
        return ""
    if lang == "en":
        return english  # what was said, as it was said
    detail = _sentence(lang, code, params)
    step = _step(lang, params)
    if detail is None and (code or step is None):
        # Words with no code (or a code this page cannot say): shown as sent, introduced.
        return text(lang, "job.provider_said", words=english)
    parts = [part for part in (detail, step) if part]
    space = "" if lang in ("zh", "ja") else " "  # sentences run on without a space in CJK
    return space.join(parts)


def job_text(lang: str, record: JobRecord, which: Which) -> str:
    """The job's note or error for a page in `lang`."""
    if which == "note":
        return said(lang, record.note, record.note_code, record.note_params)
    return said(lang, record.error_message, record.error_code, record.error_params)
