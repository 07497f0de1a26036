"""Gradio's floor for a page of N blocks: bench/floor_app.py's form in the first tab, and
enough plain blocks (rows of HTML, Textbox, Radio and Button) in a second tab, not shown,
to make N blocks in all, and one queued load event that sets one State (the least a page
that learns who it acts for can send). bench/page.py loads it in Chromium beside the
studio, so the first load of a page as big as the studio's, and the cost of one load
event, are measured without anything the studio does.

    STUDIO_FLOOR_BLOCKS=330 GRADIO_SERVER_PORT=7862 python -m bench.page_floor
"""

from __future__ import annotations

import os

import gradio as gr

from ui.gradio_internals import quiet_idle_queue


def build(blocks: int) -> gr.Blocks:
    with gr.Blocks(title="floor", analytics_enabled=False) as demo:
        with gr.Tabs():
            with gr.Tab("form"):
                prompt, model = gr.Textbox(label="prompt"), gr.Textbox(label="model")
                out = gr.Textbox(label="video")
                trigger = gr.Button("text_to_video", variant="primary", elem_id="floor-generate")
            with gr.Tab("more"):
                made = len(demo.blocks)
                while made < blocks:
                    with gr.Row():  # a row of four: five blocks
                        gr.HTML("<b>text</b>")
                        gr.Textbox(label="text")
                        gr.Radio(["a", "b", "c"], value="a", label="choice")
                        gr.Button("button")
                    made = len(demo.blocks)
        trigger.click(lambda p, m: p + m, [prompt, model], [out], api_name="text_to_video")
        owner = gr.State(None)
        demo.load(lambda: "owner", outputs=[owner], api_visibility="private")
    return demo


def main() -> None:
    demo = build(int(os.environ.get("STUDIO_FLOOR_BLOCKS", "300")))
    demo.queue(default_concurrency_limit=None)
    quiet_idle_queue(demo)
    demo.launch(server_name="127.0.0.1", max_threads=400, ssr_mode=False, prevent_thread_lock=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
