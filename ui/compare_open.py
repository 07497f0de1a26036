"""The Compare tab is built when it is first opened, not with the page.

A fresh page carries only what this module puts in the tab: three states and an empty
gr.render. Opening the tab (also through "Compare with…", or a comparison picked in the
History) sets `opening`, and the render builds the tab for that page alone (ui/compare_tab.py: form,
grid, past comparisons), in the page's language, with the owner's past comparisons, the
price line and the page's group at hand. So neither the tab's blocks nor its component
types' code (the checkbox group, the slider, the accordion) weigh on the first load, and
no fresh page reads past comparisons.

`opening` changes only when the tab must be built again: on the first open, and at each
"Compare with…" (which fills the form with that prompt and model). The tab's own select
sets it, so the tab is built while shown. The group the grid shows (`group_id`) is the
page's, so it outlives a rebuild.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from providers.base import Kind
from ui import compare_form, compare_history, compare_tab
from ui.compare_tab import ComparePanel, Opening
from ui.generate_panel import GeneratePanel
from ui.i18n import lang_of, page
from ui.session import PRIVATE, Context, Session


@dataclass
class CompareShell:
    """What the page holds of the Compare tab until it is opened."""

    item: gr.Tab
    opening: gr.State  # dict | None: how the tab is built (kind, prompt, models, takes, when)
    wanted: gr.State  # dict | None: "Compare with…"'s form, until the tab's select builds it
    group_id: gr.State  # str | None: the group the grid shows
    built: dict[str, Any]  # what the render needs that the page makes after the tab (wire)


def compare_with_button(kind: str) -> gr.Button:
    """"Compare with…" under a generate tab's form: this prompt and model, in the Compare tab."""
    return gr.Button(page("compare.with"), size="sm", elem_id=f"{kind}-compare-with")


def render(ctx: Context, session: Session, item: gr.Tab) -> CompareShell:
    """Inside the Compare tab's `item`: the states and the render that builds the tab."""
    shell = CompareShell(item, gr.State(None), gr.State(None), gr.State(None), {})

    @gr.render(inputs=[shell.opening, shell.group_id, session.owner, session.keys], triggers=[shell.opening.change],
               show_progress="minimal")
    def build(opening: dict | None, group_id: str | None, owner: str | None, keys: Any, request: gr.Request) -> None:
        if not opening:
            return
        panel = compare_tab.render(ctx, _opening(ctx, opening, group_id, owner, request), shell.group_id)
        panel.form.price.value = _first_price(ctx, panel, owner, keys, request)
        compare_tab.wire(panel, ctx, session, shell.built["forms"], shell.built["tabs"])

    return shell


def _opening(ctx: Context, wanted: dict, group_id: str | None, owner: str | None, request: gr.Request) -> Opening:
    """The tab's first state: the form as asked, the page's group, the past comparisons now.
    (The render runs on a worker thread: engine calls are made from it synchronously.)"""
    past = ctx.studio.run_sync(lambda: compare_history.loader(ctx)(owner, request))
    kind: Kind = "i2v" if wanted.get("kind") == "i2v" else "t2v"
    return Opening(kind, wanted.get("models"), wanted.get("prompt") or "", wanted.get("takes"), group_id,
                   lang_of(request), past)


def _first_price(ctx: Context, panel: ComparePanel, owner: str | None, keys: Any, request: gr.Request) -> str:
    """The price line for the form as it opens with a prompt ("Compare with…"; its later
    changes ask again). An empty form says nothing yet, rather than asking for a prompt."""
    if not panel.form.prompt.value:
        return ""
    values = [control.value for control in panel.form.inputs()]
    return ctx.studio.run_sync(lambda: compare_tab.price_line(ctx, panel.form, request, owner, keys, values))


def wire(
    shell: CompareShell,
    ctx: Context,
    forms: dict[str, GeneratePanel],
    tabs: gr.Tabs,
    compare_with: dict[str, gr.Button],
    history_open: gr.State | None = None,
) -> None:
    """Open the tab on its first select; "Compare with…" under each form builds it with that
    prompt and model; `history_open` (ui/history_panel.py): a comparison picked in the main
    History, whose grid opens here."""
    shell.built.update(forms=forms, tabs=tabs)

    def on_select(opening: dict | None, wanted: dict | None) -> tuple[Any, Any]:
        if wanted:  # "Compare with…" asked for this form
            return wanted, None
        return (gr.skip() if opening else {"kind": "t2v", "when": time.time()}), gr.skip()

    # The tab is built only once it is shown: Gradio's page draws a render made while its
    # tab was never shown a second time when the tab appears (losing what was typed in
    # between), so "Compare with…" leaves its form in `wanted` and selects the tab, whose
    # select builds it. Queued: Gradio 6.31's page runs a state's `change` events (the
    # render's trigger) only after a queued event.
    shell.item.select(on_select, inputs=[shell.opening, shell.wanted], outputs=[shell.opening, shell.wanted],
                      show_progress="hidden", **PRIVATE)

    for kind, button in compare_with.items():
        source = forms[kind]

        def open_compare(prompt: str, model: str, kind: str = kind) -> tuple[Any, Any]:
            chosen = [model] + [m for m in compare_form.default_models(ctx, kind) if m != model]  # type: ignore[arg-type]
            chosen = chosen[:3]
            wanted = {"kind": kind, "prompt": prompt, "models": chosen, "takes": 1 if len(chosen) > 1 else 2,
                      "when": time.time()}
            return wanted, gr.Tabs(selected="compare")

        button.click(open_compare, inputs=[source.prompt, source.model], outputs=[shell.wanted, tabs], **PRIVATE)

    if history_open is not None:

        def reopen(opened: Any) -> tuple[Any, Any]:
            # The tab's select builds it if it is not built yet (showing this group).
            return (opened[0], gr.Tabs(selected="compare")) if opened else (gr.skip(), gr.skip())

        history_open.change(reopen, inputs=[history_open], outputs=[shell.group_id, tabs], show_progress="hidden",
                            **PRIVATE)
