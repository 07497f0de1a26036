"""Keeps an open page's media working past the life of its links.

The page's media links (ui/media_links.py) work for `lifetime` seconds (an hour). A page
left open longer would then show a video it can no longer play or seek and history posters
that 404. So every third of a lifetime the page sends the links it shows (the result video
and the history page's posters, as it holds them) and the server issues those names again to
this viewer (only names once issued to it) and keeps the links on disk. Nothing on the page
changes: the URLs are the same, so a video playing is not interrupted.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.history_panel import HistoryPanel
from ui.result_panel import ResultPanel
from ui.session import PRIVATE, Context, Session


def interval(ctx: Context) -> float:
    """Seconds between renewals: a third of a link's life, so a renewal missed (a busy
    server, a throttled background tab) still leaves the links working."""
    return max(1.0, ctx.guard.links.lifetime / 3)


def render(ctx: Context) -> gr.Timer:
    return gr.Timer(interval(ctx), active=True)


def shown_links(video: Any, gallery: Any) -> list[str]:
    """The server paths of the links in the video's and the gallery's raw values (Gradio's
    file data: {"path", "url", ...}; a gallery item holds one under "image")."""
    files = [video] + [item.get("image") if isinstance(item, dict) else None for item in gallery or []]
    return [str(f["path"]) for f in files if isinstance(f, dict) and f.get("path")]


def wire(timer: gr.Timer, ctx: Context, session: Session, result: ResultPanel, history: HistoryPanel) -> None:
    def renew(owner: str | None, video: Any, gallery: Any) -> None:
        if owner:
            ctx.guard.links.renew(owner, shown_links(video, gallery))

    timer.tick(
        renew,
        inputs=[session.owner, result.video, history.gallery],
        outputs=None,
        preprocess=False,  # the values as the page holds them: no file copying or checks
        show_progress="hidden",
        queue=False,
        **PRIVATE,
    )
