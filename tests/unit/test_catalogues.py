"""The five message catalogues: every language has exactly the English keys, nothing empty,
the same `{placeholders}`; and no user-visible English string is added in ui/ without a key."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from providers.base import ValidationError
from providers.catalog import validate_prompt
from ui import i18n

UI = Path(__file__).resolve().parents[2] / "ui"
OTHERS = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_catalogue_has_every_english_key_and_no_other(lang: str) -> None:
    english, other = i18n.catalogue("en"), i18n.catalogue(lang)
    assert sorted(set(english) - set(other)) == [], f"{lang} lacks these keys"
    assert sorted(set(other) - set(english)) == [], f"{lang} has keys English does not"


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_no_text_is_empty_and_placeholders_match_english(lang: str) -> None:
    english = i18n.catalogue("en")
    for key, value in i18n.catalogue(lang).items():
        assert value.strip(), f"{lang}: {key} is empty (the browser would show English)"
        assert _fields(value) == _fields(english[key]), f"{lang}: {key} has other placeholders"
        if lang != "en" and len(value) > 12 and value == english[key] and not key.startswith("choice."):
            # Not fatal for names, but a long sentence left in English was forgotten.
            assert not re.search(r"[a-z]{4,} [a-z]{4,}", value), f"{lang}: {key} is untranslated"


def test_browser_texts_have_no_placeholders_or_markup() -> None:
    """Texts the browser formats (ICU messages) must not hold `{…}` or `<tags>`: a key used
    with page() is either such a text, or used only through text()."""
    used = set()
    for path in UI.rglob("*.py"):
        used |= set(re.findall(r"""page\(\s*f?["']([\w.{}]+)["']""", path.read_text(encoding="utf-8")))
    english = i18n.catalogue("en")
    for key in used:
        if "{" in key:  # page(f"form.prompt_placeholder_{kind}")
            continue
        assert key in english, f"page({key!r}) has no English text"
        for lang in i18n.LANGUAGES:
            value = i18n.catalogue(lang)[key]
            assert "{" not in value and "<" not in value, f"{lang}: {key} cannot be shown by the browser"


def test_request_language_is_picked_from_cookie_then_accept_language() -> None:
    assert i18n.pick("fr-CH, fr;q=0.9, en;q=0.8") == "fr"
    assert i18n.pick("de-DE,de;q=0.9,ja;q=0.8") == "ja"
    assert i18n.pick("en;q=0.5, zh-CN") == "zh"
    assert i18n.pick("de-DE") == "en"
    assert i18n.pick("") == "en"

    class Request:
        def __init__(self, cookies: dict[str, str], language: str) -> None:
            self.cookies = cookies
            self.headers = {"accept-language": language}

    assert i18n.lang_of(Request({}, "es-ES,es;q=0.9")) == "es"
    assert i18n.lang_of(Request({"studio_lang": "ja"}, "es-ES")) == "ja"  # switched in the footer
    assert i18n.lang_of(None) == "en"


def test_an_error_with_a_code_reads_in_the_page_language() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_prompt("x" * 801, 800)
    error = caught.value
    assert i18n.error_text("en", error) == error.message
    assert (
        i18n.error_text("fr", error)
        == "Prompt : 801 caractères, la limite est de 800. Raccourcissez-le de 1."
    )
    assert "801" in i18n.error_text("zh", error) and "800" in i18n.error_text("zh", error)
    # An error without a code keeps its English words.
    assert i18n.error_text("ja", ValidationError("prompt", "Plain English.")) == "Plain English."


# --- no new English in ui/ without a key ---------------------------------------------
# Keyword arguments and first positional arguments that reach a person's eyes.
VISIBLE_KEYWORDS = {"label", "info", "placeholder", "title"}
VISIBLE_CALLS = {"Button", "DownloadButton", "Tab", "Markdown", "Info", "Warning", "Error", "LoginButton"}
# Files whose English is not for the page (API docs for agents and tools, logs, HTTP answers).
NOT_PAGE = {
    "api.py",
    "compare_api.py",
    "gate.py",
    "gradio_internals.py",
    "login_throttle.py",
    "visitor_id.py",
    "client_address.py",
    "media_links.py",
    "upload_limits.py",
    "i18n.py",
    "owners.py",
    "session.py",
}


def _english(node: ast.AST) -> str | None:
    """The English words of a literal string (plain or f-string) argument, if any."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words = node.value
    elif isinstance(node, ast.JoinedStr):
        words = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    else:
        return None
    return words if re.search(r"[A-Za-z]{3,}", words) else None


# Files whose words have not moved to the catalogue yet (docs/architecture.md, "Adding a
# text"): none now; keep it empty.
NOT_YET: set[str] = set()


def test_no_visible_english_literal_in_ui_without_a_key() -> None:
    found = []
    for path in sorted(UI.glob("*.py")):
        if path.name in NOT_PAGE | NOT_YET or path.name.startswith("mcp_"):  # mcp_*: for agents
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in VISIBLE_CALLS and node.args and (words := _english(node.args[0])):
                found.append(f"{path.name}:{node.lineno} {name}({words!r})")
            for keyword in node.keywords:
                if keyword.arg in VISIBLE_KEYWORDS and (words := _english(keyword.value)):
                    found.append(f"{path.name}:{node.lineno} {keyword.arg}={words!r}")
    assert found == [], "visible English without a catalogue key (use ui.i18n.page or text):\n" + "\n".join(
        found
    )
