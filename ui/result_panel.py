"""The result: the chosen video playing, a download with a meaningful file name, the job's
settings, seed and timings, and what to do with it next (reuse its settings, delete it,
check a timed-out job again)."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from jobs import rules
from jobs.records import JobRecord
from providers.base import StudioError
from providers.registry import Registry
from ui import generate_panel, owners
from ui.format import details_html, download_name
from ui.generate_panel import GeneratePanel
from ui.i18n import DEFAULT, error_text, lang_of, page, text
from ui.media_links import MediaLinks
from ui.page_records import page_record
from ui.session import PRIVATE, Context, Session
from ui.stored_text import job_text


def empty_html(lang: str = DEFAULT) -> str:
    """The result's place before a video is shown, in `lang` (redrawn on load)."""
    return (
        '<div class="empty-state" id="result-empty"><div class="big">▶</div>'
        f"{html.escape(text(lang, 'result.empty'))}<br>{html.escape(text(lang, 'result.empty_hint'))}</div>"
    )


EMPTY = empty_html()


@dataclass
class ResultPanel:
    empty: gr.HTML
    video: gr.Video
    details: gr.HTML
    download: gr.DownloadButton
    reuse: gr.Button
    recheck: gr.Button
    delete: gr.Button
    confirm_row: gr.Row  # "Delete this video for good?" with Delete / Keep it
    confirm: gr.Button
    keep: gr.Button

    def outputs(self) -> list[Any]:
        return [
            self.empty,
            self.video,
            self.details,
            self.download,
            self.reuse,
            self.recheck,
            self.delete,
            self.confirm_row,
        ]


def render() -> ResultPanel:
    empty = gr.HTML(EMPTY)
    video = gr.Video(
        label=page("result.label"),
        show_label=False,
        autoplay=True,
        loop=True,
        interactive=False,
        visible=False,
        height=420,
        buttons=["download"],
        elem_id="result-video",
    )
    with gr.Row(elem_id="result-actions"):
        download = gr.DownloadButton(
            str(page("result.download")), visible=False, variant="primary", elem_id="result-download"
        )
        reuse = gr.Button(page("result.reuse"), visible=False, elem_id="result-reuse")
        recheck = gr.Button(page("result.recheck"), visible=False)
        delete = gr.Button(page("result.delete"), visible=False, variant="stop", elem_id="result-delete")
    with gr.Row(visible=False, elem_id="result-confirm", elem_classes="confirm-row") as confirm_row:
        gr.HTML(f'<div class="confirm-text" role="alert">{page("result.confirm_text")}</div>')
        confirm = gr.Button(page("result.confirm"), variant="stop", size="sm", elem_id="result-delete-confirm")
        keep = gr.Button(page("result.keep"), size="sm", elem_id="result-delete-keep")
    details = gr.HTML(visible=False, elem_id="result-details")
    return ResultPanel(empty, video, details, download, reuse, recheck, delete, confirm_row, confirm, keep)


def named_video(record: JobRecord, registry: Registry, links: MediaLinks) -> Path | None:
    """The video under its download name, so both the player's and the button's downloads
    save as e.g. dreamina_sim-t2v_20250101-1200_a-paper-boat_seed42.mp4: a symbolic link
    (it holds no bytes; Gradio serves its own cached copy) issued to the record's owner
    alone (ui/media_links.py)."""
    served = links.page_file(record.owner, record.video_path, download_name(record, registry=registry))
    return Path(served) if served else None


def show(record: JobRecord | None, registry: Registry, links: MediaLinks, lang: str = DEFAULT) -> list[Any]:
    """Updates for ResultPanel.outputs(): the job, or the empty state, worded in `lang`."""
    if record is None:
        hidden = gr.update(visible=False)
        return [
            gr.update(value=empty_html(lang), visible=True),
            gr.update(value=None, visible=False),
            hidden,
            hidden,
            hidden,
            hidden,
            hidden,
            hidden,
        ]
    video = named_video(record, registry, links) if record.state == "succeeded" else None
    return [
        gr.update(value=empty_html(lang), visible=video is None and record.state == "succeeded"),
        gr.update(value=str(video) if video else None, visible=video is not None),
        gr.update(value=details_html(record, registry=registry, lang=lang), visible=True),
        gr.update(value=str(video) if video else None, visible=video is not None),
        gr.update(visible=rules.can_reuse(registry, record)),
        gr.update(visible=rules.can_check_again(record)),
        gr.update(visible=not record.active),
        gr.update(visible=False),
    ]


def wire(
    panel: ResultPanel, ctx: Context, session: Session, forms: dict[str, GeneratePanel], tabs: gr.Tabs
) -> None:
    studio, settings = ctx.studio, ctx.settings

    async def on_shown(owner: str | None, shown: str | None, request: gr.Request) -> list[Any]:
        lang = lang_of(request)
        if not owner or not shown:
            return show(None, ctx.registry, ctx.guard.links, lang)
        record = await studio.get(owner, shown)
        seen = await page_record(ctx, record, lang) if record else None  # a blind member names no model
        return show(seen, ctx.registry, ctx.guard.links, lang)

    session.shown.change(
        on_shown,
        inputs_kwargs={"owner": session.owner, "shown": session.shown},
        outputs=panel.outputs(),
        show_progress="hidden",
        **PRIVATE,
    )

    form_outputs: list[Any] = [tabs]
    for form in forms.values():
        form_outputs += [
            form.provider,
            form.model,
            form.model_info,
            form.prompt,
            form.counter,
            form.seed,
            form.generate,
            *form.options().values(),
        ]
        if form.image is not None and form.fit_image is not None:
            form_outputs += [form.image, form.fit_image]

    async def reuse(owner: str | None, shown: str | None, keys: Any, request: gr.Request) -> dict[Any, Any]:
        lang = lang_of(request)
        record = await studio.get(owners.require(owner, settings, request), shown) if shown else None
        if record is None:
            gr.Info(text(lang, "notice.pick_first"))
            return {}
        updates = generate_panel.fill_from_record(forms[record.kind], record, ctx, keys, lang)
        updates[tabs] = gr.Tabs(selected=record.kind)
        return updates

    panel.reuse.click(
        reuse,
        inputs_kwargs={"owner": session.owner, "shown": session.shown, "keys": session.keys},
        outputs=form_outputs,
        show_progress="hidden",
        **PRIVATE,
    )

    async def delete(owner: str | None, shown: str | None, request: gr.Request) -> list[Any]:
        owner = owners.require(owner, settings, request)
        lang = lang_of(request)
        if not shown:
            return [gr.skip(), gr.skip(), *ask(False)]
        try:
            removed = await studio.delete(owner, shown)
        except StudioError as error:
            raise gr.Error(error_text(lang, error), print_exception=False) from None
        if removed:
            gr.Info(text(lang, "notice.deleted"))
        return [None, time.time(), *ask(False)]

    # Delete asks first (nothing is lost to a stray click); the question sits where the
    # button was, and either answer puts the button back.
    def ask(asking: bool) -> list[Any]:
        return [gr.update(visible=asking), gr.update(visible=not asking)]

    panel.delete.click(
        lambda: ask(True), outputs=[panel.confirm_row, panel.delete], queue=False, **PRIVATE
    )
    panel.keep.click(lambda: ask(False), outputs=[panel.confirm_row, panel.delete], queue=False, **PRIVATE)
    panel.confirm.click(
        delete,
        inputs_kwargs={"owner": session.owner, "shown": session.shown},
        outputs=[session.shown, session.history_changed, panel.confirm_row, panel.delete],
        show_progress="hidden",
        **PRIVATE,
    )

    async def recheck(owner: str | None, shown: str | None, keys: Any, watch: Any, request: gr.Request) -> Any:
        owner = owners.require(owner, settings, request)
        lang = lang_of(request)
        record = await studio.recheck(owner, shown, keys) if shown else None
        if record is None:
            return gr.skip()
        if record.active:
            watch.seen.add(record.id)
            gr.Info(text(lang, "notice.rechecking"))
            return gr.Timer(active=True)
        gr.Warning(job_text(lang, record, "error") or text(lang, "notice.cannot_recheck"))
        return gr.skip()

    panel.recheck.click(
        recheck,
        inputs_kwargs={
            "owner": session.owner,
            "shown": session.shown,
            "keys": session.keys,
            "watch": session.watch,
        },
        outputs=[session.timer],
        show_progress="hidden",
        **PRIVATE,
    )
