"""One generation form ("Text to video" or "Image to video"): the model picker grouped by
provider, the prompt with its live count, only the options the chosen model takes, the
start image with its preflight report, Generate and Cancel, and the job's live status.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.components import Component

from jobs.records import HistoryQuery, JobRecord
from providers.base import Kind, StudioError
from providers.catalog import ModelSpec, ParamSpec
from ui import controls, image_check, owners, price_line, refusals
from ui.format import counter_html, status_html
from ui.i18n import DEFAULT, lang_of, page, text
from ui.page_records import page_record
from ui.session import PRIVATE, Context, Session, Watch
from ui.stored_text import job_text
from ui.theme import COUNTER_JS, RANDOM_SEED_JS


@dataclass
class GeneratePanel:
    kind: Kind
    provider: gr.Radio
    model: gr.Dropdown
    model_info: gr.HTML
    prompt: gr.Textbox
    counter: gr.HTML
    params: dict[str, Component]  # one control per option name (seed aside)
    seed: gr.Number
    random_seed: gr.Button
    last_seed: gr.Button
    generate: gr.Button
    cancel: gr.Button
    status: gr.HTML
    image: gr.Image | None = None
    preflight: gr.HTML | None = None
    fit_image: gr.Checkbox | None = None
    price: gr.HTML | None = None  # ui/price_line.py: this run's price, next to Generate

    def options(self) -> dict[str, Component]:
        return dict(self.params)


def render(kind: Kind, ctx: Context) -> GeneratePanel:
    registry = ctx.registry
    ready = ctx.readiness(None)
    spec = registry.model(controls.default_model(registry, kind, ready))
    provider = spec.provider
    picker = gr.Radio(
        controls.provider_choices(registry, kind, ready),
        value=provider,
        label=page("form.provider"),
        elem_id=f"{kind}-provider",
    )
    model = gr.Dropdown(
        controls.model_choices(registry, kind, provider),
        value=spec.id,
        label=page("form.model"),
        interactive=True,
        elem_id=f"{kind}-model",
    )
    model_info = gr.HTML(controls.model_info_html(registry, spec, ready(provider)))
    image = preflight = fit = None
    if kind == "i2v":
        with gr.Row(equal_height=False):
            image = gr.Image(
                type="filepath",
                image_mode=None,
                sources=["upload", "clipboard"],
                label=page("form.image"),
                height=220,
                elem_id=f"{kind}-image",
            )
            with gr.Column(min_width=200):
                preflight = gr.HTML(image_check.preflight_html(None), elem_id=f"{kind}-preflight")
                fit = gr.Checkbox(
                    False,
                    label=page("form.fit"),
                    info=page("form.fit_info"),
                    elem_id=f"{kind}-fit",
                )
    prompt = gr.Textbox(
        lines=3,
        max_lines=12,
        label=page("form.prompt"),
        placeholder=page(f"form.prompt_placeholder_{kind}"),
        elem_id=f"{kind}-prompt",
    )
    counter = gr.HTML(counter_html(0), elem_id=f"{kind}-counter")
    params = _render_options(kind, ctx, spec)
    with gr.Row(equal_height=False, elem_classes="seed-row"):
        # No minimum/maximum here: Gradio would refuse an out-of-range seed with a bare
        # "Error" toast; the engine's check names the field and the range instead.
        seed = gr.Number(
            -1,
            precision=0,
            label=controls.seed_label(spec.param("seed")),
            scale=3,
            elem_id=f"{kind}-seed",
        )
        with gr.Column(scale=2, min_width=150, elem_classes="seed-buttons"):
            random_seed = gr.Button(page("form.random_seed"), size="sm", elem_id=f"{kind}-random-seed")
            last_seed = gr.Button(page("form.last_seed"), size="sm", elem_id=f"{kind}-last-seed")
    # Generate and the status line stay in view at the foot of the window on a desktop
    # while a long form scrolls behind them (theme.CSS: .generate-dock).
    with gr.Column(elem_classes="generate-dock", elem_id=f"{kind}-dock"):
        with gr.Row(elem_id=f"{kind}-generate-row", elem_classes="generate-row"):
            generate = gr.Button(
                page("form.generate"),
                variant="primary",
                scale=3,
                elem_id=f"{kind}-generate",
                interactive=ready(provider) is None,
                min_width=140,
            )
            # Narrow minimum widths: both fit a 390 px phone side by side.
            cancel = gr.Button(page("form.cancel"), variant="secondary", scale=1, min_width=90, elem_id=f"{kind}-cancel")
        price = price_line.render(kind, ctx)
        idle = f'<div class="status-card idle">{page("status.ready")}</div>'  # status_html(None), any language
        status = gr.HTML(idle, elem_id=f"{kind}-status", elem_classes="status-line")
    return GeneratePanel(
        kind=kind,
        provider=picker,
        model=model,
        model_info=model_info,
        prompt=prompt,
        counter=counter,
        params=params,
        seed=seed,
        random_seed=random_seed,
        last_seed=last_seed,
        generate=generate,
        cancel=cancel,
        status=status,
        image=image,
        preflight=preflight,
        fit_image=fit,
        price=price,
    )


def _render_options(kind: Kind, ctx: Context, spec: ModelSpec) -> dict[str, Component]:
    """A control per option any model of this kind takes, shown for `spec`: wide choices
    (many values) get a row each, the rest share one."""
    found = controls.option_params(ctx.registry, kind)
    wide = [p for p in found.values() if p.control == "choice" and len(p.choices or ()) > 4]
    rest = [p for p in found.values() if p not in wide]
    made: dict[str, Component] = {}
    for param in wide:
        with gr.Row():
            made[param.name] = controls.make_option(param, spec, f"{kind}-{param.name}")
    if rest:
        with gr.Row():
            for param in rest:
                made[param.name] = controls.make_option(
                    param, spec, f"{kind}-{param.name}", **_share_of_row(param)
                )
    return {name: made[name] for name in found}


def _share_of_row(param: ParamSpec) -> dict[str, int]:
    """A shared row's width in proportion to what each control shows: a choice as wide as
    its chips (so '121 frames (≈5 s)' and '241 frames (≈10 s)' sit side by side at 1440 px
    instead of stacking), the row wrapping on a narrow screen."""
    if param.control != "choice":
        return {"scale": 2, "min_width": 160}
    labels = [controls.choice_label(param, c) for c in (param.choices or ())]
    width = sum(8 * len(label) + 44 for label in labels)  # ~8 px a character, the chip's radio and padding
    return {"scale": max(1, round(width / 80)), "min_width": min(width, 360)}


def fill_from_record(
    panel: GeneratePanel, record: JobRecord, ctx: Context, keys: Any, lang: str = DEFAULT
) -> dict[Any, Any]:
    """Updates that put a past job's settings back into this form ('Reuse settings'). The
    model changes here by update, which does not fire the model's `input` listener, so the
    options set here are not reset to the new model's defaults."""
    registry = ctx.registry
    spec = registry.model(record.model)
    ready = ctx.readiness(keys)
    provider_update, model_update = controls.picker_updates(
        registry, panel.kind, spec.provider, spec.id, ready, lang
    )
    updates: dict[Any, Any] = {
        panel.provider: provider_update,
        panel.model: model_update,
        panel.model_info: controls.model_info_html(registry, spec, ready(spec.provider), lang),
        panel.prompt: record.prompt,
        panel.counter: counter_html(len(record.prompt)),
        panel.seed: controls.seed_update(spec, record.seed),
        panel.generate: gr.update(interactive=ready(spec.provider) is None),
    }
    for name, component in panel.options().items():
        updates[component] = controls.option_update(spec, name, record.options.get(name))
    if panel.image is not None and panel.fit_image is not None:
        suffix = Path(record.input_image).suffix if record.input_image else ".png"
        updates[panel.image] = ctx.guard.links.page_file(
            record.owner, record.input_image, f"dreamina-input_{record.id}{suffix}"
        )
        updates[panel.fit_image] = False
    return updates


def wire(panel: GeneratePanel, ctx: Context, session: Session) -> None:
    kind = panel.kind
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry

    option_inputs: dict[str, Block] = {**panel.options(), "seed": panel.seed}
    # Whoever changes the model redraws what depends on it, in the same response: the
    # model's `input` (a person's pick), not `change`, which an update (Reuse settings) also
    # fires and which would reset the options that update just set.
    model_outputs = [panel.model_info, *panel.options().values(), panel.seed, panel.generate, panel.status]

    async def ready_status(
        owner: str | None, watch: Watch, reason: str | None, spec: ModelSpec, lang: str
    ) -> Any:
        """The status line for the chosen model: why Generate is off, or the tab's job."""
        if reason:
            return refusals.refusal(refusals.not_ready(spec, reason), lang)
        job_id = watch.tabs.get(kind)
        record = await studio.get(owner, job_id) if owner and job_id else None
        if record is None:
            return status_html(None, lang=lang)
        eta = await studio.eta_seconds(record.model) if record.active else None
        return status_html(record, eta, registry=registry, lang=lang)

    async def for_model(
        model: str, keys: Any, owner: str | None, watch: Watch, current: dict, lang: str
    ) -> list[Any]:
        spec = registry.model(model)
        reason = ctx.readiness(keys)(spec.provider)
        info = controls.model_info_html(registry, spec, reason, lang)
        options = [controls.option_update(spec, name, current.get(name)) for name in panel.params]
        return [
            info,
            *options,
            controls.seed_update(spec, current.get("seed")),
            gr.update(interactive=reason is None),
            await ready_status(owner, watch, reason, spec, lang),
        ]

    watch_inputs = {"keys": session.keys, "owner": session.owner, "watch": session.watch}

    async def on_provider(
        provider: str, model: str, keys: Any, owner: Any, watch: Watch, request: gr.Request, **current: Any
    ) -> list[Any]:
        lang = lang_of(request)
        model_update = controls.picker_updates(registry, kind, provider, model, ctx.readiness(keys), lang)[1]
        return [model_update, *await for_model(model_update["value"], keys, owner, watch, current, lang)]

    panel.provider.input(
        on_provider,
        inputs_kwargs={"provider": panel.provider, "model": panel.model, **watch_inputs, **option_inputs},
        outputs=[panel.model, *model_outputs],
        show_progress="hidden",
        **PRIVATE,
    )

    async def on_model(
        model: str, keys: Any, owner: Any, watch: Watch, request: gr.Request, **current: Any
    ) -> list[Any]:
        return await for_model(model, keys, owner, watch, current, lang_of(request))

    panel.model.input(
        on_model,
        inputs_kwargs={"model": panel.model, **watch_inputs, **option_inputs},
        outputs=model_outputs,
        show_progress="hidden",
        **PRIVATE,
    )

    async def on_keys(
        provider: str, model: str, keys: Any, owner: Any, watch: Watch, request: gr.Request
    ) -> list[Any]:
        ready = ctx.readiness(keys)
        spec = registry.model(model)
        reason = ready(spec.provider)
        lang = lang_of(request)
        return [
            controls.picker_updates(registry, kind, provider, model, ready, lang)[0],
            controls.model_info_html(registry, spec, reason, lang),
            gr.update(interactive=reason is None),
            await ready_status(owner, watch, reason, spec, lang),
        ]

    session.keys.change(
        on_keys,
        inputs_kwargs={"provider": panel.provider, "model": panel.model, **watch_inputs},
        outputs=[panel.provider, panel.model_info, panel.generate, panel.status],
        show_progress="hidden",
        **PRIVATE,
    )

    panel.prompt.change(None, inputs=[panel.prompt], outputs=[panel.counter], js=COUNTER_JS, **PRIVATE)
    panel.random_seed.click(None, outputs=[panel.seed], js=RANDOM_SEED_JS, **PRIVATE)

    async def reuse_last_seed(owner: str | None, request: gr.Request) -> Any:
        last = await studio.history(owners.require(owner, settings, request), HistoryQuery(limit=1))
        if not last.items or last.items[0].seed is None:
            gr.Info(text(lang_of(request), "notice.no_earlier_seed"))
            return gr.skip()
        return last.items[0].seed

    panel.last_seed.click(
        reuse_last_seed, inputs_kwargs={"owner": session.owner}, outputs=[panel.seed], **PRIVATE
    )

    image_check.wire(
        panel.model, panel.image, panel.preflight, panel.fit_image, studio, session.owner, ctx.guard.links
    )

    form: dict[str, Block] = {"prompt": panel.prompt, "model": panel.model, **option_inputs}
    if panel.image is not None and panel.fit_image is not None:
        form.update(image=panel.image, fit_image=panel.fit_image)
    state_inputs = {"owner": session.owner, "keys": session.keys, "watch": session.watch}

    check = refusals.FormCheck(ctx, kind, [*form, *state_inputs])

    panel.generate.click(
        check.in_status,
        inputs_kwargs={**form, "keys": session.keys, "owner": session.owner},
        outputs=[panel.status],
        show_progress="hidden",
        preprocess=panel.image is None,  # raw image payload: see controls.uploaded_path
        queue=False,
        **PRIVATE,
    )

    async def submit(
        prompt: str,
        model: str,
        owner: str | None,
        keys: Any,
        watch: Watch,
        request: gr.Request,
        image: Any = None,
        fit_image: bool = False,
        **values: Any,
    ) -> Any:
        owner = owners.require(owner, settings, request)
        spec = registry.model(model)
        lang = lang_of(request)
        yield refusals.sending_html(spec, lang), gr.skip()
        try:
            path = controls.uploaded_path(image, refusals.linked_for(ctx, owner))
            generation = controls.request_from_form(registry, kind, model, prompt, values, path, fit_image)
            record = await studio.submit(
                owner, generation, keys, quota_key=owners.quota_key(settings, request)
            )
        except StudioError as error:
            yield refusals.refusal(error, lang), gr.skip()
            return
        watch.tabs[kind] = record.id
        if record.active:
            watch.seen.add(record.id)
        eta = await studio.eta_seconds(record.model)
        yield status_html(record, eta, registry=registry, lang=lang), gr.Timer(active=True)

    panel.generate.click(
        submit,
        inputs_kwargs={**form, **state_inputs},
        outputs=[panel.status, session.timer],
        validator=check.validate,
        trigger_mode="multiple",
        show_progress="hidden",
        preprocess=panel.image is None,  # raw image payload: see controls.uploaded_path
        **PRIVATE,
    )

    async def cancel(owner: str | None, watch: Watch, request: gr.Request) -> Any:
        owner = owners.require(owner, settings, request)
        lang = lang_of(request)
        job_id = watch.tabs.get(kind)
        record = await studio.get(owner, job_id) if job_id else None
        if record is None or record.terminal:
            gr.Info(text(lang, "notice.nothing_to_cancel"))
            return gr.skip()
        record = await studio.cancel(owner, record.id)
        eta = await studio.eta_seconds(record.model)
        record = await page_record(ctx, record, lang)  # a blind comparison's member names no model
        if record.note:
            gr.Warning(job_text(lang, record, "note"), title=text(lang, "notice.not_cancelled"))
        return status_html(record, eta, registry=registry, lang=lang)

    panel.cancel.click(
        cancel,
        inputs_kwargs={"owner": session.owner, "watch": session.watch},
        outputs=[panel.status],
        show_progress="hidden",
        **PRIVATE,
    )
