"""API keys for this browser session only, each checked with a request that bills nothing.

"Use these keys" asks each provider that can check a key whether it works (WaveSpeedAI: the
balance, shown here; RunComfy: a made-up request id's status) and says so per provider
before anything is generated; a refused key is not kept. "Check keys" asks about the keys
in use now (typed, else the server's). A key typed here goes into gr.State (this session's server memory) as a Secret: never
written to disk, never logged, never put in history or in the browser's storage, and the
password boxes are cleared as soon as it is taken. Keys from the environment or `.env`
are used when none is typed; they are never shown.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from providers.base import Secret
from providers.money import KeyCheck
from providers.registry import ProviderInfo
from ui.i18n import DEFAULT, lang_of, page, text, usd_text
from ui.session import PRIVATE, Context, Session, SessionKeys


@dataclass
class KeysPanel:
    boxes: dict[str, gr.Textbox]  # provider name -> its password box
    save: gr.Button
    forget: gr.Button
    check: gr.Button
    status: gr.HTML


def _env_names(ctx: Context) -> str:
    return ", ".join(f"<code>{html.escape(info.key_env[0])}</code>" for info in ctx.registry.hosted() if info.key_env)


def key_links(providers: Sequence[ProviderInfo]) -> str:
    """Where to get each provider's key, as links that open in a new tab (a Textbox's info
    line is plain text, so a URL there could only be copied), in the page's language."""
    links = [
        f'<a href="{html.escape(info.key_url)}" target="_blank" rel="noopener noreferrer">{html.escape(info.label)}</a>'
        for info in providers
        if info.needs_key and info.key_url
    ]
    # The page's words first: the browser translates a text that starts with them.
    return f'{page("keys.get_keys")} {" · ".join(links)}' if links else ""


KEY_LABELS = {"API key": "keys.api_key", "API token": "keys.api_token"}


def _box(info: ProviderInfo) -> gr.Textbox:
    # One translated word a label (the browser translates one key per text): the provider's
    # name stays as it is.
    kind = KEY_LABELS.get(info.key_label)
    return gr.Textbox(
        type="password",
        label=f"{info.label} {page(kind) if kind else info.key_label}",
        placeholder=page("keys.paste"),
        elem_id=f"key-{info.name}",
    )


def render(ctx: Context) -> KeysPanel:
    # HTML, not Markdown: the page then loads no Markdown code (and its syntax highlighter).
    gr.HTML(page("keys.intro"))
    gr.HTML(f"{page('keys.env_hint')} {_env_names(ctx)}")
    links = key_links(ctx.registry.hosted())
    if links:
        gr.HTML(links, elem_classes="key-links")
    boxes = {info.name: _box(info) for info in ctx.registry.hosted() if info.needs_key}
    with gr.Row():
        save = gr.Button(page("keys.save"), variant="primary", elem_id="keys-save")
        forget = gr.Button(page("keys.forget"), elem_id="keys-forget")
        check = gr.Button(page("keys.check"), elem_id="keys-check")
    status = gr.HTML(status_html(ctx, None), elem_classes="keys-status", elem_id="keys-status")
    return KeysPanel(boxes, save, forget, check, status)


def _verdict(check: KeyCheck | None, show_balance: bool, lang: str) -> tuple[str, str]:
    """(state for the page and tests, words in `lang`) for a key check's result."""
    if check is None:
        return "unchecked", ""
    if check.works is True:
        balance = check.balance_usd
        shown = ""
        if balance is not None and show_balance:
            shown = " · " + text(lang, "keys.balance", usd=usd_text(balance, lang))
        return "works", text(lang, "keys.works") + shown
    if check.works is False:
        return "refused", text(lang, "keys.refused")
    return "unknown", f"? {check.message}"


def status_html(
    ctx: Context,
    keys: SessionKeys | None,
    checks: Mapping[str, KeyCheck] | None = None,
    refused: Mapping[str, KeyCheck] | None = None,
    lang: str = DEFAULT,
) -> str:
    """Where each provider's key comes from and, once checked, whether it works, in `lang`.
    A public demo does not show the owner's balance to visitors."""
    lines = []
    for info in ctx.registry.hosted():
        if not info.needs_key:
            continue
        typed = bool(keys and info.name in keys)
        if refused and info.name in refused:
            where = text(lang, "keys.not_kept")
            state, verdict = _verdict(refused[info.name], True, lang)
        else:
            if typed:
                where = text(lang, "keys.typed")
            elif ctx.settings.key_for(info.name):
                where = text(lang, "keys.from_env")
            else:
                where = text(lang, "keys.none")
            state, verdict = _verdict((checks or {}).get(info.name), typed or not ctx.settings.public, lang)
        detail = f' · <span class="key-verdict">{html.escape(verdict)}</span>' if verdict else ""
        lines.append(
            f'<li data-provider="{info.name}" data-key-state="{state}"><b>{html.escape(info.label)}</b>'
            f'{text(lang, "punct.colon")}'
            f"{html.escape(where)}{detail}</li>"
        )
    return f"<ul>{''.join(lines)}</ul>"


def wire(panel: KeysPanel, ctx: Context, session: Session) -> None:
    names = list(panel.boxes)
    boxes = list(panel.boxes.values())
    cleared = [""] * len(boxes)

    async def save(request: gr.Request, keys: SessionKeys | None, *texts: str) -> list[Any]:
        lang = lang_of(request)
        pasted = {name: Secret(typed or "") for name, typed in zip(names, texts, strict=True)}
        typed = {name: key for name, key in pasted.items() if key}
        if not typed:
            gr.Info(text(lang, "notice.paste_first"))
            return [gr.skip() for _ in range(len(boxes) + 2)]
        checks = {c.provider: c for c in await ctx.studio.check_keys(typed)}
        refused = {name: checks[name] for name in typed if name in checks and checks[name].works is False}
        kept = {name: key for name, key in typed.items() if name not in refused}
        merged = SessionKeys({**dict(keys or {}), **kept})
        if refused:
            labels = text(lang, "notice.and").join(ctx.registry.label(name) for name in refused)
            gr.Warning(
                text(lang, "notice.key_refused", providers=labels), title=text(lang, "notice.key_refused_title")
            )
        else:
            gr.Info(text(lang, "notice.keys_set"))
        shown = {name: check for name, check in checks.items() if name in typed and name not in refused}
        return [*cleared, merged, status_html(ctx, merged, shown, refused, lang)]

    panel.save.click(
        save,
        inputs=[session.keys, *boxes],
        outputs=[*boxes, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    async def check(keys: SessionKeys | None, request: gr.Request) -> str:
        checks = {c.provider: c for c in await ctx.studio.check_keys(keys)}
        return status_html(ctx, keys, checks, lang=lang_of(request))

    panel.check.click(
        check,
        inputs=[session.keys],
        outputs=[panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    def forget(request: gr.Request) -> list[Any]:
        return [*cleared, None, status_html(ctx, None, lang=lang_of(request))]

    panel.forget.click(
        forget,
        outputs=[*boxes, session.keys, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )
