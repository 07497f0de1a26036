"""The Spend tab: what the current person spent today, this month and in all, by provider and
by model, read from the spend ledger (on a local run without login: everything). Refreshed
on load, while jobs run (so a newly accepted job shows within a tick) and on request."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from providers.registry import Registry
from ui import owners
from ui.i18n import DEFAULT, lang_of, name_text, page, text, usd_text
from ui.session import PRIVATE, Context, Session


@dataclass
class SpendPanel:
    figures: gr.HTML
    refresh: gr.Button


def scope(owner: str) -> str | None:
    """Whose spend a page shows: the owner's; a local run's single person sees everything."""
    return None if owner == owners.LOCAL_OWNER else owner


def _usd(value: object, lang: str) -> str:
    return usd_text(float(value) if isinstance(value, int | float) else 0.0, lang)


def _model_label(registry: Registry, model_id: str, lang: str) -> str:
    try:
        spec = registry.model(model_id)
    except Exception:  # a model this studio no longer offers: its id says enough
        return model_id
    return name_text(lang, f"{registry.label(spec.provider)} · {spec.label}")


def figures_html(spend: dict[str, Any] | None, registry: Registry, lang: str = DEFAULT) -> str:
    """The spend figures in `lang` (before the page has loaded: a line saying so)."""
    if spend is None:
        return f'<div class="spend" data-total="0">{page("spend.loading")}</div>'
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(name)}</th><td data-usd='{float(value):.4f}'>{_usd(value, lang)}</td></tr>"
        for name, value in (
            (text(lang, "spend.today"), spend["today_usd"]),
            (text(lang, "spend.month"), spend["month_usd"]),
            (text(lang, "spend.all"), spend["total_usd"]),
        )
    )
    colon = text(lang, "punct.colon")
    providers = "".join(
        f"<li>{html.escape(name_text(lang, registry.label(p)))}{colon}{_usd(v, lang)}</li>"
        for p, v in spend["by_provider"].items()
    )
    models = "".join(
        f"<li>{html.escape(_model_label(registry, m, lang))}{colon}{_usd(v, lang)}</li>"
        for m, v in spend["by_model"].items()
    )
    notes = []
    if spend.get("refunded_usd"):
        notes.append(text(lang, "spend.refunded", usd=_usd(spend["refunded_usd"], lang)))
    if spend.get("estimated_jobs"):
        notes.append(text(lang, "spend.estimated", count=spend["estimated_jobs"]))
    note_html = "".join(f"<p class='spend-note'>{html.escape(n)}</p>" for n in notes)
    return (
        f'<div class="spend" data-total="{float(spend["total_usd"]):.4f}" data-jobs="{spend["jobs"]}">'
        f'<table class="details-table spend-table">{rows}</table>'
        f"<p>{html.escape(text(lang, 'spend.jobs', count=spend['jobs']))}</p>"
        + (
            f"<h4>{html.escape(text(lang, 'spend.by_provider'))}</h4><ul>{providers}</ul>"
            f"<h4>{html.escape(text(lang, 'spend.by_model'))}</h4><ul>{models}</ul>"
            if providers
            else ""
        )
        + note_html
        + "</div>"
    )


def render(registry: Registry) -> SpendPanel:
    gr.HTML(page("spend.intro"))  # not Markdown: no Markdown code to load with the page
    figures = gr.HTML(figures_html(None, registry), elem_id="spend-figures")
    refresh = gr.Button(page("spend.refresh"), size="sm", elem_id="spend-refresh")
    return SpendPanel(figures, refresh)


def wire(panel: SpendPanel, ctx: Context, session: Session, opened: Any) -> None:
    """`opened`: the Spend tab's select event. The figures are read when the tab is opened
    (not for every new page, which seldom looks), on Refresh, and while jobs run."""

    async def show(owner: str | None, request: gr.Request) -> Any:
        if not owner:
            return gr.skip()
        return figures_html(await ctx.studio.spend(scope(owner)), ctx.registry, lang_of(request))

    gr.on(
        [opened, session.timer.tick, panel.refresh.click],
        show,
        inputs_kwargs={"owner": session.owner},
        outputs=[panel.figures],
        show_progress="hidden",
        trigger_mode="always_last",
        **PRIVATE,
    )
