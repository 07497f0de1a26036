"""Comparisons in history: one entry per group (its poster mosaic and prompt) that reopens
the grid, Delete for a whole group, and the local tally of picks per model (picks, median
time to result, median price). The members stay ordinary jobs in the main history."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from jobs.group_blind import names_hidden
from jobs.group_views import GroupView, TallyRow
from providers.base import StudioError
from providers.registry import Registry
from ui import owners
from ui.compare_grid import seconds_words
from ui.i18n import DEFAULT, error_text, lang_of, name_text, page, text, usd_text
from ui.session import PRIVATE, Context, Session

PAGE = 24


@dataclass
class CompareHistory:
    gallery: gr.Gallery
    ids: gr.State  # list[str]: the group ids in gallery order
    tally: gr.HTML
    delete: gr.Button
    export: gr.Button
    export_file: gr.File


def render(items: list[Any] | None = None, ids: list[str] | None = None, tally: str = "") -> CompareHistory:
    """The past comparisons as they are now (`loader`'s answer), their ids and the tally."""
    with gr.Accordion(page("compare.past"), open=True, elem_id="compare-history"):
        gallery = gr.Gallery(
            items or None,
            label=page("compare.gallery"), columns=3, fit_columns=False, object_fit="contain",
            allow_preview=False, interactive=False, elem_id="compare-gallery",
        )
        with gr.Row():
            export = gr.Button(page("compare.export_zip"), size="sm", elem_id="compare-export-zip")
            delete = gr.Button(page("compare.delete"), size="sm", variant="stop", elem_id="compare-delete")
        export_file = gr.File(label=page("compare.export_zip_file"), visible=False, elem_id="compare-export-zip-file")
        tally_box = gr.HTML(tally, elem_id="compare-tally")
    return CompareHistory(gallery, gr.State(ids or []), tally_box, delete, export, export_file)


def caption(registry: Registry, view: GroupView, lang: str = DEFAULT) -> str:
    group = view.group
    prompt = group.prompt if len(group.prompt) <= 60 else group.prompt[:59] + "…"
    pick = ""
    if group.pick and not names_hidden(group):
        picked = group.member(group.pick)
        spec = registry.model_or_none(picked.model) if picked else None
        pick = f" · ★ {name_text(lang, spec.label)}" if spec else ""
    return f"{prompt} · {text(lang, 'compare.videos', count=len(group.members))}{pick}"


def tally_html(registry: Registry, rows: list[TallyRow], lang: str = DEFAULT) -> str:
    """The local tally of picks per model as a small table, in `lang`."""
    if not rows:
        return ""
    body = []
    for row in rows:
        spec = registry.model_or_none(row.model)
        name = name_text(lang, f"{spec.provider_label} · {spec.label}") if spec else row.model
        seconds = seconds_words(row.median_seconds, lang) if row.median_seconds is not None else "–"
        usd = usd_text(row.median_usd, lang) if row.median_usd is not None else "–"
        body.append(
            f"<tr><td>{html.escape(name)}</td><td>{row.picks}</td><td>{row.runs}</td>"
            f"<td>{seconds}</td><td>{usd}</td></tr>"
        )
    head = "".join(
        f"<th>{html.escape(text(lang, key))}</th>"
        for key in ("param.model", "compare.tally_picks", "compare.tally_runs", "compare.tally_time", "compare.tally_price")
    )
    return (
        f'<table class="compare-tally"><caption>{html.escape(text(lang, "compare.tally_caption"))}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def loader(ctx: Context) -> Callable[..., Any]:
    """owner -> the gallery's items, their group ids and the tally, in the request's language."""
    studio, registry = ctx.studio, ctx.registry

    async def load(owner: str | None, request: gr.Request) -> tuple[Any, list[str], str]:
        lang = lang_of(request)
        if not owner:
            return [], [], ""
        views = await studio.group_history(owner, PAGE)
        items = []
        for view in views:
            poster = view.group.poster_path
            served = ctx.guard.links.page_file(owner, poster, f"dreamina-poster_group_{view.group.id}.webp")
            items.append((served, caption(registry, view, lang)) if served else None)
        shown = [(item, view.group.id) for item, view in zip(items, views, strict=True) if item]
        rows = await studio.tally(owner)
        return [item for item, _ in shown], [gid for _, gid in shown], tally_html(registry, rows, lang)

    return load


def wire(past: CompareHistory, ctx: Context, session: Session, group_id: gr.State) -> Callable[..., Any]:
    """Wire the gallery (its first items come with the tab: render); returns the loader."""
    studio, settings = ctx.studio, ctx.settings
    load = loader(ctx)
    history_outputs = [past.gallery, past.ids, past.tally]

    def reopen(ids: list[str], event: gr.SelectData) -> Any:
        index = event.index if isinstance(event.index, int) else None
        return ids[index] if index is not None and 0 <= index < len(ids) else gr.update()

    past.gallery.select(reopen, inputs=[past.ids], outputs=[group_id], show_progress="hidden", **PRIVATE)

    async def delete(owner: str | None, current: str | None, request: gr.Request) -> tuple[Any, ...]:
        owner = owners.require(owner, settings, request)
        if current:
            try:
                await studio.delete_group(owner, current)
            except StudioError as error:
                gr.Warning(error_text(lang_of(request), error))
                return (gr.update(), *await load(owner, request))
        return (None, *await load(owner, request))

    async def export(owner: str | None, current: str | None, request: gr.Request) -> Any:
        owner = owners.require(owner, settings, request)
        lang = lang_of(request)
        if not current:
            raise gr.Error(text(lang, "compare.open_first"), print_exception=False)
        try:
            archive = await studio.export_group(owner, current)
        except StudioError as error:
            raise gr.Error(error_text(lang, error), print_exception=False) from None
        ctx.guard.links.issue(owner, archive.name)  # only this owner may fetch it
        return gr.update(value=str(archive), visible=True)

    past.export.click(export, inputs=[session.owner, group_id], outputs=[past.export_file], **PRIVATE)
    past.delete.click(delete, inputs=[session.owner, group_id], outputs=[group_id, *history_outputs],
                      show_progress="hidden", **PRIVATE)
    return load
