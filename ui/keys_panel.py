"""API keys for this browser session only.

A key typed here goes into gr.State (this session's server memory) as a Secret: never
written to disk, never logged, never put in history or in the browser's storage, and the
password boxes are cleared as soon as it is taken. Keys from the environment or `.env`
are used when none is typed; they are never shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from providers import catalog
from providers.base import Secret
from ui.session import PRIVATE, Context, Session, SessionKeys

ENV_NAMES = {"runcomfy": "RUNCOMFY_API_TOKEN", "wavespeed": "WAVESPEED_API_KEY"}


@dataclass
class KeysPanel:
    runcomfy: gr.Textbox
    wavespeed: gr.Textbox
    save: gr.Button
    forget: gr.Button
    status: gr.HTML


def render(ctx: Context) -> KeysPanel:
    gr.Markdown(
        "Paste a key to use a provider **in this browser tab only**. It is kept in the server's memory "
        "for this session, never saved to disk or history, and forgotten when you close or reload the "
        "page. To set keys for everyone, put them in the environment or a `.env` file "
        f"(`{ENV_NAMES['runcomfy']}`, `{ENV_NAMES['wavespeed']}`)."
    )
    runcomfy = gr.Textbox(
        type="password",
        label="RunComfy API token",
        placeholder="paste a RunComfy token",
        elem_id="key-runcomfy",
    )
    wavespeed = gr.Textbox(
        type="password",
        label="WaveSpeedAI API key",
        placeholder="paste a WaveSpeedAI key",
        elem_id="key-wavespeed",
    )
    with gr.Row():
        save = gr.Button("Use these keys", variant="primary", elem_id="keys-save")
        forget = gr.Button("Forget typed keys", elem_id="keys-forget")
    status = gr.HTML(status_html(ctx, None), elem_classes="keys-status", elem_id="keys-status")
    return KeysPanel(runcomfy, wavespeed, save, forget, status)


def status_html(ctx: Context, keys: SessionKeys | None) -> str:
    lines = []
    for provider in ENV_NAMES:
        label = catalog.PROVIDER_LABELS[provider]
        if keys and provider in keys:
            where = "✓ key typed in this session"
        elif ctx.settings.key_for(provider):
            where = "✓ key from the environment"
        else:
            where = "no key: the simulator stands in"
        lines.append(f"<li><b>{html.escape(label)}</b>: {where}</li>")
    return f"<ul>{''.join(lines)}</ul>"


def wire(panel: KeysPanel, ctx: Context, session: Session) -> None:
    def save(runcomfy: str, wavespeed: str, keys: SessionKeys | None) -> list[Any]:
        typed = {"runcomfy": Secret(runcomfy or ""), "wavespeed": Secret(wavespeed or "")}
        merged = SessionKeys({**dict(keys or {}), **{k: v for k, v in typed.items() if v}})
        if not any(typed.values()):
            gr.Info("Paste a key first.")
            return [gr.skip(), gr.skip(), gr.skip(), gr.skip()]
        gr.Info("Keys set for this session. Pick the provider in the Text or Image tab.")
        return ["", "", merged, status_html(ctx, merged)]

    panel.save.click(
        save,
        inputs_kwargs={"runcomfy": panel.runcomfy, "wavespeed": panel.wavespeed, "keys": session.keys},
        outputs=[panel.runcomfy, panel.wavespeed, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    def forget() -> list[Any]:
        return ["", "", None, status_html(ctx, None)]

    panel.forget.click(
        forget,
        outputs=[panel.runcomfy, panel.wavespeed, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )
