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
from ui.controls import KIND_WORDS
from ui.format import STATE_WORDS, model_name
from ui.session import PRIVATE, Context, Session


def row_html(row: dict[str, Any], registry: Registry) -> str:
    state = STATE_WORDS.get(row["state"], row["state"])
    if row["state"] == "queued" and row.get("queue_position") is not None:
        state += f" · #{row['queue_position']} in queue"
    prompt = row["prompt"] if len(row["prompt"]) <= 80 else row["prompt"][:77] + "…"
    started = time.strftime("%H:%M:%S", time.localtime(row["created_at"]))
    note = f'<div class="sub">{html.escape(row["note"])}</div>' if row.get("note") else ""
    return (
        f'<div class="job-text" data-job="{html.escape(row["id"])}" data-state="{html.escape(row["state"])}">'
        f"<b>{html.escape(state)}</b> · {html.escape(prompt)}"
        f'<div class="sub">{KIND_WORDS.get(row["kind"], row["kind"])} · {html.escape(model_name(row["model"], registry=registry))}'
        f" · started {started}</div>{note}</div>"
    )


def render(ctx: Context, session: Session) -> None:
    """The list, at the current place in the layout."""
    studio, settings = ctx.studio, ctx.settings
    gr.HTML('<div class="section-title">Running jobs</div>')

    @gr.render(inputs=[session.active_rows])
    def running_jobs(rows: list[dict[str, Any]]) -> None:
        if not rows:
            gr.HTML(
                '<div class="empty-state small" id="no-running-jobs">No jobs running. '
                "Start one on the left; you can run several at once.</div>",
                key="no-running-jobs",
            )
            return
        for row in rows:
            with gr.Row(elem_classes="job-row", equal_height=True, key=f"row-{row['id']}"):
                gr.HTML(row_html(row, ctx.registry), key=f"text-{row['id']}")
                button = gr.Button(
                    "Cancel",
                    size="sm",
                    variant="stop",
                    scale=0,
                    min_width=90,
                    key=f"cancel-{row['id']}",
                    elem_classes="cancel-job",
                )

                async def cancel(owner: str | None, job_id: str = row["id"]) -> None:
                    record = await studio.cancel(owners.require(owner, settings), job_id)
                    if record.note:
                        gr.Warning(record.note, title="Not cancelled")
                    elif record.state == "cancelled":
                        gr.Info("Cancelled. Nothing is billed for a job cancelled in the queue.")

                button.click(
                    cancel,
                    inputs_kwargs={"owner": session.owner},
                    show_progress="hidden",
                    key=f"cancel-click-{row['id']}",
                    **PRIVATE,
                )
