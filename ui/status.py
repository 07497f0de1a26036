"""Live status: a page follows its owner's active jobs with a timer that runs only while
jobs are active. Each tick re-reads the jobs (the engine, not the page, owns them), redraws
each tab's status (state, queue position, elapsed, ETA), refreshes the running-jobs list,
and when a job finishes shows it in the result panel and refreshes the history.

On page load (ui/page_load.py) the page attaches to the jobs still running and looks at once,
so a refresh or a second browser window picks up where the first left off.
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from jobs.group_blind import is_masked
from jobs.records import JobRecord
from ui.format import elapsed_seconds, status_html
from ui.generate_panel import GeneratePanel
from ui.i18n import DEFAULT, lang_of
from ui.page_records import page_record, page_records
from ui.session import PRIVATE, Context, Session, Watch
from ui.signals import signal_html
from ui.stored_text import job_text


def active_row(record: JobRecord, lang: str = DEFAULT) -> dict[str, Any]:
    """What the running-jobs list shows (its note in `lang`); changes only when the job
    changes state. Give it the record as the page may show it (ui/page_records.py): a member
    of a blind comparison says its cell ('Model B'), not its model."""
    return {
        "id": record.id,
        "kind": record.kind,
        "state": record.state,
        "queue_position": record.queue_position,
        "model": record.model,
        "prompt": record.prompt,
        "created_at": record.created_at,
        "note": job_text(lang, record, "note") or None,
    }


async def look(
    ctx: Context,
    owner: str | None,
    watch: Watch,
    panels: list[GeneratePanel],
    lang: str = DEFAULT,
) -> list[Any]:
    """One look at the owner's jobs, worded in `lang`. Outputs: each panel's status, the
    active rows, the job to show, the history-changed mark, the timer, the done signal
    (ui/signals.py)."""
    studio = ctx.studio
    if not owner:
        return [*(gr.skip() for _ in panels), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False), gr.skip()]
    active = await studio.active_jobs(owner)
    active_ids = {record.id for record in active}
    finished = watch.seen - active_ids
    watch.seen = set(active_ids)

    statuses: list[Any] = []
    watched_active = False
    progress: float | None = None  # the furthest watched job's share done, by its ETA
    now = time.time()
    for panel in panels:
        job_id = watch.tabs.get(panel.kind)
        watched = await studio.get(owner, job_id) if job_id else None
        if watched is None:
            statuses.append(gr.skip())
            continue
        watched_active = watched_active or watched.active
        eta = await studio.eta_seconds(watched.model) if watched.active else None
        if eta:
            share = min(0.97, elapsed_seconds(watched, now) / eta)
            progress = share if progress is None else max(progress, share)
        seen = await page_record(ctx, watched, lang)  # a blind comparison's member names no model
        statuses.append(status_html(seen, eta, now, registry=ctx.registry, lang=lang))

    shown: Any = gr.skip()
    history_changed: Any = gr.skip()
    done: list[JobRecord] = []
    if finished:
        history_changed = now
        done = await page_records(ctx, [r for r in [await studio.get(owner, i) for i in finished] if r], lang)
        succeeded = sorted(  # a hidden member is not popped up in the result panel
            (r for r in done if r.state == "succeeded" and not is_masked(r)), key=lambda r: r.finished_at or 0
        )
        if succeeded:
            shown = succeeded[-1].id
    rows = [active_row(record, lang) for record in await page_records(ctx, active, lang)]
    keep_ticking = bool(active) or watched_active
    signal = signal_html(len(active), progress, [(r.id, r.state) for r in done if r.terminal])
    return [*statuses, rows, shown, history_changed, gr.Timer(active=keep_ticking), signal]


def attach(watch: Watch, active: list[JobRecord]) -> None:
    """A fresh page follows the newest running job of each kind in its tab; the next look
    draws them, and notices any that ended since."""
    for record in active:
        watch.tabs[record.kind] = record.id
    watch.seen = {record.id for record in active}


def outputs(session: Session, panels: list[GeneratePanel], signal: gr.HTML) -> list[Any]:
    return [
        *(panel.status for panel in panels),
        session.active_rows,
        session.shown,
        session.history_changed,
        session.timer,
        signal,
    ]


def wire(
    ctx: Context, session: Session, panels: list[GeneratePanel], signal: gr.HTML, background_look: gr.Button
) -> None:
    """The timer's look, and the same look on `background_look`'s clicks: Gradio's timer does
    not tick while the tab is hidden, so the page's script clicks it there (ui/signals.py)."""
    looked = outputs(session, panels, signal)

    async def tick(owner: str | None, watch: Watch, request: gr.Request) -> list[Any]:
        return await look(ctx, owner, watch, panels, lang_of(request))

    for trigger in (session.timer.tick, background_look.click):
        trigger(
            tick,
            inputs_kwargs={"owner": session.owner, "watch": session.watch},
            outputs=looked,
            show_progress="hidden",
            **PRIVATE,
        )
