"""What a fresh page asks the server for: one load event, not queued, with as few outputs
as the page needs.

The load resolves who the page acts for, draws the history's first page, shows the parts
of the page that wait for the owner, and attaches to the owner's running jobs: it starts
the status timer, whose first tick draws them (ui/status.py), only when there are any.
Each output costs the server on its event loop even when it is skipped (Gradio builds the
component again for any update), so the statuses, the running-jobs list and the done
signal are drawn by that look, not listed here.

The texts Python builds from several words (the header, the model pickers...) are built
in English with the page; a page in another language asks for them in its language with
a second event, which the page's script (LANGUAGE_JS) sends only then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio.events import Dependency

from ui import owners, status
from ui.format import error_html
from ui.generate_panel import GeneratePanel
from ui.history_panel import HistoryFill, HistoryPanel, HistoryView
from ui.i18n import DEFAULT, LANGUAGES, lang_of
from ui.session import PRIVATE, Context, Session, Watch

Redraw = Sequence[tuple[Any, Callable[[str], Any]]]

LANGUAGE_BUTTON = "page-language"

# Asks for the page's texts in its language unless the server would answer in English: the
# server reads the `studio_lang` cookie, else Accept-Language (ui/i18n.lang_of); the page's
# <html lang> and the browser's languages are what those come from. When in doubt it asks
# (the server then answers in the language it reads).
LANGUAGE_JS = """() => {
  const known = __KNOWN__;
  const base = (tag) => String(tag || "").toLowerCase().split("-")[0];
  const first = (tags) => tags.map(base).find((tag) => known.includes(tag)) || "__DEFAULT__";
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("studio_lang="));
  const wanted = [
    cookie ? first([decodeURIComponent(cookie.split("=")[1])]) : "__DEFAULT__",
    first(document.documentElement.getAttribute("lang") ? [document.documentElement.lang] : []),
    first([...(navigator.languages || [navigator.language])]),
  ];
  if (wanted.every((lang) => lang === "__DEFAULT__")) return;
  const ask = () => {
    const button = document.querySelector("button#__BUTTON__, #__BUTTON__ button");
    if (button) button.click();
    return Boolean(button);
  };
  if (ask()) return;
  const watch = new MutationObserver(() => { if (ask()) watch.disconnect(); });
  watch.observe(document.body, { childList: true, subtree: true });
}""".replace("__KNOWN__", json.dumps(list(LANGUAGES))).replace("__DEFAULT__", DEFAULT).replace("__BUTTON__", LANGUAGE_BUTTON)


def render_language_button() -> gr.Button:
    """The hidden button LANGUAGE_JS clicks (theme.CSS hides .studio-signal)."""
    return gr.Button("", elem_id=LANGUAGE_BUTTON, elem_classes="studio-signal")


def wire(
    demo: gr.Blocks,
    ctx: Context,
    session: Session,
    panels: list[GeneratePanel],
    reveal: Sequence[gr.Column],
    language: gr.Button,
    redraw: Redraw,
    history: HistoryPanel,
    fill: HistoryFill,
) -> Dependency:
    """`reveal`: hidden parts shown once the owner is known (the history, whose gallery and
    player code the browser then loads after the form is ready, not before); `history` and
    its `fill`: the history's first page, drawn by the load. `redraw`: each (component, its
    value in a language), sent when `language` is clicked. Returns the load, for what must
    follow it (.then) rather than wait for the owner's `change`."""
    hint = owners.sign_in_hint(ctx.settings)
    # Only a studio with an allow-list can have a page without an owner to tell why.
    hinted = [panel.status for panel in panels] if hint else []
    filters = history.first_filters()
    drawn = history.first_outputs()
    kept = [i for i, block in enumerate(history.outputs()) if any(block is d for d in drawn)]

    def sign_in_words(lang: str) -> str:
        # owners words it in English; the catalogue has the same sentences
        return owners.page_words(lang, hint or "")

    async def on_load(watch: Watch, view: HistoryView, request: gr.Request) -> list[Any]:
        lang = lang_of(request)
        owner = owners.on_load(ctx.settings, request)
        # Updates, not new components: Gradio builds the component again from an update
        # anyway, and building one here as well cost the event loop a second time.
        shown = [gr.update(visible=True) for _ in reveal]
        if not owner:
            skipped = [gr.skip()] * len(drawn)
            return [owner, gr.skip(), *shown, *skipped, *(error_html(sign_in_words(lang)) for _ in hinted)]
        active = await ctx.studio.active_jobs(owner)
        status.attach(watch, active)
        timer = gr.update(active=True) if active else gr.skip()
        page = await fill(owner, view, dict(filters), lang)
        return [owner, timer, *shown, *(page[i] for i in kept), *(gr.skip() for _ in hinted)]

    load = demo.load(
        on_load,
        # The filters are not read: a fresh page shows them as built (history.first_filters).
        inputs=[session.watch, history.view],
        outputs=[session.owner, session.timer, *reveal, *drawn, *hinted],
        # Not queued: a queued event costs the server about twice as much. Gradio 6.31's
        # page runs the `change` events of the states an unqueued event sets (the owner's)
        # only after a later queued one, so nothing here waits for them: the history's
        # first page is drawn by this load, and what needs the owner at once follows it.
        queue=False,
        show_progress="hidden",
        **PRIVATE,
    )

    def in_language(request: gr.Request) -> list[Any]:
        lang = lang_of(request)
        return [value(lang) for _, value in redraw]

    language.click(
        in_language,
        outputs=[component for component, _ in redraw],
        queue=False,
        show_progress="hidden",
        **PRIVATE,
    )
    return load
