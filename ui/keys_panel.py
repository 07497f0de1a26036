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

from providers.base import Secret
from providers.registry import ProviderInfo
from ui.session import PRIVATE, Context, Session, SessionKeys


@dataclass
class KeysPanel:
    boxes: dict[str, gr.Textbox]  # provider name -> its password box
    save: gr.Button
    forget: gr.Button
    status: gr.HTML


def _env_names(ctx: Context) -> str:
    return ", ".join(f"`{info.key_env[0]}`" for info in ctx.registry.hosted() if info.key_env)


def _box(info: ProviderInfo) -> gr.Textbox:
    where = f" (get one at {info.key_url})" if info.key_url else ""
    return gr.Textbox(
        type="password",
        label=f"{info.label} {info.key_label}",
        placeholder=f"paste a {info.label} {info.key_label.removeprefix('API ')}",
        info=where.strip(" ()") or None,
        elem_id=f"key-{info.name}",
    )


def render(ctx: Context) -> KeysPanel:
    gr.Markdown(
        "Paste a key to use a provider **in this browser tab only**. It is kept in the server's memory "
        "for this session, never saved to disk or history, and forgotten when you close or reload the "
        "page. To set keys for everyone, put them in the environment or a `.env` file "
        f"({_env_names(ctx)})."
    )
    boxes = {info.name: _box(info) for info in ctx.registry.hosted() if info.needs_key}
    with gr.Row():
        save = gr.Button("Use these keys", variant="primary", elem_id="keys-save")
        forget = gr.Button("Forget typed keys", elem_id="keys-forget")
    status = gr.HTML(status_html(ctx, None), elem_classes="keys-status", elem_id="keys-status")
    return KeysPanel(boxes, save, forget, status)


def status_html(ctx: Context, keys: SessionKeys | None) -> str:
    lines = []
    for info in ctx.registry.hosted():
        if not info.needs_key:
            continue
        if keys and info.name in keys:
            where = "✓ key typed in this session"
        elif ctx.settings.key_for(info.name):
            where = "✓ key from the environment"
        else:
            where = "no key: the simulator stands in"
        lines.append(f"<li><b>{html.escape(info.label)}</b>: {where}</li>")
    return f"<ul>{''.join(lines)}</ul>"


def wire(panel: KeysPanel, ctx: Context, session: Session) -> None:
    names = list(panel.boxes)
    boxes = list(panel.boxes.values())
    cleared = [""] * len(boxes)

    def save(keys: SessionKeys | None, *texts: str) -> list[Any]:
        typed = {name: Secret(text or "") for name, text in zip(names, texts, strict=True)}
        merged = SessionKeys({**dict(keys or {}), **{k: v for k, v in typed.items() if v}})
        if not any(typed.values()):
            gr.Info("Paste a key first.")
            return [gr.skip() for _ in range(len(boxes) + 2)]
        gr.Info("Keys set for this session. Pick the provider in the Text or Image tab.")
        return [*cleared, merged, status_html(ctx, merged)]

    panel.save.click(
        save,
        inputs=[session.keys, *boxes],
        outputs=[*boxes, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    def forget() -> list[Any]:
        return [*cleared, None, status_html(ctx, None)]

    panel.forget.click(
        forget,
        outputs=[*boxes, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )
