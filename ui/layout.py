"""The page: header and notices, the forms on the left, the result and running jobs on the
right, the history below; then every panel's wiring. `build_demo` is what app.py launches
and what tests build; `launch_options` is how it must be launched."""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from typing import Any

import gradio as gr

from jobs.service import Studio
from jobs.settings import Settings
from ui import (
    active_jobs,
    api,
    compare_api,
    compare_open,
    compress_off_loop,
    controls,
    frontend_assets,
    generate_panel,
    history_panel,
    image_check,
    keys_panel,
    link_refresh,
    mcp_tools,
    owners,
    page_cache,
    page_load,
    price_line,
    result_panel,
    signals,
    spend_panel,
    status,
    theme,
)
from ui import session as session_module
from ui.gate import Guard
from ui.gradio_internals import frontend_code, mcp_tools_only, page_without, quiet_idle_queue
from ui.i18n import (
    DEFAULT,
    LANG_COOKIE_JS,
    LANG_COOKIE_RESET_HEAD,
    gradio_i18n,
    lang_of,
    page,
    text,
    usd_text,
)
from ui.session import PRIVATE, Context, SessionKeys

__all__ = ["build_demo", "launch_options", "quiet_idle_queue"]

TITLE = "Dreamina Studio"
LOGO = (
    '<svg class="logo" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">'
    '<rect x="2" y="4" width="20" height="16" rx="4" fill="var(--color-accent)"/>'
    '<path d="M10 8.5v7l6-3.5z" fill="white"/></svg>'
)


def _either(labels: list[str], lang: str) -> str:
    """['A', 'B', 'C'] -> 'A, B or C' (the 'or' in `lang`)."""
    if len(labels) < 2:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {text(lang, 'header.or')} {labels[-1]}"


def _around(lang: str, key: str, value: str, count: int | None = None) -> str:
    """`key`_before, `value`, `key`_after: a sentence around a value, in `lang` (`count`
    picks the singular where the language has one)."""
    after = text(lang, f"{key}_after", count=count) if count is not None else text(lang, f"{key}_after")
    joint = "" if after[:1] in ".,;:!?。，、：" or lang in ("zh", "ja") else " "
    start = text(lang, f"{key}_before")
    return f"{start}{'' if lang in ('zh', 'ja') else ' '}{value}{joint}{after}"


def header_html(settings: Settings, lang: str = DEFAULT) -> str:
    """The title, what the studio is and which kind of studio this is, in `lang`."""
    login = owners.login_mode(settings)
    who = {"password": "header.password", "huggingface": "header.huggingface"}.get(login, "")
    if not who:
        who = "header.public" if settings.public else "header.local"
    hosted = _either([info.label for info in settings.registry.hosted()], lang)
    return (
        '<div id="studio-header">'
        f"<h1>{LOGO}{TITLE}</h1>"
        f'<div class="tagline">{html.escape(_around(lang, "header.tagline", hosted))}</div>'
        f'<span class="pill">{html.escape(text(lang, who))}</span></div>'
    )


def simulator_banner(ctx: Context, keys: SessionKeys | None, lang: str = DEFAULT) -> Any:
    ready = ctx.readiness(keys)
    hosted = ctx.registry.hosted()
    any_key = any(ready(info.name) is None for info in hosted)
    words = _around(lang, "banner.sim", _either([i.label for i in hosted], lang))
    body = f"<b>{html.escape(text(lang, 'banner.sim_title'))}</b> {html.escape(words)}"
    return gr.update(value=f'<div class="banner sim" id="sim-banner">{body}</div>', visible=not any_key)


def credits_notice(settings: Settings, lang: str = DEFAULT) -> str:
    count = settings.max_jobs_per_hour
    parts = [text(lang, "credits.please")]
    if count:
        parts.append(_around(lang, "credits.jobs", str(count), count))
    if settings.max_usd_per_person_per_day is not None:
        parts.append(_around(lang, "credits.usd", usd_text(settings.max_usd_per_person_per_day, lang)))
    parts.append(text(lang, "credits.private"))
    joint = "" if lang in ("zh", "ja") else " "
    return (
        f'<div class="banner credits" id="credits-notice"><b>{html.escape(text(lang, "credits.title"))}</b>'
        f"{joint}{html.escape(joint.join(parts))}</div>"
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
            header = gr.HTML(header_html(settings))
            if owners.login_mode(settings) == "huggingface":
                gr.LoginButton(scale=0, min_width=200)
        banner = gr.HTML(**_banner_args(ctx))
        credits = gr.HTML(credits_notice(settings)) if settings.public and settings.has_server_key else None
        # The form, its Generate button and status on the left; the result and the running
        # jobs on the right, kept in view while the form scrolls (theme.CSS: #studio-side);
        # the history below both. On a phone they follow each other in that order.
        with gr.Row(equal_height=False, elem_id="studio-main"):
            with gr.Column(scale=6, min_width=300), gr.Tabs(selected="t2v", elem_id="studio-tabs") as tabs:
                with gr.Tab(page("tab.t2v"), id="t2v", elem_id="tab-t2v"):
                    t2v = generate_panel.render("t2v", ctx)
                    compare_with = {"t2v": compare_open.compare_with_button("t2v")}
                with gr.Tab(page("tab.i2v"), id="i2v", elem_id="tab-i2v"):
                    i2v = generate_panel.render("i2v", ctx)
                    compare_with["i2v"] = compare_open.compare_with_button("i2v")
                with gr.Tab(page("tab.compare"), id="compare", elem_id="tab-compare") as compare_item:
                    compare = compare_open.render(ctx, session, compare_item)  # built when first opened
                with gr.Tab(page("tab.keys"), id="keys", elem_id="tab-keys"):
                    keys = keys_panel.render(ctx)
                with gr.Tab(page("tab.spend"), id="spend", elem_id="tab-spend") as spend_tab:
                    spend = spend_panel.render(ctx.registry)
            with gr.Column(scale=5, min_width=300, elem_id="studio-side"):
                result = result_panel.render()
                active_jobs.render(ctx, session)
                signal_controls = gr.HTML(signals.controls_html(), padding=False, elem_id="done-signals-holder")
                gr.HTML(signals.audio_html(), padding=False, elem_classes="studio-signal")
                signal = gr.HTML(signals.signal_html(0, None, []), elem_classes="studio-signal")
                background_look = signals.render_background_look()
                language = page_load.render_language_button()
        # Shown by the page's load (ui/page_load.py): it waits for the owner anyway, and its
        # gallery brings the video player's code (half a megabyte of script) the browser
        # then loads after the form is ready instead of before.
        with gr.Column(elem_id="studio-history", visible=False) as history_column:
            history = history_panel.render(ctx.registry)
        # gr.api makes a block for each parameter and answer of a named endpoint (82 here),
        # which only /config and /info need: the page's own config leaves their column out
        # (the page's script set up every one, shown or not: about 60 ms of a first load).
        with gr.Column(visible=False, elem_id="studio-api-blocks") as api_blocks:
            api.render_and_wire(ctx, demo)
            compare_api.render_and_wire(ctx, demo)
            if settings.mcp:
                mcp_tools.render(ctx)
        page_without(demo, api_blocks)
        renewal = link_refresh.render(ctx)

        forms = {"t2v": t2v, "i2v": i2v}
        for form in forms.values():
            generate_panel.wire(form, ctx, session)
        keys_panel.wire(keys, ctx, session)
        spend_panel.wire(spend, ctx, session, spend_tab.select)
        result_panel.wire(result, ctx, session, forms, tabs)
        link_refresh.wire(renewal, ctx, session, result, history)
        fill_history = history_panel.wire(history, ctx, session)
        compare_open.wire(compare, ctx, forms, tabs, compare_with, history.open_group)
        status.wire(ctx, session, list(forms.values()), signal, background_look)

        def on_keys(keys: SessionKeys | None, request: gr.Request) -> Any:
            return simulator_banner(ctx, keys, lang_of(request))

        session.keys.change(
            on_keys,
            inputs=[session.keys],
            outputs=[banner],
            queue=False,
            **PRIVATE,
        )
        redraw = _redraw(ctx, header, banner, credits, list(forms.values()))
        redraw += [
            (signal_controls, signals.controls_html),
            (keys.status, lambda lang: keys_panel.status_html(ctx, None, lang=lang)),
            (result.empty, result_panel.empty_html),
            *((form.preflight, lambda lang: image_check.preflight_html(None, lang=lang)) for form in forms.values() if form.preflight),
            (history.model, lambda lang: gr.update(choices=history_panel.model_filter_choices(ctx.registry, None, lang))),
        ]
        if not price_line.owner_dependent(ctx.settings):
            # Otherwise the line is asked again after the load, in the page's language.
            redraw += [
                (form.price, partial(price_line.initial_html, form.kind, ctx))
                for form in forms.values()
                if form.price is not None
            ]
        loaded = page_load.wire(
            demo, ctx, session, list(forms.values()), [history_column], language, redraw, history, fill_history
        )
        for form in forms.values():
            if form.price is not None:
                price_line.wire(form, form.price, ctx, session, after_load=loaded)
    return demo


def _redraw(ctx: Context, header: gr.HTML, banner: gr.HTML, credits: gr.HTML | None, forms: list[Any]) -> list:
    """What a page not in English asks for in its language (ui/page_load.py): the header
    and banners, each form's model picker and model notes."""
    settings, registry = ctx.settings, ctx.registry
    ready = ctx.readiness(None)
    redraw: list[tuple[Any, Callable[[str], Any]]] = [
        (header, lambda lang: header_html(settings, lang)),
        (banner, lambda lang: simulator_banner(ctx, None, lang)),
    ]
    if credits is not None:
        redraw.append((credits, lambda lang: credits_notice(settings, lang)))
    for form in forms:
        spec = registry.model(controls.default_model(registry, form.kind, ready))
        redraw.append((form.model, _picker_in(ctx, form.kind, spec.provider)))
        redraw.append((form.model_info, partial(controls.model_info_html, registry, spec, ready(spec.provider))))
    return redraw


def _picker_in(ctx: Context, kind: str, provider: str) -> Callable[[str], Any]:
    """The model picker's choices in a language."""
    return lambda lang: gr.update(choices=controls.model_choices(ctx.registry, kind, provider, lang))  # type: ignore[arg-type]


def serve_media_in_place(settings: Settings) -> None:
    """Let Gradio serve the media folders' files where they are (public `gr.set_static_paths`)
    instead of copying and hashing each served video into its cache on the event loop (tens
    of ms for tens of MB). Access is unchanged: the served names are links issued per viewer
    (ui/media_links.py), and the gate refuses requests into the folders themselves."""
    # Gradio checks every file it sends against these folders in the order given, resolving
    # both paths each time, on its event loop (gradio.utils.is_static_file): the posters come
    # first, as a history page sends 12 of them where a result sends one video.
    for folder in sorted(settings.media_dirs, key=lambda folder: folder != settings.posters_dir):
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
        # The page's HTML and config compressed on a worker thread (Gradio sends them as they
        # are), outside the gate, which adds its script to the uncompressed login page; then the
        # gate; then the page kept; then Gradio's frontend code from memory, compressed once
        # (Gradio compresses it again for every request, on its event loop).
        "app_kwargs": {
            "middleware": [
                compress_off_loop.middleware(skip_prefix=frontend_code()[1]),
                guard.middleware(),
                # The page and its config as Gradio last built them, unless they carry the
                # signed-in user's name (ui/page_cache.py)
                *([] if settings.auth else [page_cache.middleware()]),
                frontend_assets.middleware(*frontend_code()),
            ]
        },
        "run_history": False,  # the keys tab has secret fields: keep inputs out of the browser
        "show_error": False,
        "theme": theme.theme(),
        "css": theme.CSS + signals.CSS,
        "js": theme.page_js(LANG_COOKIE_JS, signals.SIGNALS_JS, page_load.LANGUAGE_JS),
        "i18n": gradio_i18n(),
        "head": LANG_COOKIE_RESET_HEAD,
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
