"""The running-jobs list: every active job of this owner with its state and a Cancel button.

Drawn with @gr.render from `session.active_rows`, which the live-status tick rewrites; the
list is redrawn only when a job changes state (Gradio compares the state's value), not on
every tick.
"""

from __future__ import annotations

import html
import time
from typing import Any

import gradio as gr

from providers.registry import Registry
from ui import owners
from ui.format import model_name, state_word
from ui.i18n import DEFAULT, lang_of, page, text
from ui.page_records import page_record
from ui.session import PRIVATE, Context, Session
from ui.stored_text import job_text


def row_html(row: dict[str, Any], registry: Registry, lang: str = DEFAULT) -> str:
    """One running job's line, in `lang` (the prompt as it was typed)."""
    state = state_word(row["state"], lang)
    if row["state"] == "queued" and row.get("queue_position") is not None:
        state += " · " + text(lang, "running.in_queue", position=row["queue_position"])
    prompt = row["prompt"] if len(row["prompt"]) <= 80 else row["prompt"][:77] + "…"
    started = time.strftime("%H:%M:%S", time.localtime(row["created_at"]))
    note = f'<div class="sub">{html.escape(row["note"])}</div>' if row.get("note") else ""
    kind = text(lang, f"tab.{row['kind']}") if row["kind"] in ("t2v", "i2v") else row["kind"]
    return (
        f'<div class="job-text" data-job="{html.escape(row["id"])}" data-state="{html.escape(row["state"])}">'
        f"<b>{html.escape(state)}</b> · {html.escape(prompt)}"
        f'<div class="sub">{html.escape(kind)} · {html.escape(model_name(row["model"], registry=registry, lang=lang))}'
        f" · {html.escape(text(lang, 'running.started'))} {started}</div>{note}</div>"
    )


def render(ctx: Context, session: Session) -> None:
    """The list, at the current place in the layout."""
    studio, settings = ctx.studio, ctx.settings
    gr.HTML(f'<div class="section-title">{page("running.title")}</div>')
    # Drawn once with the page, hidden by theme.CSS while the list below has a row: the list
    # is drawn only when the rows change, not on every page load as a gr.render is by
    # default (a queued event that would build its components again for each new page).
    gr.HTML(
        f'<div class="empty-state small" id="no-running-jobs">{page("running.none")}</div>',
        elem_id="no-running-jobs-box",
    )

    @gr.render(inputs=[session.active_rows], triggers=[session.active_rows.change])
    def running_jobs(rows: list[dict[str, Any]], request: gr.Request) -> None:
        lang = lang_of(request)
        for row in rows:
            with gr.Row(elem_classes="job-row", equal_height=True, key=f"row-{row['id']}"):
                gr.HTML(row_html(row, ctx.registry, lang), key=f"text-{row['id']}")
                button = gr.Button(
                    page("running.cancel"),
                    size="sm",
                    variant="stop",
                    scale=0,
                    min_width=90,
                    key=f"cancel-{row['id']}",
                    elem_classes="cancel-job",
                )

                async def cancel(owner: str | None, request: gr.Request, job_id: str = row["id"]) -> None:
                    lang = lang_of(request)
                    record = await studio.cancel(owners.require(owner, settings, request), job_id)
                    record = await page_record(ctx, record, lang)  # a blind member's note names no provider
                    if record.note:
                        gr.Warning(job_text(lang, record, "note"), title=text(lang, "notice.not_cancelled"))
                    elif record.state == "cancelled":
                        gr.Info(text(lang, "notice.cancelled_in_queue"))

                button.click(
                    cancel,
                    inputs_kwargs={"owner": session.owner},
                    show_progress="hidden",
                    key=f"cancel-click-{row['id']}",
                    **PRIVATE,
                )
