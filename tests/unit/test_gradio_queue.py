"""The idle-queue tweak reaches Gradio's queue (a Gradio upgrade that renames it fails here)."""

import gradio as gr

from ui.layout import IDLE_QUEUE_SLEEP, quiet_idle_queue


def test_the_idle_queue_sleeps_longer_than_gradios_one_millisecond() -> None:
    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    assert demo._queue.sleep_when_free < IDLE_QUEUE_SLEEP
    assert quiet_idle_queue(demo) is True
    assert demo._queue.sleep_when_free == IDLE_QUEUE_SLEEP
