"""One generation form ("Text to video" or "Image to video"): the model picker grouped by
provider, the prompt with its live count, only the options the chosen model takes, the
start image with its preflight report, Generate and Cancel, and the job's live status.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from jobs.records import HistoryQuery, JobRecord
from providers import catalog
from providers.base import Kind, StudioError, ValidationError
from ui import controls, owners, price_line
from ui.format import counter_html, error_html, status_html
from ui.session import PRIVATE, Context, Session, Watch
from ui.theme import COUNTER_JS, RANDOM_SEED_JS


@dataclass
class GeneratePanel:
    kind: Kind
    provider: gr.Radio
    model: gr.Dropdown
    model_info: gr.HTML
    prompt: gr.Textbox
    counter: gr.HTML
    aspect_ratio: gr.Radio
    frames: gr.Radio
    resolution: gr.Radio
    duration: gr.Radio
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

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in controls.OPTION_NAMES}


def render(kind: Kind, ctx: Context) -> GeneratePanel:
    ready = ctx.readiness(None)
    provider = controls.default_provider(ready)
    spec = catalog.get_model(controls.default_model(kind, ready))
    picker = gr.Radio(
        controls.provider_choices(ready), value=provider, label="Provider", elem_id=f"{kind}-provider"
    )
    model = gr.Dropdown(
        controls.model_choices(kind, provider),
        value=spec.id,
        label="Model",
        interactive=True,
        elem_id=f"{kind}-model",
    )
    model_info = gr.HTML(controls.model_info_html(spec, ready(provider)))
    image = preflight = fit = None
    if kind == "i2v":
        with gr.Row(equal_height=False):
            image = gr.Image(
                type="filepath",
                image_mode=None,
                sources=["upload", "clipboard"],
                label="Start image",
                height=220,
                elem_id=f"{kind}-image",
            )
            with gr.Column(min_width=200):
                preflight = gr.HTML(preflight_html(None), elem_id=f"{kind}-preflight")
                fit = gr.Checkbox(
                    False,
                    label="Fit image to the model's limits",
                    info="Scale, crop or convert the image instead of refusing it.",
                    elem_id=f"{kind}-fit",
                )
    placeholder = (
        "Describe the video: subject, action, camera, light… e.g. 'A paper boat drifts down a rainy street, "
        "slow dolly-in, neon reflections'"
        if kind == "t2v"
        else "Describe how the image should move, e.g. 'The camera slowly pushes in as the leaves sway'"
    )
    prompt = gr.Textbox(
        lines=4, max_lines=12, label="Prompt", placeholder=placeholder, elem_id=f"{kind}-prompt"
    )
    counter = gr.HTML(counter_html(0), elem_id=f"{kind}-counter")
    with gr.Row():
        aspect_ratio = gr.Radio(
            **controls.initial_option(spec, "aspect_ratio"), elem_id=f"{kind}-aspect_ratio"
        )
    with gr.Row():
        frames = gr.Radio(**controls.initial_option(spec, "frames"), elem_id=f"{kind}-frames")
        duration = gr.Radio(**controls.initial_option(spec, "duration"), elem_id=f"{kind}-duration")
        resolution = gr.Radio(**controls.initial_option(spec, "resolution"), elem_id=f"{kind}-resolution")
    with gr.Row(equal_height=False, elem_classes="seed-row"):
        seed = gr.Number(
            -1,
            precision=0,
            minimum=catalog.SEED_MIN,
            maximum=catalog.SEED_MAX,
            label="Seed",
            info="-1 picks a random seed; the seed used is saved with the video.",
            scale=3,
            elem_id=f"{kind}-seed",
        )
        with gr.Column(scale=2, min_width=150, elem_classes="seed-buttons"):
            random_seed = gr.Button("⚄ Random seed", size="sm", elem_id=f"{kind}-random-seed")
            last_seed = gr.Button("♻ Reuse last seed", size="sm", elem_id=f"{kind}-last-seed")
    with gr.Row():
        generate = gr.Button("Generate", variant="primary", scale=3, elem_id=f"{kind}-generate")
        cancel = gr.Button("Cancel", variant="secondary", scale=1, elem_id=f"{kind}-cancel")
    price = price_line.render(kind, ctx)
    status = gr.HTML(status_html(None), elem_id=f"{kind}-status")
    return GeneratePanel(
        kind=kind,
        provider=picker,
        model=model,
        model_info=model_info,
        prompt=prompt,
        counter=counter,
        aspect_ratio=aspect_ratio,
        frames=frames,
        resolution=resolution,
        duration=duration,
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


def preflight_html(report: Any | None, fit: bool = False) -> str:
    if report is None:
        rules = catalog.IMAGE_RULES.describe()
        return f'<div class="preflight">Upload a start image: {html.escape(rules)}.</div>'
    if report.ok:
        css = "ok"
    elif report.fixable:
        css = "fixable"
    else:
        css = "bad"
    text = report.summary()
    if report.fixable and fit:
        text = (
            " ".join(issue.message for issue in report.issues)
            + " 'Fit image' is on: the studio will fix this."
        )
    return f'<div class="preflight {css}" data-ok="{str(report.ok).lower()}">{html.escape(text)}</div>'


def fill_from_record(panel: GeneratePanel, record: JobRecord, ctx: Context, keys: Any) -> dict[Any, Any]:
    """Updates that put a past job's settings back into this form ('Reuse settings')."""
    spec = catalog.get_model(record.model)
    ready = ctx.readiness(keys)
    provider_update, model_update = controls.picker_updates(panel.kind, spec.provider, spec.id, ready)
    updates: dict[Any, Any] = {
        panel.provider: provider_update,
        panel.model: model_update,
        panel.model_info: controls.model_info_html(spec, ready(spec.provider)),
        panel.prompt: record.prompt,
        panel.counter: counter_html(len(record.prompt)),
        panel.seed: controls.seed_update(spec, record.seed),
    }
    for name, component in panel.options().items():
        updates[component] = controls.option_update(spec, name, record.options.get(name))
    if panel.image is not None and panel.fit_image is not None:
        updates[panel.image] = record.input_image
        updates[panel.fit_image] = False
    return updates


def _validation(inputs: dict[str, Any], error: ValidationError) -> list[Any]:
    field = error.field if error.field in inputs else "prompt"
    return [gr.validate(name != field, error.message if name == field else "") for name in inputs]


def wire(panel: GeneratePanel, ctx: Context, session: Session) -> None:
    kind = panel.kind
    studio, settings = ctx.studio, ctx.settings

    def on_provider(provider: str, model: str, keys: Any) -> Any:
        return controls.picker_updates(kind, provider, model, ctx.readiness(keys))[1]

    panel.provider.input(
        on_provider,
        inputs_kwargs={"provider": panel.provider, "model": panel.model, "keys": session.keys},
        outputs=[panel.model],
        queue=False,
        **PRIVATE,
    )

    option_inputs = {**panel.options(), "seed": panel.seed}
    model_outputs = [panel.model_info, *panel.options().values(), panel.seed]

    def on_model(model: str, keys: Any, **current: Any) -> list[Any]:
        spec = catalog.get_model(model)
        info = controls.model_info_html(spec, ctx.readiness(keys)(spec.provider))
        options = [controls.option_update(spec, name, current.get(name)) for name in controls.OPTION_NAMES]
        return [info, *options, controls.seed_update(spec, current.get("seed"))]

    panel.model.change(
        on_model,
        inputs_kwargs={"model": panel.model, "keys": session.keys, **option_inputs},
        outputs=model_outputs,
        queue=False,
        **PRIVATE,
    )

    def on_keys(provider: str, model: str, keys: Any) -> tuple[Any, str]:
        ready = ctx.readiness(keys)
        spec = catalog.get_model(model)
        return controls.picker_updates(kind, provider, model, ready)[0], controls.model_info_html(
            spec, ready(spec.provider)
        )

    session.keys.change(
        on_keys,
        inputs_kwargs={"provider": panel.provider, "model": panel.model, "keys": session.keys},
        outputs=[panel.provider, panel.model_info],
        queue=False,
        **PRIVATE,
    )

    panel.prompt.change(None, inputs=[panel.prompt], outputs=[panel.counter], js=COUNTER_JS, **PRIVATE)
    panel.random_seed.click(None, outputs=[panel.seed], js=RANDOM_SEED_JS, **PRIVATE)

    async def reuse_last_seed(owner: str | None) -> Any:
        page = await studio.history(owners.require(owner, settings), HistoryQuery(limit=1))
        if not page.items or page.items[0].seed is None:
            gr.Info("No earlier video yet: the seed of your last job will be offered here.")
            return gr.skip()
        return page.items[0].seed

    panel.last_seed.click(
        reuse_last_seed, inputs_kwargs={"owner": session.owner}, outputs=[panel.seed], **PRIVATE
    )

    if panel.image is not None and panel.preflight is not None and panel.fit_image is not None:

        def on_image(model: str, image: Any, fit_image: bool) -> str:
            try:
                path = controls.uploaded_path(image)
            except ValidationError as error:
                return error_html(error.message)
            if not path:
                return preflight_html(None)
            return preflight_html(studio.preflight(model, path), fit_image)

        image_inputs = {"model": panel.model, "image": panel.image, "fit_image": panel.fit_image}
        for trigger in (panel.image.change, panel.fit_image.change, panel.model.change):
            trigger(
                on_image,
                inputs_kwargs=image_inputs,
                outputs=[panel.preflight],
                preprocess=False,  # see controls.uploaded_path
                **PRIVATE,
            )

    form: dict[str, Any] = {"prompt": panel.prompt, "model": panel.model, **option_inputs}
    if panel.image is not None and panel.fit_image is not None:
        form.update(image=panel.image, fit_image=panel.fit_image)
    state_inputs = {"owner": session.owner, "keys": session.keys, "watch": session.watch}

    def check_form(
        prompt: str, model: str, image: Any = None, fit_image: bool = False, **values: Any
    ) -> list[Any]:
        """Runs before the job is queued: marks the field at fault, names the limit."""
        inputs = {**form, **state_inputs}
        try:
            image = controls.uploaded_path(image)
            request = controls.request_from_form(kind, model, prompt, values, image, fit_image)
            spec = catalog.get_model(request.model)
            catalog.validate_prompt(request.prompt, spec.prompt_max)
            catalog.validate_options(spec, request.options)
            reason = ctx.readiness(values.get("keys"))(spec.provider)
            if reason:
                raise ValidationError("model", f"{spec.provider_label}: {reason}")
            if kind == "i2v":
                if not image:
                    raise ValidationError(
                        "image", f"Image: upload a start image ({catalog.IMAGE_RULES.describe()})."
                    )
                report = studio.preflight(spec.id, image)
                if not report.ok and not (fit_image and report.fixable):
                    raise ValidationError("image", f"Image: {report.summary()}")
        except ValidationError as error:
            return _validation(inputs, error)
        return [gr.validate(True, "") for _ in inputs]

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
        spec = catalog.get_model(model)
        yield _sending(spec), gr.skip()
        try:
            path = controls.uploaded_path(image)
            generation = controls.request_from_form(kind, model, prompt, values, path, fit_image)
            record = await studio.submit(
                owner, generation, keys, quota_key=owners.quota_key(settings, request)
            )
        except StudioError as error:
            gr.Warning(error.message, title="Could not start the video")
            yield error_html(error.message), gr.skip()
            return
        watch.tabs[kind] = record.id
        if record.active:
            watch.seen.add(record.id)
        yield status_html(record, await studio.eta_seconds(record.model)), gr.Timer(active=True)

    panel.generate.click(
        submit,
        inputs_kwargs={**form, **state_inputs},
        outputs=[panel.status, session.timer],
        validator=check_form,
        trigger_mode="multiple",
        show_progress="hidden",
        preprocess=panel.image is None,  # raw image payload: see controls.uploaded_path
        **PRIVATE,
    )

    async def cancel(owner: str | None, watch: Watch) -> Any:
        owner = owners.require(owner, settings)
        job_id = watch.tabs.get(kind)
        record = await studio.get(owner, job_id) if job_id else None
        if record is None or record.terminal:
            gr.Info("No job from this tab is running. Cancel others in the 'Running jobs' list.")
            return gr.skip()
        record = await studio.cancel(owner, record.id)
        if record.note:
            gr.Warning(record.note, title="Not cancelled")
        return status_html(record, await studio.eta_seconds(record.model))

    panel.cancel.click(
        cancel,
        inputs_kwargs={"owner": session.owner, "watch": session.watch},
        outputs=[panel.status],
        show_progress="hidden",
        **PRIVATE,
    )


def _sending(spec: catalog.ModelSpec) -> str:
    return (
        f'<div class="status-card state-submitting" data-state="submitting"><div class="status-head">'
        f"<strong>Sending to {html.escape(spec.provider_label)}…</strong></div>"
        '<div class="progress indeterminate"><div></div></div></div>'
    )
