"""The page: header and notices, the forms on the left, the result and running jobs on the
right, the history below; then every panel's wiring. `build_demo` is what app.py launches
and what tests build; `launch_options` is how it must be launched."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from jobs.service import Studio
from jobs.settings import Settings
from ui import (
    active_jobs,
    api,
    compare_api,
    compare_tab,
    generate_panel,
    history_panel,
    keys_panel,
    link_refresh,
    mcp_tools,
    owners,
    price_line,
    result_panel,
    spend_panel,
    status,
    theme,
)
from ui import session as session_module
from ui.gate import Guard
from ui.gradio_internals import mcp_tools_only, quiet_idle_queue
from ui.session import PRIVATE, Context, SessionKeys

__all__ = ["build_demo", "launch_options", "quiet_idle_queue"]

TITLE = "Dreamina Studio"
LOGO = (
    '<svg class="logo" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">'
    '<rect x="2" y="4" width="20" height="16" rx="4" fill="var(--color-accent)"/>'
    '<path d="M10 8.5v7l6-3.5z" fill="white"/></svg>'
)


def _either(labels: list[str]) -> str:
    """['A', 'B', 'C'] -> 'A, B or C'."""
    return " or ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else "".join(labels)


def header_html(settings: Settings) -> str:
    login = owners.login_mode(settings)
    who = {"password": "signed-in studio", "huggingface": "Hugging Face sign-in"}.get(login, "")
    if not who:
        who = "public demo" if settings.public else "local studio"
    hosted = [info.label for info in settings.registry.hosted()]
    return (
        '<div id="studio-header">'
        f"<h1>{LOGO}{TITLE}</h1>"
        f'<div class="tagline">Dreamina 3.0 videos through {html.escape(_either(hosted))}. '
        "Unofficial: not affiliated with ByteDance or the providers.</div>"
        f'<span class="pill">{html.escape(who)}</span></div>'
    )


def simulator_banner(ctx: Context, keys: SessionKeys | None) -> Any:
    ready = ctx.readiness(keys)
    hosted = ctx.registry.hosted()
    any_key = any(ready(info.name) is None for info in hosted)
    text = (
        f"<b>Simulator mode:</b> with no {html.escape(_either([i.label for i in hosted]))} key, results "
        "are simulated offline at no cost. Add a key in the <b>API keys</b> tab or <code>.env</code> "
        "for real Dreamina videos."
    )
    return gr.update(value=f'<div class="banner sim" id="sim-banner">{text}</div>', visible=not any_key)


def credits_notice(settings: Settings) -> str:
    count = settings.max_jobs_per_hour
    limit = f" Each visitor can make {count} video{'' if count == 1 else 's'} per hour." if count else ""
    if settings.max_usd_per_person_per_day is not None:
        limit += f" Each visitor can spend ${settings.max_usd_per_person_per_day:.2f} a day."
    return (
        '<div class="banner credits" id="credits-notice"><b>This public demo spends the owner\'s credits.</b> '
        f"Please make only what you need.{limit} Your videos are private to this browser.</div>"
    )


def build_demo(settings: Settings, studio: Studio, guard: Guard) -> gr.Blocks:
    """The whole app. `studio` must be started before the first request; `guard` must be
    the one passed to launch_options (the page issues the media links its gate checks)."""
    ctx = Context(settings, studio, guard)
    serve_media_in_place(settings)
    # Gradio's cache (uploads, export copies) is swept every 10 minutes of files older than
    # an hour: an upload is not kept, and a page renews its media links (ui/link_refresh.py).
    with gr.Blocks(title=TITLE, delete_cache=(600, 3600), analytics_enabled=False) as demo:
        session = session_module.render(settings)
        with gr.Row(equal_height=True):
            gr.HTML(header_html(settings))
            if owners.login_mode(settings) == "huggingface":
                gr.LoginButton(scale=0, min_width=200)
        banner = gr.HTML(**_banner_args(ctx))
        if settings.public and settings.has_server_key:
            gr.HTML(credits_notice(settings))
        # The form, its Generate button and status on the left; the result and the running
        # jobs on the right, kept in view while the form scrolls (theme.CSS: #studio-side);
        # the history below both. On a phone they follow each other in that order.
        with gr.Row(equal_height=False, elem_id="studio-main"):
            with gr.Column(scale=6, min_width=300), gr.Tabs(selected="t2v", elem_id="studio-tabs") as tabs:
                with gr.Tab("Text to video", id="t2v", elem_id="tab-t2v"):
                    t2v = generate_panel.render("t2v", ctx)
                    compare_with = {"t2v": compare_tab.compare_with_button("t2v")}
                with gr.Tab("Image to video", id="i2v", elem_id="tab-i2v"):
                    i2v = generate_panel.render("i2v", ctx)
                    compare_with["i2v"] = compare_tab.compare_with_button("i2v")
                with gr.Tab("Compare", id="compare", elem_id="tab-compare"):
                    compare = compare_tab.render(ctx)
                with gr.Tab("API keys", id="keys", elem_id="tab-keys"):
                    keys = keys_panel.render(ctx)
                with gr.Tab("Spend", id="spend", elem_id="tab-spend"):
                    spend = spend_panel.render(ctx.registry)
            with gr.Column(scale=5, min_width=300, elem_id="studio-side"):
                result = result_panel.render()
                active_jobs.render(ctx, session)
        with gr.Column(elem_id="studio-history"):
            history = history_panel.render(ctx.registry)
        api.render_and_wire(ctx)
        compare_api.render_and_wire(ctx)
        renewal = link_refresh.render(ctx)
        if settings.mcp:
            mcp_tools.render(ctx)

        forms = {"t2v": t2v, "i2v": i2v}
        for form in forms.values():
            generate_panel.wire(form, ctx, session)
            if form.price is not None:
                price_line.wire(form, form.price, ctx, session)
        keys_panel.wire(keys, ctx, session)
        spend_panel.wire(spend, ctx, session)
        result_panel.wire(result, ctx, session, forms, tabs)
        link_refresh.wire(renewal, ctx, session, result, history)
        history_panel.wire(history, ctx, session)
        compare_tab.wire(compare, ctx, session, forms, tabs, compare_with)
        status.wire(ctx, session, list(forms.values()))
        status.wire_load(demo, ctx, session, list(forms.values()))
        session.keys.change(
            lambda keys: simulator_banner(ctx, keys),
            inputs=[session.keys],
            outputs=[banner],
            queue=False,
            **PRIVATE,
        )
    return demo


def serve_media_in_place(settings: Settings) -> None:
    """Let Gradio serve the media folders' files where they are (public `gr.set_static_paths`)
    instead of copying and hashing each served video into its cache on the event loop (tens
    of ms for tens of MB). Access is unchanged: the served names are links issued per viewer
    (ui/media_links.py), and the gate refuses requests into the folders themselves."""
    for folder in settings.media_dirs:
        folder.mkdir(parents=True, exist_ok=True)
        if not gr.utils.is_static_file(str(folder)):  # Gradio's list only grows
            gr.set_static_paths([folder])


def _banner_args(ctx: Context) -> dict[str, Any]:
    update = simulator_banner(ctx, None)
    return {"value": update["value"], "visible": update["visible"]}


def launch_options(settings: Settings, guard: Guard) -> dict[str, Any]:
    """How the demo must be launched (see docs/architecture.md and DESIGN.md), with the
    same `guard` as build_demo."""
    options: dict[str, Any] = {
        "server_name": settings.server_name,
        "server_port": settings.server_port,
        # Gradio runs at most max_threads events at once (default 40) whatever their
        # concurrency_limit, and a generate call holds one for its job's whole life; the
        # handlers that wait are async, so this is not a thread count in practice.
        "max_threads": 400,
        "ssr_mode": False,
        # Gradio copies a returned file into its cache only from here; the gate (ui/gate.py)
        # refuses direct requests into these folders and serves each copy only to its owner.
        "allowed_paths": [str(path) for path in settings.media_dirs],
        "max_file_size": settings.max_upload_bytes,
        "app_kwargs": {"middleware": [guard.middleware()]},
        "run_history": False,  # the keys tab has secret fields: keep inputs out of the browser
        "show_error": False,
        "theme": theme.theme(),
        "css": theme.CSS,
        "js": theme.SHORTCUTS_JS,
        "footer_links": ["api"],
        # The MCP server (STUDIO_MCP=0: off) offers agents only ui/mcp_tools.py's tools.
        "mcp_server": settings.mcp,
    }
    if settings.mcp:
        options["app_kwargs"]["lifespan"] = mcp_tools_only(mcp_tools.TOOLS)
    if settings.auth:
        options["auth"] = list(settings.auth)
        options["auth_message"] = f"Sign in to {TITLE}."
    return options
