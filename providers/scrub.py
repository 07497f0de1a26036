"""Cut every known secret out of text, in every form a provider or a library may echo it.

A provider's error message can echo the key it was sent, or the other provider's key, or
a key as an `Authorization` header would carry it. `Scrubber` knows every configured key
and every key typed in a session, and replaces each of their forms in any text with `***`:
raw, `Bearer <key>` / `Key <key>`, URL-encoded, and base64 (standard and URL-safe, padded or
not, and at each of the three byte alignments a key can have inside a longer base64 blob).
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from providers.base import Secret

MASK = "***"
_MIN_KEY_CHARS = 6  # shorter "keys" would mask ordinary words


def _base64_forms(raw: bytes) -> set[str]:
    """The text a key's bytes become inside any base64 string: for each alignment, the
    characters that depend on the key alone (edges that mix in neighbours are dropped)."""
    forms: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
        lead = {0: 0, 1: 2, 2: 3}[shift]
        tail = 1 if (shift + len(raw)) % 3 else 0
        core = encoded[lead : len(encoded) - tail]
        if len(core) >= _MIN_KEY_CHARS:
            forms.add(core)
            forms.add(core.replace("+", "-").replace("/", "_"))
    return forms


def secret_forms(value: str) -> set[str]:
    """Every form of `value` to remove (empty for values too short to be a key)."""
    if len(value) < _MIN_KEY_CHARS:
        return set()
    forms = {value, quote(value, safe=""), quote_plus(value)}
    forms |= _base64_forms(value.encode())
    for scheme in ("Bearer ", "Key ", "Basic "):
        forms |= _base64_forms((scheme + value).encode())
    return {form for form in forms if form}


class Scrubber:
    """The set of known secrets; `scrub(text)` masks each of their forms. Thread-safe:
    keys arrive from request handlers while the engine and the logger read it."""

    def __init__(self, secrets: Iterable[Secret | None] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Secret | str | None) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else (secret or "")
        forms = secret_forms(value.strip())
        with self._lock:
            if forms <= self._forms:
                return
            self._forms |= forms
            # Longest first, so "Bearer <key>" goes whole rather than leaving "Bearer ***".
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        if not text or pattern is None:
            return text
        text = pattern.sub(MASK, text)
        return re.sub(r"\b(Bearer|Key|Basic) \*\*\*", MASK, text)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._forms)} forms)"


class ScrubbingFilter(logging.Filter):
    """A log handler filter that masks every known secret in the message and traceback."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        record.msg, record.args = self.scrubber.scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrubber.scrub(record.exc_text)
        return True
