"""API keys for this browser session only, each checked with a request that bills nothing.

"Use these keys" asks each provider whether the key works (WaveSpeedAI: the balance, shown
here; RunComfy: a made-up request id's status) and says so per provider before anything is
generated; a refused key is not kept. "Check keys" asks about the keys in use now. A key typed here goes into gr.State (this session's server memory) as a Secret: never
written to disk, never logged, never put in history or in the browser's storage, and the
password boxes are cleared as soon as it is taken. Keys from the environment or `.env`
are used when none is typed; they are never shown.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from providers import catalog
from providers.base import Secret
from providers.money import KeyCheck
from ui.session import PRIVATE, Context, Session, SessionKeys

ENV_NAMES = {"runcomfy": "RUNCOMFY_API_TOKEN", "wavespeed": "WAVESPEED_API_KEY"}


@dataclass
class KeysPanel:
    runcomfy: gr.Textbox
    wavespeed: gr.Textbox
    save: gr.Button
    forget: gr.Button
    check: gr.Button
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
        check = gr.Button("Check keys", elem_id="keys-check")
    status = gr.HTML(status_html(ctx, None), elem_classes="keys-status", elem_id="keys-status")
    return KeysPanel(runcomfy, wavespeed, save, forget, check, status)


def _verdict(check: KeyCheck | None, show_balance: bool) -> tuple[str, str]:
    """(css state, words) for a key check's result."""
    if check is None:
        return "unchecked", ""
    if check.works is True:
        balance = check.balance_usd
        shown = f" · balance ${balance:.2f}" if balance is not None and show_balance else ""
        return "works", f"✓ works{shown}"
    if check.works is False:
        return "refused", "✗ refused by the provider"
    return "unknown", f"? {check.message}"


def status_html(
    ctx: Context,
    keys: SessionKeys | None,
    checks: Mapping[str, KeyCheck] | None = None,
    refused: Mapping[str, KeyCheck] | None = None,
) -> str:
    """Where each provider's key comes from and, once checked, whether it works."""
    lines = []
    for provider in ENV_NAMES:
        label = catalog.PROVIDER_LABELS[provider]
        typed = bool(keys and provider in keys)
        if refused and provider in refused:
            where = "the key typed here was not kept"
            state, verdict = _verdict(refused[provider], True)
        else:
            if typed:
                where = "key typed in this session"
            elif ctx.settings.key_for(provider):
                where = "key from the environment"
            else:
                where = "no key: the simulator stands in"
            state, verdict = _verdict((checks or {}).get(provider), typed or not ctx.settings.public)
        detail = f' · <span class="key-verdict">{html.escape(verdict)}</span>' if verdict else ""
        lines.append(
            f'<li data-provider="{provider}" data-key-state="{state}"><b>{html.escape(label)}</b>: '
            f"{html.escape(where)}{detail}</li>"
        )
    return f"<ul>{''.join(lines)}</ul>"


def wire(panel: KeysPanel, ctx: Context, session: Session) -> None:
    async def save(runcomfy: str, wavespeed: str, keys: SessionKeys | None) -> list[Any]:
        typed = {
            name: key
            for name, key in (("runcomfy", Secret(runcomfy or "")), ("wavespeed", Secret(wavespeed or "")))
            if key
        }
        if not typed:
            gr.Info("Paste a key first.")
            return [gr.skip(), gr.skip(), gr.skip(), gr.skip()]
        checks = {c.provider: c for c in await ctx.studio.check_keys(typed)}
        refused = {name: checks[name] for name in typed if name in checks and checks[name].works is False}
        kept = {name: key for name, key in typed.items() if name not in refused}
        merged = SessionKeys({**dict(keys or {}), **kept})
        if refused:
            names = " and ".join(catalog.PROVIDER_LABELS[name] for name in refused)
            gr.Warning(f"{names} refused the key: check it and paste it again.", title="Key refused")
        else:
            gr.Info("Keys set for this session. Pick the provider in the Text or Image tab.")
        shown = {name: check for name, check in checks.items() if name in typed and name not in refused}
        return ["", "", merged, status_html(ctx, merged, shown, refused)]

    panel.save.click(
        save,
        inputs_kwargs={"runcomfy": panel.runcomfy, "wavespeed": panel.wavespeed, "keys": session.keys},
        outputs=[panel.runcomfy, panel.wavespeed, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    async def check(keys: SessionKeys | None) -> str:
        checks = {c.provider: c for c in await ctx.studio.check_keys(keys)}
        return status_html(ctx, keys, checks)

    panel.check.click(
        check,
        inputs_kwargs={"keys": session.keys},
        outputs=[panel.status],
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
