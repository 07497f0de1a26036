"""The history: poster images (not video tiles) of the owner's jobs, newest first, paged,
filtered by provider, model, outcome and prompt text. Picking one plays it in the result
panel. A comparison is one entry (its poster mosaic) that reopens its grid in the Compare
tab; filtering by provider, model or a failed outcome lists its members as jobs of their
own (a blind comparison's only after its pick), and the page's export takes every member. It reads the store, so it survives restarts, and refreshes itself when a job ends."""

from __future__ import annotations

import html
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block
from PIL import Image, ImageDraw

from jobs.group_blind import names_hidden
from jobs.group_views import GroupView
from jobs.records import HistoryPage, HistoryQuery, JobRecord
from providers.base import StudioError
from providers.registry import Registry
from providers.render_text import font_for
from ui.format import caption, state_word
from ui.i18n import DEFAULT, error_text, lang_of, name_text, page, page_name, text
from ui.media_links import MediaLinks
from ui.session import PRIVATE, Context, Session

PAGE_SIZE = 12
STATE_CHOICES = [
    (page("history.videos"), "succeeded"),
    (page("history.failed"), "failed"),
    (page("history.cancelled"), "cancelled"),
    (page("history.everything"), ""),
]
EMPTY_FIRST = f'<div class="empty-state" id="history-empty"><div class="big">▦</div>{page("history.empty")}</div>'
# The export's link appears below the button, at the foot of the page: bring it into view
# (after the browser has drawn it).
SHOW_EXPORT_JS = """() => { setTimeout(() => {
  const link = document.querySelector("#history-export-file");
  if (link) link.scrollIntoView({ block: "nearest" });
}, 150); }"""
EMPTY_FILTERED = f'<div class="empty-state" id="history-empty">{page("history.no_match")}</div>'


@dataclass
class HistoryView:
    """What this page's history shows. Mutated in place, never returned as an output:
    when two fetches overlap (a filter changed while another was loading), only the newest
    one may draw, so a slow stale answer cannot overwrite a fresh one."""

    cursors: list[str | None] = field(default_factory=lambda: [None])  # one per page shown so far
    ids: list[str] = field(default_factory=list)  # the jobs of the tiles, in order
    groups: list[str | None] = field(default_factory=list)  # per tile: the comparison it stands for
    exports: list[str] = field(default_factory=list)  # the page's jobs, a comparison's members too
    next: str | None = None
    seq: int = 0  # the latest fetch started


@dataclass
class HistoryPanel:
    provider: gr.Dropdown
    model: gr.Dropdown
    state: gr.Dropdown
    search: gr.Textbox
    gallery: gr.Gallery
    empty: gr.HTML
    prev: gr.Button
    next: gr.Button
    page_text: gr.HTML
    view: gr.State  # HistoryView
    export: gr.Button
    export_file: gr.File
    # (group id, when): a comparison's tile was picked; the Compare tab reopens its grid.
    open_group: gr.State

    def filters(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "state": self.state, "search": self.search}

    def outputs(self) -> list[Any]:
        return [self.gallery, self.empty, self.page_text, self.prev, self.next]

    def first_filters(self) -> dict[str, Any]:
        """The filters as a fresh page shows them (as built): a fresh page's load need not
        send them, each input read costing the server a worker-thread round trip."""
        return {name: block.value for name, block in self.filters().items()}

    def first_outputs(self) -> list[Any]:
        """What drawing the first page on a fresh page can change: `outputs()` but the
        'newer' button, which is built off and stays off on the first page."""
        return [block for block in self.outputs() if block is not self.prev]


def model_filter_choices(registry: Registry, provider: str | None, lang: str = DEFAULT) -> list[tuple[str, str]]:
    """'All models', then each model (with its provider's name when none is picked), in `lang`."""
    choices = [(text(lang, "history.all_models"), "")]
    for spec in registry.models(provider=provider or None):
        label = spec.label if provider else f"{spec.provider_label} · {spec.label}"
        choices.append((name_text(lang, label), spec.id))
    return choices


def render(registry: Registry) -> HistoryPanel:
    gr.HTML(f'<div class="section-title">{page("history.title")}</div>')
    with gr.Row(equal_height=True, elem_classes="history-filters"):
        provider = gr.Dropdown(
            [(page("history.all_providers"), ""), *((page_name(info.label), info.name) for info in registry)],
            value="",
            label=page("history.provider"),
            min_width=170,
            elem_id="history-provider",
        )
        model = gr.Dropdown(
            model_filter_choices(registry, None),
            value="",
            label=page("history.model"),
            min_width=240,
            scale=2,
            elem_id="history-model",
        )
    with gr.Row(equal_height=True, elem_classes="history-filters"):
        state = gr.Dropdown(
            STATE_CHOICES, value="succeeded", label=page("history.show"), min_width=140, elem_id="history-state"
        )
        search = gr.Textbox(
            label=page("history.search"),
            placeholder=page("history.search_placeholder"),
            min_width=200,
            scale=2,
            elem_id="history-search",
        )
    empty = gr.HTML(EMPTY_FIRST)
    gallery = gr.Gallery(
        label=page("history.title"),
        show_label=False,
        columns=4,
        height="auto",
        fit_columns=False,
        object_fit="contain",  # a 21:9 poster whole, not cropped to a square
        allow_preview=False,
        buttons=[],
        interactive=False,
        visible=False,
        elem_id="history-gallery",
    )
    with gr.Row(equal_height=False, elem_classes="pager"):
        prev = gr.Button(page("history.newer"), size="sm", interactive=False, elem_id="history-prev")
        page_text = gr.HTML('<div class="pager-text"></div>')
        next_ = gr.Button(page("history.older"), size="sm", interactive=False, elem_id="history-next")
    with gr.Row(equal_height=True):
        export = gr.Button(page("history.export"), size="sm", variant="secondary", elem_id="history-export")
    export_file = gr.File(
        label=page("history.export_file"),
        visible=False,
        interactive=False,
        elem_id="history-export-file",
    )
    view = gr.State(HistoryView())
    return HistoryPanel(
        provider, model, state, search, gallery, empty, prev, next_, page_text, view, export, export_file,
        gr.State(None),
    )


def placeholder(state: str, lang: str = DEFAULT) -> str:
    """A plain tile for a job without a poster (failed or cancelled), worded in `lang`."""
    words = state_word(state, lang) if state in ("failed", "cancelled") else text(lang, "tile.no_preview")
    name = state if state in ("failed", "cancelled") else "none"
    path = Path(tempfile.gettempdir()) / "dreamina-studio-tiles" / f"{name}-{lang}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (480, 270), (226, 232, 240))
        draw = ImageDraw.Draw(image)
        draw.text((240, 135), words, fill=(71, 85, 105), anchor="mm", font=font_for(36, words))
        partial = path.with_suffix(f".{os.getpid()}.part.png")
        image.save(partial)
        partial.replace(path)  # two pages drawing the same tile at once never see half a file
    return str(path)


def tile(record: JobRecord, registry: Registry, links: MediaLinks, lang: str = DEFAULT) -> tuple[str, str]:
    """(image, caption): the poster as a link only its owner can fetch, or a placeholder."""
    suffix = Path(record.poster_path).suffix if record.poster_path else ".webp"
    poster = links.page_file(record.owner, record.poster_path, f"dreamina-poster_{record.id}{suffix}")
    if poster:
        return poster, caption(record, registry=registry)
    return placeholder(record.state, lang), f"{state_word(record.state, lang)} · {caption(record, registry=registry)}"


def group_tile(
    view: GroupView, record: JobRecord, registry: Registry, links: MediaLinks, lang: str = DEFAULT
) -> tuple[str, str]:
    """(image, caption) of a comparison's one entry: its poster mosaic (once every member has
    finished; until then the poster of `record`, the member standing for it), how many
    videos, the pick (unless blind and unpicked) and the prompt."""
    group = view.group
    poster = links.page_file(group.owner, group.poster_path, f"dreamina-poster_group_{group.id}.webp")
    if not poster:
        poster = tile(record, registry, links, lang)[0]
    words = [text(lang, "compare.tile_blind" if names_hidden(group) else "compare.tile", count=len(group.members))]
    picked = group.member(group.pick) if group.pick else None
    if picked is not None and not names_hidden(group):
        spec = registry.model_or_none(picked.model)
        words.append(f"★ {name_text(lang, spec.label) if spec else picked.model}")
    words.append(group.prompt if len(group.prompt) <= 60 else group.prompt[:59] + "…")
    return poster, " · ".join(words)


def _tile(
    record: JobRecord, registry: Registry, links: MediaLinks, lang: str, groups: dict[str, GroupView]
) -> tuple[str, str]:
    view = groups.get(record.group_id or "")
    return group_tile(view, record, registry, links, lang) if view is not None else tile(record, registry, links, lang)


def page_updates(
    found: HistoryPage,
    cursors: list[str | None],
    filtered: bool,
    registry: Registry,
    links: MediaLinks,
    lang: str = DEFAULT,
    groups: dict[str, GroupView] | None = None,
) -> list[Any]:
    total = found.total or 0
    number = len(cursors)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    words = html.escape(text(lang, "history.page", number=number, pages=pages, total=total, count=total)) if total else ""
    pager = f'<div class="pager-text" data-total="{total}">{words}</div>'
    has_items = bool(found.items)
    return [
        gr.update(
            value=[_tile(r, registry, links, lang, groups or {}) for r in found.items],
            visible=has_items,
            selected_index=None,
        ),
        gr.update(value=EMPTY_FILTERED if filtered else EMPTY_FIRST, visible=not has_items),
        pager,
        gr.update(interactive=number > 1),
        gr.update(interactive=found.next_cursor is not None),
    ]


HistoryFill = Callable[[str | None, HistoryView, dict[str, Any], str], Awaitable[list[Any]]]


def wire(panel: HistoryPanel, ctx: Context, session: Session) -> HistoryFill:
    """Wire the panel; returns its fill, (owner, view, filters, lang) -> `panel.outputs()`'s
    updates for the view's page, which a fresh page's load draws (ui/page_load.py)."""
    studio = ctx.studio

    async def fetch(
        owner: str | None, view: HistoryView, cursors: list[str | None], filters: dict[str, Any], lang: str
    ) -> list[Any]:
        if not owner:
            return [gr.skip()] * 5
        view.seq += 1
        mine = view.seq
        query = HistoryQuery(
            limit=PAGE_SIZE,
            before=cursors[-1],
            provider=filters.get("provider") or None,
            model=filters.get("model") or None,
            state=filters.get("state") or None,
            text=(filters.get("search") or "").strip() or None,
            # A comparison is one entry, unless the filters ask for members by provider,
            # model or a failed/cancelled outcome.
            one_per_group=not filters.get("provider") and not filters.get("model")
            and (filters.get("state") or "") in ("", "succeeded"),
        )
        result = await studio.history(owner, query)
        groups: dict[str, GroupView] = {}
        if query.one_per_group:
            for record in result.items:
                if record.group_id and record.group_id not in groups:
                    found = await studio.group(owner, record.group_id)
                    if found is not None:
                        groups[record.group_id] = found
        if mine != view.seq:
            return [gr.skip()] * 5  # a newer fetch started meanwhile; it will draw
        view.cursors, view.ids, view.next = cursors, [r.id for r in result.items], result.next_cursor
        view.groups = [r.group_id if r.group_id in groups else None for r in result.items]
        view.exports = []
        for record in result.items:
            members = groups[record.group_id].group.job_ids if record.group_id in groups else [record.id]
            view.exports += [job_id for job_id in members if job_id not in view.exports]
        filtered = (
            any(filters.get(k) for k in ("provider", "model", "search"))
            or filters.get("state") != "succeeded"
        )
        return page_updates(result, cursors, filtered, ctx.registry, ctx.guard.links, lang, groups)

    inputs: dict[str, Block] = {"owner": session.owner, "view": panel.view, **panel.filters()}

    async def fill(owner: str | None, view: HistoryView, filters: dict[str, Any], lang: str) -> list[Any]:
        return await fetch(owner, view, view.cursors, filters, lang)

    async def reload(owner: str | None, view: HistoryView, request: gr.Request, **filters: Any) -> list[Any]:
        return await fill(owner, view, filters, lang_of(request))

    async def first_page(owner: str | None, view: HistoryView, request: gr.Request, **filters: Any) -> list[Any]:
        return await fetch(owner, view, [None], filters, lang_of(request))

    async def older(owner: str | None, view: HistoryView, request: gr.Request, **filters: Any) -> list[Any]:
        if not view.next:
            return [gr.skip()] * 5
        return await fetch(owner, view, [*view.cursors, view.next], filters, lang_of(request))

    async def newer(owner: str | None, view: HistoryView, request: gr.Request, **filters: Any) -> list[Any]:
        return await fetch(owner, view, view.cursors[:-1] or [None], filters, lang_of(request))

    async def export_page(owner: str | None, view: HistoryView, request: gr.Request) -> Any:
        lang = lang_of(request)
        if not owner or not view.ids:
            raise gr.Error(text(lang, "error.nothing_to_export"), print_exception=False)
        try:
            archive = await studio.export(owner, list(view.exports or view.ids))
        except StudioError as error:
            raise gr.Error(error_text(lang, error), print_exception=False) from None
        ctx.guard.links.issue(owner, archive.name)  # only this owner may fetch it
        return gr.update(value=str(archive), visible=True)

    panel.export.click(
        export_page,
        inputs_kwargs={"owner": session.owner, "view": panel.view},
        outputs=[panel.export_file],
        **PRIVATE,  # type: ignore[arg-type]
    ).success(None, js=SHOW_EXPORT_JS, **PRIVATE)

    outputs = panel.outputs()
    session.history_changed.change(
        reload, inputs_kwargs=inputs, outputs=outputs, show_progress="hidden", **PRIVATE
    )
    panel.next.click(older, inputs_kwargs=inputs, outputs=outputs, show_progress="hidden", **PRIVATE)
    panel.prev.click(newer, inputs_kwargs=inputs, outputs=outputs, show_progress="hidden", **PRIVATE)
    for trigger in (panel.model.input, panel.state.input):
        trigger(first_page, inputs_kwargs=inputs, outputs=outputs, show_progress="hidden", **PRIVATE)
    panel.search.change(
        first_page,
        inputs_kwargs=inputs,
        outputs=outputs,
        show_progress="hidden",
        trigger_mode="always_last",
        **PRIVATE,
    )

    def on_provider(provider: str, request: gr.Request) -> Any:
        return gr.update(choices=model_filter_choices(ctx.registry, provider, lang_of(request)), value="")

    panel.provider.input(
        on_provider, inputs=[panel.provider], outputs=[panel.model], queue=False, **PRIVATE
    ).then(first_page, inputs_kwargs=inputs, outputs=outputs, show_progress="hidden", **PRIVATE)

    def on_select(view: HistoryView, evt: gr.SelectData) -> tuple[Any, Any]:
        ids = view.ids
        index = evt.index if isinstance(evt.index, int) else None
        if index is None or index >= len(ids):
            return gr.skip(), gr.skip()
        group = view.groups[index] if index < len(view.groups) else None
        if group:  # a comparison's entry reopens its grid in the Compare tab
            return gr.skip(), (group, time.time())
        return ids[index], gr.skip()

    panel.gallery.select(on_select, inputs=[panel.view], outputs=[session.shown, panel.open_group], **PRIVATE)
    return fill
