"""The page's five languages: one message catalogue per language (ui/locales/<lang>.py),
used two ways.

- `page(key)`: a label, info, placeholder, button, tab, choice or static HTML text. It
  becomes a `gr.I18n` marker that the browser translates into the language the page shows
  (the browser's language, or the one picked in the footer's settings). Gradio translates
  one marker per text: join a marker only with untranslated text (a provider's name).
- `text(lang, key, **params)`: a sentence built in Python for one response (a status line,
  an error, a notice, the details table). `lang_of(request)` says which language the
  request's page shows: the page mirrors `<html lang>` into the `studio_lang` cookie
  (LANG_COOKIE_JS), and without that cookie the browser's Accept-Language decides.

English is the reference catalogue: every other language has exactly its keys
(tests/unit/test_catalogues.py). A key missing from a language at run time falls back to
English, and a missing English key is a bug the tests catch.
"""

from __future__ import annotations

import importlib
import math
import string
import time
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from providers.base import StudioError

if TYPE_CHECKING:  # Gradio is imported only where a page marker is made (format.py has none)
    import gradio as gr
    from gradio.i18n import I18nData

DEFAULT = "en"
# The language code the catalogue is filed under -> its own name (the order of the footer
# menu is Gradio's; this is ours). Gradio matches 'zh-CN' or 'zh-TW' to 'zh', 'fr-FR' to 'fr'.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文", "ja": "日本語", "fr": "Français", "es": "Español"}
COOKIE = "studio_lang"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Every message of one language, by key (`lang` must be one of LANGUAGES)."""
    if lang not in LANGUAGES:
        raise KeyError(f"no catalogue for language {lang!r}")
    module = importlib.import_module(f"ui.locales.{lang}")
    return module.MESSAGES  # type: ignore[no-any-return]


def gradio_i18n() -> gr.I18n:
    """The catalogues for `launch(i18n=...)`: the browser translates every `page()` key."""
    import gradio as gr

    # Texts with `{placeholders}` are filled in by text() on the server; the browser could
    # not show them (they would be read as ICU arguments), so they stay here.
    shown = [key for key, value in catalogue(DEFAULT).items() if "{" not in value]
    return gr.I18n(**{lang: {key: catalogue(lang)[key] for key in shown} for lang in LANGUAGES})


def page(key: str) -> I18nData:
    """A text the browser shows in the page's language. `key` must be in the English
    catalogue (checked here, so a typo fails at build time, not as a raw key on screen)."""
    if key not in catalogue(DEFAULT):
        raise KeyError(f"no English text for {key!r} in ui/locales/en.py")
    from gradio.i18n import I18nData

    return I18nData(key)


def page_or(key: str, english: str) -> str:
    """`english` as the page shows it: the marker of `key` when the English catalogue says
    exactly `english` there (a provider's own wording is shown as it is)."""
    return str(page(key)) if catalogue(DEFAULT).get(key) == english else english


def text_or(lang: str, key: str, english: str) -> str:
    """`english` in `lang`: the catalogue's text of `key` when its English is exactly
    `english`, else `english` as it is (the server-side twin of page_or)."""
    return text(lang, key) if catalogue(DEFAULT).get(key) == english else english


# English words in model and provider names that the page translates
# ('Simulated Dreamina 3.0 · text-to-video', 'Simulator (offline)').
NAME_WORDS: dict[str, str] = {
    "Simulator (offline)": "provider.simulator",
    "text-to-video": "model.t2v",
    "image-to-video": "model.i2v",
    "Simulated": "model.simulated",
}


def page_name(name: str) -> str:
    """A model's or provider's name for the page, its English words as markers."""
    for english, key in NAME_WORDS.items():
        name = name.replace(english, str(page(key)))
    return name


def name_text(lang: str, name: str) -> str:
    """A model's or provider's name in `lang` (the server-side twin of page_name)."""
    for english, key in NAME_WORDS.items():
        name = name.replace(english, text(lang, key))
    return name


def has(key: str) -> bool:
    return key in catalogue(DEFAULT)


def text(lang: str, key: str, /, **params: Any) -> str:
    """The message `key` in `lang` (English when that language lacks it), with `params`
    filled in (`{name}` placeholders, str.format). With a `count`, the key's `.one` form
    is used where the language says that count in the singular. A word that agrees with a
    number is written `{n:singular|plural}` (str.format's spec slot): '{n} {n:vidéo|vidéos}'
    says '1 vidéo' and '2 vidéos' in French."""
    if lang not in LANGUAGES:
        lang = DEFAULT
    if "count" in params and _singular(lang, params["count"]) and f"{key}.one" in catalogue(DEFAULT):
        key = f"{key}.one"  # '1 video', '0 vidéo': a language's singular, where it has one
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue(DEFAULT)[key]
    return _Plurals(lang).format(template, **params) if params else template


class _Plurals(string.Formatter):
    """str.format, where a spec `singular|plural` picks the word that agrees with the number."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> Any:
        if "|" in format_spec:
            one, _, other = format_spec.partition("|")
            return one if _singular(self.lang, value) else other
        return super().format_field(value, format_spec)


def _singular(lang: str, count: object) -> bool:
    """Whether `count` takes the singular in `lang` (French: 0 and 1; Chinese and Japanese
    have one form, so their `.one` texts equal the others)."""
    if not isinstance(count, int):
        return False
    return count in (0, 1) if lang == "fr" else count == 1


def pick(tags: str | None) -> str:
    """The first supported language in a `lang` value or an Accept-Language header
    ('fr-CH, fr;q=0.9, en;q=0.8' -> 'fr'); English when none is supported."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((tags or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT


def lang_of(request: gr.Request | None) -> str:
    """The language the page that sent `request` shows: its `studio_lang` cookie (the
    page's own `<html lang>`, which the footer's language menu changes), else the browser's
    Accept-Language, else English."""
    if request is None:
        return DEFAULT
    try:
        header = request.headers.get("accept-language")
    except AttributeError:  # a request Gradio made up (an API call without HTTP)
        return DEFAULT
    try:
        cookie = request.cookies.get(COOKIE)
    except AttributeError:  # one made of headers only
        cookie = None
    return pick(cookie) if cookie else pick(header)


def error_text(lang: str, error: StudioError) -> str:
    """An error for a person reading `lang`: its catalogue sentence when the error carries
    a code the catalogue knows (`error.<code>`), else the error's own English message."""
    code = getattr(error, "code", None)
    key = f"error.{code}"
    if not code or not has(key):
        return error.message
    params = _spoken(lang, dict(getattr(error, "params", None) or {}))
    if isinstance(params.get("reason"), StudioError):  # one comparison member's own error
        params["reason"] = error_text(lang, params["reason"])
    if "member" in params:  # a comparison member's name ('Simulated …' is translated)
        params["member"] = name_text(lang, str(params["member"]))
    if params.get("image_rules") is not None:  # what an image must be, said in this language
        from ui.image_check import rules_text

        params["rules"] = rules_text(params["image_rules"], lang)
    if params.get("report") is not None:  # an image's findings, said in this language
        from ui.image_words import summary

        params["summary"] = summary(lang, params["report"])
    if "option" in params:  # the option's name as this page labels it
        params["option"] = field_name(
            lang, str(params["option"]), str(params.get("label") or params["option"])
        )
    try:
        return text(lang, key, **params)
    except (KeyError, IndexError, ValueError):  # a template and its error disagree: say it in English
        return error.message


def wait_words(lang: str, seconds: float) -> str:
    """A wait of whole minutes ('12 min', '2 h 5 min') in `lang`, rounded up."""
    minutes = max(1, math.ceil(seconds / 60 - 1e-9))
    if minutes <= 60:
        return text(lang, "time.minutes", minutes=minutes)
    hours, rest = divmod(minutes, 60)
    if rest:
        return text(lang, "time.hours_minutes", hours=hours, minutes=rest)
    return text(lang, "time.hours", hours=hours)


def usd_text(usd: float, lang: str = DEFAULT) -> str:
    """US dollars to the cent as `lang` writes them: '$1,234.50'; '1 234,50 $ US' in French
    (the language's group and decimal marks, from its number.example, in its money.usd)."""
    example = text(lang, "number.example")
    whole, cents = f"{usd:,.2f}".split(".")
    return text(lang, "money.usd", amount=whole.replace(",", example[1]) + example[5] + cents)


def _spoken(lang: str, params: dict[str, Any]) -> dict[str, Any]:
    """An error's parameters as words of `lang`: a money limit's renewal time and wait, the
    amounts, what is asked for (jobs/limits.QuotaError)."""
    if "renew_at" in params:
        params["at"] = time.strftime("%H:%M", time.gmtime(float(params["renew_at"])))
        params["wait"] = wait_words(lang, float(params.get("wait_seconds", 0)))
    for name in ("limit_usd", "left_usd"):
        if name in params:
            params[name] = usd_text(float(params[name]), lang)
    videos = params.get("videos")
    if isinstance(videos, int):
        params["asked"] = "" if videos == 1 else " " + text(lang, "limit.asks", videos=videos)
        if "cost_usd" in params:
            cost = usd_text(float(params["cost_usd"]), lang)
            estimate = params.get("estimate") and videos == 1
            params["cost"] = text(lang, "price.estimate_words", usd=cost) if estimate else cost
            params["what"] = (
                text(lang, "limit.this_video") if videos == 1 else text(lang, "limit.these_videos", videos=videos)
            )
    return params


def field_name(lang: str, name: str, label: str) -> str:
    """A form field's name as the page calls it: the catalogue's when its English matches
    `label` (a provider may label its own option differently), else `label`."""
    key = f"param.{name}"
    return text(lang, key) if catalogue(DEFAULT).get(key) == label else label


# In the page's <head> (launch `head=`), before the app sends anything: a cookie from an
# earlier visit may name a language picked in the footer then, which the page no longer
# shows (Gradio starts from the browser's language); until LANG_COOKIE_JS sets it again,
# the server goes by Accept-Language, which is what the page shows.
LANG_COOKIE_RESET_HEAD = "<script>document.cookie = 'studio_lang=; path=/; max-age=0; SameSite=Lax';</script>"

# Runs once when the page loads (launch `js=`): keeps the `studio_lang` cookie equal to the
# language the page shows, so the server answers in it, including after a switch in the
# footer's settings. SameSite=Lax: the cookie rides on the page's own requests only.
LANG_COOKIE_JS = """() => {
  const root = document.documentElement;
  const remember = () => {
    const lang = root.getAttribute("lang");
    if (lang) document.cookie = `studio_lang=${encodeURIComponent(lang)}; path=/; max-age=31536000; SameSite=Lax`;
  };
  remember();
  new MutationObserver(remember).observe(root, { attributes: true, attributeFilter: ["lang"] });
}"""
