"""Gradio's floor: a minimal app with the studio's launch settings and one async generator
endpoint shaped like `/text_to_video`, that waits as long as a fake job and returns a
small mp4 (a fresh name per call, hard-linked, so Gradio copies and hashes it as it does
the studio's). What the studio adds to a generation is measured against this.

    STUDIO_FLOOR_VIDEO=sample.mp4 STUDIO_FLOOR_SECONDS=4 GRADIO_SERVER_PORT=7861 python -m bench.floor_app
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr

from ui.gradio_internals import quiet_idle_queue


def build(video: Path, seconds: float, media: Path, visible: bool = False) -> gr.Blocks:
    async def generate(prompt: str, model: str) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
        record: dict[str, Any] = {"id": uuid.uuid4().hex, "state": "queued", "created_at": time.time()}
        yield None, dict(record)  # the studio's first update: the job row exists
        await asyncio.sleep(seconds)
        out = media / f"floor_{record['id']}.mp4"
        os.link(video, out)
        now = time.time()
        record.update(state="succeeded", finished_at=now, saved_at=now)
        yield str(out), record

    with gr.Blocks(title="floor", delete_cache=(600, 3600), analytics_enabled=False) as demo:
        with gr.Column(visible=visible):
            prompt, model = gr.Textbox(label="prompt"), gr.Textbox(label="model")
            video_out, job = gr.File(label="video"), gr.JSON(label="job")
            trigger = gr.Button("text_to_video", variant="primary", elem_id="floor-generate")
        trigger.click(
            generate, [prompt, model], [video_out, job], api_name="text_to_video", concurrency_limit=None
        )
    return demo


def main() -> None:
    video = Path(os.environ["STUDIO_FLOOR_VIDEO"])
    seconds = float(os.environ.get("STUDIO_FLOOR_SECONDS", "4"))
    media = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    demo = build(video, seconds, media, visible=os.environ.get("STUDIO_FLOOR_VISIBLE") == "1")
    demo.queue(default_concurrency_limit=None)
    quiet_idle_queue(demo)
    # The studio's launch settings (ui.layout.launch_options), minus its theme, CSS and gate.
    demo.launch(
        server_name="127.0.0.1",
        max_threads=400,
        ssr_mode=False,
        allowed_paths=[str(media)],
        max_file_size=50 * 1024 * 1024,
        run_history=False,
        show_error=False,
        footer_links=["api"],
    )


if __name__ == "__main__":
    main()
