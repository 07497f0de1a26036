"""Every use of Gradio internals, in one place, each with the reason no public feature
does. tests/unit/test_gradio_internals.py fails when a Gradio upgrade breaks one (and on
any version other than the one checked, so an upgrade is reviewed here first).

- quiet_idle_queue: the queue's idle polling interval (no public setting).
- upload_folder: where Gradio saves uploads, to accept an unprocessed upload only from
  there (the image events skip preprocessing on purpose; see ui/controls.uploaded_path).
- oauth_user_name: the Hugging Face sign-in's user name, read from the session Gradio's
  OAuth routes fill (gr.OAuthProfile is only injected as a handler parameter).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

CHECKED_VERSION = "6.31"  # the Gradio these internals were read from

IDLE_QUEUE_SLEEP = 0.05  # seconds: the value Gradio itself uses on Windows
IDLE_PROGRESS_SLEEP = 0.2


def quiet_idle_queue(demo: gr.Blocks) -> bool:
    """Let Gradio's queue check for work every 50 ms instead of every 1 ms when idle.

    Gradio 6.31 polls its queue (and its progress updates) in busy little sleeps, which
    costs about 3% of a core on a machine doing nothing; at 50 ms an event starts at most
    50 ms later (jobs take seconds to minutes). These are private attributes: when a
    Gradio upgrade renames them this does nothing and returns False.
    """
    queue = getattr(demo, "_queue", None)
    if queue is None or not hasattr(queue, "sleep_when_free"):
        return False
    queue.sleep_when_free = IDLE_QUEUE_SLEEP
    if hasattr(queue, "progress_update_sleep_when_free"):
        queue.progress_update_sleep_when_free = IDLE_PROGRESS_SLEEP
    return True


def upload_folder() -> Path:
    """The folder Gradio saves browser uploads in (GRADIO_TEMP_DIR, or the temp dir's gradio/)."""
    return Path(get_upload_folder()).resolve()


def oauth_user_name(request: gr.Request) -> str | None:
    """The signed-in Hugging Face user's name, or None (no OAuth routes, not signed in)."""
    try:
        session = request.session  # only present when Gradio installed its OAuth routes
    except (AttributeError, AssertionError):
        return None
    info = session.get("oauth_info") if isinstance(session, Mapping) or hasattr(session, "get") else None
    userinfo = (info or {}).get("userinfo") or {}
    name = userinfo.get("preferred_username")
    return str(name) if name else None
