"""The image check's findings and a fit's changes in the page's language.

jobs/images.py and jobs/image_fit.py say them in English through jobs/image_words.py, as
`providers.base.Words` carrying each sentence's code and parameters; here each is said as
`img.<code>`. A sentence without a code is shown as it is."""

from __future__ import annotations

from typing import Any

from jobs import image_words
from providers import catalog
from providers.base import Words
from ui.format import number_text
from ui.i18n import has, text

_TURNS = ("exif.", "fit.upright.")


def sentence(lang: str, english: str) -> str:
    """One finding, note or change in `lang`."""
    if not isinstance(english, Words) or english.code not in image_words.TEMPLATES:
        return english
    code = str(english.code)
    # as the English has them: the figures written, then as this language writes them
    params = {name: number_text(str(value), lang) for name, value in english.params.items()}
    for prefix in _TURNS:
        if code.startswith(prefix):  # one text per orientation, one sentence around it
            meaning = text(lang, f"img.orientation.{code.removeprefix(prefix)}")
            return text(lang, f"img.{prefix.rstrip('.')}", meaning=meaning)
    if "allowed" in params:  # 'JPEG or PNG'
        params["allowed"] = params["allowed"].replace(" or ", f" {text(lang, 'header.or')} ")
    if "limits" in params and params["limits"] == catalog.IMAGE_RULES.describe():
        from ui.image_check import rules_text  # the same rules as the upload hint says them

        params["limits"] = rules_text(catalog.IMAGE_RULES, lang)
    key = f"img.{code}"
    return text(lang, key, **params) if has(key) else english


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if lang in ("zh", "ja") else " ").join(s for s in sentences if s)


def summary(lang: str, report: Any) -> str:
    """PreflightReport.summary() in `lang`."""
    return _join(lang, [sentence(lang, s) for s in report.sentences()])


def fit_verdict(lang: str, report: Any, changes: tuple[str, ...]) -> str:
    """What the check says of a fixable image with 'Fit image' on: its findings, then what
    the fit will change."""
    problems = [sentence(lang, issue.message) for issue in report.issues]
    separator = {"zh": "、", "ja": "、", "fr": " ; "}.get(lang, "; ")
    done = separator.join(sentence(lang, c) for c in changes) if changes else text(lang, "img.fit_on_generic")
    return _join(lang, [*problems, text(lang, "img.fit_on", done=done)])
