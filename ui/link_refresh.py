"""Keeps an open page's media playing past the life of its links.

The page's media links (ui/media_links.py) work for `lifetime` seconds, and Gradio sweeps
its cached copy of a served file once it is that old (build_demo's delete_cache). A page
left open longer would then show a video it can no longer play or seek, and history posters
that 404. So every third of a lifetime the page asks for its links again: the video shown
and the history page shown are re-issued to this viewer (the gate's allowance restarts) and
handed to Gradio again (its cached copy is touched, or copied back). The URLs do not change
(Gradio names a copy by its content), so a video playing is not interrupted.
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from ui import result_panel
from ui.result_panel import ResultPanel
from ui.session import PRIVATE, Context, Session


def interval(ctx: Context) -> float:
    """Seconds between renewals: a third of a link's life, so a renewal missed (a busy
    server, a throttled background tab) still leaves the links working."""
    return max(1.0, ctx.guard.links.lifetime / 3)


def render(ctx: Context) -> gr.Timer:
    return gr.Timer(interval(ctx), active=True)


def wire(timer: gr.Timer, ctx: Context, session: Session, result: ResultPanel) -> None:
    async def renew(owner: str | None, shown: str | None) -> list[Any]:
        if not owner:
            return [gr.skip(), gr.skip(), gr.skip()]
        record = await ctx.studio.get(owner, shown) if shown else None
        video = (
            result_panel.named_video(record, ctx.registry, ctx.guard.links)
            if record is not None and record.state == "succeeded"
            else None
        )
        if video is None:
            return [gr.skip(), gr.skip(), time.time()]
        return [gr.update(value=str(video)), gr.update(value=str(video)), time.time()]

    # history_changed makes the history read its current page again, with fresh links.
    timer.tick(
        renew,
        inputs_kwargs={"owner": session.owner, "shown": session.shown},
        outputs=[result.video, result.download, session.history_changed],
        show_progress="hidden",
        **PRIVATE,
    )
