"""The Compare tab: the form (ui/compare_form.py), the live grid of up to six cells with
synced playback (ui/compare_grid.py), pick / reuse / retry per cell, "Export side-by-side"
with its progress, and the comparisons in history with the tally (ui/compare_history.py).

The tab is built when it is first opened (ui/compare_open.py: a gr.render), so a fresh
page carries none of its blocks: `render` and `wire` run then, for that page alone, with
the page's language, its group and its owner's past comparisons at hand.

The grid follows one group per page (`group_id`, kept by the page), refreshed by a timer
that ticks only while a member is unfinished; a member's video is given to its cell once,
when it is saved.
"""

from __future__ import annotations

import asyncio
import html
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from jobs.group_blind import letter_of, names_hidden
from jobs.group_plan import MAX_MEMBERS
from jobs.group_views import GroupView
from jobs.records import JobRecord
from providers.base import Kind, StudioError
from ui import compare_form, compare_grid, compare_history, controls, generate_panel, owners
from ui.compare_form import CompareForm
from ui.format import download_name
from ui.generate_panel import GeneratePanel
from ui.i18n import DEFAULT, error_text, lang_of, page, text
from ui.session import PRIVATE, Context, Session


@dataclass
class Cell:
    box: gr.Column
    head: gr.HTML
    video: gr.Video
    pick: gr.Button
    reuse: gr.Button
    retry: gr.Button


@dataclass
class ComparePanel:
    form: CompareForm
    summary: gr.HTML
    controls: gr.HTML
    cells: list[Cell]
    export: gr.Button
    export_status: gr.HTML
    export_file: gr.File
    past: compare_history.CompareHistory
    group_id: gr.State  # str | None: the group this page's grid shows
    loaded: gr.State  # dict[int, str]: cell -> the job whose video it holds
    timer: gr.Timer


@dataclass
class Opening:
    """How the tab is built: the form's first values, the page's group and language, and
    what the owner's past comparisons and the price line say now."""

    kind: Kind = "t2v"
    models: list[str] | None = None
    prompt: str = ""
    takes: int | None = None
    group_id: str | None = None
    lang: str = DEFAULT
    past: tuple[list[Any], list[str], str] = ([], [], "")


def render(ctx: Context, opening: Opening, group_id: gr.State) -> ComparePanel:
    form = compare_form.render(ctx, opening.kind, opening.models, opening.prompt, opening.takes, opening.lang)
    summary = gr.HTML(elem_id="compare-summary-box")
    gr.HTML(compare_grid.STYLE, padding=False, container=False)
    controls = gr.HTML(compare_grid.controls_html(), js_on_load=compare_grid.SYNC_JS, visible=False,
                       elem_id="compare-controls-box")
    cells = []
    with gr.Row(elem_id="compare-grid"):
        for index in range(MAX_MEMBERS):
            with gr.Column(visible=False, min_width=220, elem_classes=["compare-cell"],
                           elem_id=f"compare-cell-{index}") as box:
                head = gr.HTML(elem_id=f"compare-head-{index}")
                video = gr.Video(interactive=False, show_label=False, elem_id=f"compare-video-{index}", height=220)
                with gr.Row():
                    pick = gr.Button(page("compare.pick"), size="sm", visible=False, elem_id=f"compare-pick-{index}")
                    reuse = gr.Button(page("compare.reuse"), size="sm", visible=False,
                                      elem_id=f"compare-reuse-{index}")
                    retry = gr.Button(page("compare.retry"), size="sm", visible=False,
                                      elem_id=f"compare-retry-{index}")
            cells.append(Cell(box, head, video, pick, reuse, retry))
    with gr.Row():
        export = gr.Button(page("compare.export"), interactive=False, elem_id="compare-export")
        export_file = gr.File(label=page("compare.export_file"), visible=False, elem_id="compare-export-file")
    export_status = gr.HTML(elem_id="compare-export-status")
    past = compare_history.render(*opening.past)
    # With a group to show, the first tick fills the grid at once (ui: grid_updates sets 1 s).
    timer = gr.Timer(0.1 if opening.group_id else 1.0, active=bool(opening.group_id))
    return ComparePanel(form, summary, controls, cells, export, export_status, export_file, past, group_id,
                        gr.State({}), timer)


def grid_outputs(panel: ComparePanel) -> list[Any]:
    found: list[Any] = [panel.summary, panel.controls, panel.export, panel.timer, panel.loaded]
    for cell in panel.cells:
        found += [cell.box, cell.head, cell.video, cell.pick, cell.reuse, cell.retry]
    return found


def _video_name(view: GroupView, index: int, job: JobRecord, ctx: Context) -> str:
    if names_hidden(view.group):  # a blind cell's file name must not say the model
        return f"dreamina_compare-{view.group.id}-{letter_of(view.group, job.id)}.mp4"
    return download_name(job, registry=ctx.registry)


def grid_updates(
    panel: ComparePanel, ctx: Context, view: GroupView | None, loaded: dict, lang: str = DEFAULT
) -> dict[Any, Any]:
    """Every cell as the group now stands, in `lang`; a video only when its cell does not
    hold it yet."""
    updates: dict[Any, Any] = {}
    if view is None:
        updates.update({panel.summary: "", panel.controls: gr.update(visible=False),
                        panel.export: gr.update(interactive=False), panel.timer: gr.Timer(active=False),
                        panel.loaded: {}})
        for cell in panel.cells:
            updates[cell.box] = gr.update(visible=False)
        return updates
    group = view.group
    now_loaded = dict(loaded)
    for index, cell in enumerate(panel.cells):
        if index >= len(group.members):
            updates[cell.box] = gr.update(visible=False)
            updates[cell.video] = None
            now_loaded.pop(str(index), None)
            continue
        job = view.jobs[index]
        member = group.members[index]
        updates[cell.box] = gr.update(visible=True)
        updates[cell.head] = compare_grid.cell_head(ctx.registry, group, index, job, lang=lang)
        ready = job is not None and job.state == "succeeded" and bool(job.video_path)
        if job is not None and ready and now_loaded.get(str(index)) != f"{job.id}:{names_hidden(group)}":
            served = ctx.guard.links.page_file(job.owner, job.video_path, _video_name(view, index, job, ctx))
            updates[cell.video] = served
            now_loaded[str(index)] = f"{job.id}:{names_hidden(group)}"
        elif not ready and str(index) in now_loaded:
            updates[cell.video] = None
            now_loaded.pop(str(index))
        failed = (job is None and bool(member.error)) or (job is not None and job.state in ("failed", "cancelled"))
        picked = group.pick == member.job_id
        updates[cell.pick] = gr.update(visible=bool(ready), value=text(lang, "compare.picked" if picked else "compare.pick"),
                                       variant="primary" if picked else "secondary")
        updates[cell.reuse] = gr.update(visible=job is not None)
        updates[cell.retry] = gr.update(visible=failed)
    updates[panel.summary] = compare_grid.summary(ctx.registry, view, lang)
    updates[panel.controls] = gr.update(visible=bool(view.succeeded), value=compare_grid.controls_html(lang))
    updates[panel.export] = gr.update(interactive=len(view.succeeded) >= 2)
    updates[panel.timer] = gr.Timer(1.0, active=not view.finished)
    updates[panel.loaded] = now_loaded
    return updates


def wire(panel: ComparePanel, ctx: Context, session: Session, forms: dict[str, GeneratePanel], tabs: gr.Tabs) -> None:
    """Wire the tab (for the page it is built for)."""
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry
    form = panel.form
    outputs = grid_outputs(panel)

    # --- the form: options follow the models, the price follows everything -------------
    option_outputs = [form.image_row, *form.shared.values(), *form.per_model.values(), form.per_model_box]

    def on_kind(kind: str, request: gr.Request) -> dict[Any, Any]:
        chosen = compare_form.default_models(ctx, kind)  # type: ignore[arg-type]
        updates = compare_form.option_updates(form, registry, kind, chosen)  # type: ignore[arg-type]
        choices = compare_form.model_choices(registry, kind, lang_of(request))  # type: ignore[arg-type]
        updates[form.models] = gr.update(choices=choices, value=chosen)
        return updates

    price_inputs = [session.owner, session.keys, *form.inputs()]

    async def price(request: gr.Request, owner: str | None, keys: Any, *values: Any) -> Any:
        # Unprocessed (preprocess=False): a price asked while on_kind's answer was on its way
        # carries the old kind's models, which the models' own check (now holding the new
        # choices) would refuse with Gradio's bare "Error" badge. Such a price draws nothing:
        # the one that follows on_kind's answer (.then) draws the line.
        kind, models = values[0], values[4] or []
        if any(registry.model(m).kind != kind for m in models if registry.model_or_none(m) is not None):
            return gr.skip()
        try:
            image = controls.uploaded_path(values[2])  # the upload, as the image's own check takes it
        except StudioError as error:
            return compare_form.price_html(None, error, registry, lang=lang_of(request))
        return await price_line(ctx, form, request, owner, keys, [kind, values[1], image, *values[3:]])

    # The price asks again when anything it reads changes, but not when the kind does: the
    # models that go with the new kind arrive with on_kind's answer, and the price follows
    # that answer (.then). Priced alone, a kind change reads the new kind with the old
    # models. always_last: quick clicks end with the options of the last choice.
    form.kind.input(
        on_kind, inputs=[form.kind], outputs=[*option_outputs, form.models], trigger_mode="always_last", **PRIVATE,
    ).then(price, inputs=price_inputs, outputs=[form.price], show_progress="hidden", preprocess=False, **PRIVATE)
    form.models.input(
        lambda kind, models: compare_form.option_updates(form, registry, kind, models),
        inputs=[form.kind, form.models], outputs=option_outputs, trigger_mode="always_last", **PRIVATE,
    )
    # The image too: the price line says "upload one" until it has it. The models' input
    # (a person's pick), not change, which on_kind's answer fires too.
    changing: list[Any] = [form.takes, form.prompt, form.image, form.fit_image, *form.option_inputs()]
    gr.on([form.models.input, *(c.change for c in changing)], price, inputs=price_inputs, outputs=[form.price],
          show_progress="hidden", trigger_mode="always_last", preprocess=False, **PRIVATE)

    # --- Compare -------------------------------------------------------------------------

    async def start(request: gr.Request, owner: str | None, keys: Any, loaded: dict, *values: Any) -> dict[Any, Any]:
        owner = owners.require(owner, settings, request)
        asked = compare_form.request(form, registry, list(values))
        try:
            view = await studio.compare(owner, asked, keys, quota_key=owners.quota_key(settings, request))
        except StudioError as error:
            return {form.status: compare_form.price_html(None, error, registry, lang=lang_of(request))}
        updates = grid_updates(panel, ctx, view, {}, lang_of(request))
        updates[panel.group_id] = view.group.id
        updates[form.status] = ""
        updates[panel.export_file] = gr.update(value=None, visible=False)
        updates[panel.export_status] = ""
        updates[session.timer] = gr.Timer(active=True)  # the running-jobs list and done signals follow the members
        return updates

    form.generate.click(
        start,
        inputs=[session.owner, session.keys, panel.loaded, *form.inputs()],
        outputs=[*outputs, panel.group_id, form.status, panel.export_file, panel.export_status, session.timer],
        show_progress="minimal", trigger_mode="once", **PRIVATE,
    )

    async def refresh(owner: str | None, group_id: str | None, loaded: dict, request: gr.Request) -> dict[Any, Any]:
        view = await studio.group(owner, group_id) if owner and group_id else None
        return grid_updates(panel, ctx, view, loaded or {}, lang_of(request))

    refresh_inputs = [session.owner, panel.group_id, panel.loaded]
    panel.timer.tick(refresh, inputs=refresh_inputs, outputs=outputs, show_progress="hidden", **PRIVATE)

    # --- each cell: pick, reuse, retry ---------------------------------------------------

    form_outputs: list[Any] = [tabs]
    for generate_form in forms.values():
        form_outputs += [generate_form.provider, generate_form.model, generate_form.model_info, generate_form.prompt,
                         generate_form.counter, generate_form.seed, generate_form.generate,
                         *generate_form.options().values()]
        if generate_form.image is not None and generate_form.fit_image is not None:
            form_outputs += [generate_form.image, generate_form.fit_image]

    for index, cell in enumerate(panel.cells):

        async def pick(
            request: gr.Request, owner: str | None, group_id: str | None, loaded: dict, index: int = index
        ) -> dict[Any, Any]:
            view = await studio.group(owners.require(owner, settings, request), group_id) if group_id else None
            if view is None or index >= len(view.jobs):
                return {}
            job_id = view.group.job_ids[index]
            await studio.pick(view.group.owner, view.group.id, None if view.group.pick == job_id else job_id)
            return await refresh(owner, group_id, loaded, request)

        cell.pick.click(pick, inputs=refresh_inputs, outputs=outputs, show_progress="hidden", **PRIVATE)

        async def retry(
            request: gr.Request, owner: str | None, keys: Any, group_id: str | None, loaded: dict, index: int = index
        ) -> dict[Any, Any]:
            owner = owners.require(owner, settings, request)
            view = await studio.group(owner, group_id) if group_id else None
            if view is None or index >= len(view.jobs):
                return {}
            try:
                await studio.retry_member(owner, view.group.id, view.group.job_ids[index], keys,
                                          quota_key=owners.quota_key(settings, request))
            except StudioError as error:
                gr.Warning(error_text(lang_of(request), error))
            return await refresh(owner, group_id, loaded, request)

        cell.retry.click(retry, inputs=[session.owner, session.keys, panel.group_id, panel.loaded], outputs=outputs,
                         show_progress="hidden", **PRIVATE)

        async def reuse(
            owner: str | None, keys: Any, group_id: str | None, request: gr.Request, index: int = index
        ) -> dict[Any, Any]:
            view = await studio.group(owners.require(owner, settings, request), group_id) if group_id else None
            job = view.jobs[index] if view is not None and index < len(view.jobs) else None
            if job is None:
                return {}
            updates = generate_panel.fill_from_record(forms[job.kind], job, ctx, keys)
            updates[tabs] = gr.Tabs(selected=job.kind)
            return updates

        cell.reuse.click(reuse, inputs=[session.owner, session.keys, panel.group_id], outputs=form_outputs,
                         show_progress="hidden", **PRIVATE)

    # --- Export side-by-side: rendered off the event loop, its progress shown ------------

    async def export(owner: str | None, group_id: str | None, request: gr.Request) -> Any:
        owner = owners.require(owner, settings, request)
        lang = lang_of(request)
        if not group_id:
            return
        done: list[float] = [0.0]
        task = asyncio.ensure_future(
            studio.export_side_by_side(owner, group_id, lambda fraction: done.__setitem__(0, fraction))
        )
        while not task.done():
            words = html.escape(text(lang, "compare.rendering", percent=f"{done[0]:.0%}"))
            yield gr.update(), f'<div class="compare-progress">{words}</div>'
            await asyncio.wait({task}, timeout=0.3)
        try:
            path = task.result()
        except StudioError as error:
            yield gr.update(), f'<div class="compare-price refused">{html.escape(error_text(lang, error))}</div>'
            return
        served = ctx.guard.links.page_file(owner, path, f"dreamina-compare_{group_id}.mp4")
        ready = html.escape(text(lang, "compare.ready"))
        yield gr.update(value=served, visible=True), f'<div class="compare-progress">{ready}</div>'

    panel.export.click(export, inputs=[session.owner, panel.group_id],
                       outputs=[panel.export_file, panel.export_status], show_progress="hidden", **PRIVATE)

    # --- past comparisons: reopen a group ------------------------------------------------

    load = compare_history.wire(panel.past, ctx, session, panel.group_id)
    # A cell finishing changes the summary: the history's mosaic and the tally follow.
    panel.summary.change(load, inputs=[session.owner], outputs=[panel.past.gallery, panel.past.ids, panel.past.tally],
                         show_progress="hidden", **PRIVATE)
    # ...and the main history, where each member is a job of its own.
    panel.summary.change(time.time, outputs=[session.history_changed], show_progress="hidden", **PRIVATE)
    panel.group_id.change(refresh, inputs=refresh_inputs, outputs=outputs, show_progress="hidden", **PRIVATE)


async def price_line(
    ctx: Context, form: CompareForm, request: gr.Request, owner: str | None, keys: Any, values: list[Any]
) -> str:
    """The group's price line for the form's `values` (in `form.inputs()` order)."""
    lang = lang_of(request)
    asked = compare_form.request(form, ctx.registry, values)
    if not asked.models:
        return ""
    try:
        quote = await ctx.studio.group_quote(asked, keys)
    except StudioError as error:
        return compare_form.price_html(None, error, ctx.registry, lang=lang)
    budget = await ctx.studio.budget(owner, owners.quota_key(ctx.settings, request)) if owner else None
    return compare_form.price_html(quote, None, ctx.registry, budget, lang)
