"""A job's stored words (its note, its error) said in the page's language.

Job rows keep English: the studio's own sentences (jobs/job_words.py, read back into a
code and parameters) become `job.<code>` in the page's language; a classified error's
"what to do next" (providers/base.next_step) becomes `kind.<kind>`; and what is left, a
provider's own words, is shown as the provider sent it, introduced in the page's language.
"""

from __future__ import annotations

import re

from jobs import job_words
from providers.base import next_step
from ui.i18n import field_name, has, name_text, text

_FIELD_STEP = re.compile(r"Change the (?P<field>[\w ]+) and try again\.\Z")


def _sentence(lang: str, words: str) -> str | None:
    """One of the studio's sentences in `lang`, or None when `words` is not one."""
    found = job_words.read(words)
    if found is None or not has(f"job.{found[0]}"):
        return None
    code, params = found
    if "provider" in params:
        params["provider"] = name_text(lang, params["provider"])
    return text(lang, f"job.{code}", **params)


def _step(lang: str, kind: str, message: str) -> tuple[str, str] | None:
    """(the next step in `lang`, the rest of `message`) when `message` ends with the English
    next step of `kind`."""
    field = _FIELD_STEP.search(message) if kind == "validation" else None
    if field:
        name = field["field"].replace(" ", "_")
        said = text(lang, "kind.validation_field", field=field_name(lang, name, field["field"].capitalize()))
        return said, message[: field.start()].strip()
    try:
        english = next_step(kind)  # type: ignore[arg-type]
    except KeyError:
        return None
    if not message.endswith(english) or not has(f"kind.{kind}"):
        return None
    return text(lang, f"kind.{kind}"), message[: -len(english)].strip()


def _introduced(lang: str, words: str) -> str:
    """Words the studio did not write (a provider's), as sent, introduced in `lang`."""
    said = _sentence(lang, words)
    if said is not None:
        return said
    return words if lang == "en" else text(lang, "job.provider_said", words=words)


def stored_text(lang: str, words: str | None, kind: str | None = None) -> str:
    """A job's note or error (`kind`: its error kind) for a page in `lang`."""
    if not words:
        return ""
    split = _step(lang, kind, words) if kind else None
    if split is None:
        return _introduced(lang, words)
    step, detail = split
    if not detail:
        return step
    space = "" if lang in ("zh", "ja") else " "  # sentences run on without a space in CJK
    return f"{_introduced(lang, detail)}{space}{step}"
