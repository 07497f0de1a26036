"""The Compare tab's form: one prompt (and image), 2 to 6 models across providers and/or N
takes, one control per option every chosen model shares and the rest per model (from the
models' ParamSpecs, jobs/group_plan.option_plan), one seed for all, blind mode, and the
group's price before Generate."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components import Component

from jobs.group_plan import MAX_MEMBERS, CompareRequest, option_plan
from jobs.groups import GroupQuote
from jobs.limits import Budget
from providers.base import Kind, StudioError
from providers.catalog import ModelSpec
from providers.registry import Registry
from ui import controls
from ui.i18n import DEFAULT, error_text, field_name, name_text, page, text, usd_text
from ui.price_line import budget_words
from ui.session import Context

KIND_CHOICES = [(page("tab.t2v"), "t2v"), (page("tab.i2v"), "i2v")]


@dataclass
class CompareForm:
    kind: gr.Radio
    prompt: gr.Textbox
    image_row: gr.Row
    image: gr.Image
    fit_image: gr.Checkbox
    models: gr.CheckboxGroup
    takes: gr.Slider
    seed: gr.Number
    blind: gr.Checkbox
    shared: dict[str, Component]  # option name -> the one control for every chosen model
    per_model: dict[tuple[str, str], Component]  # (model id, option name) -> its control
    per_model_box: gr.Accordion
    price: gr.HTML
    generate: gr.Button
    status: gr.HTML

    def option_inputs(self) -> list[Component]:
        return [*self.shared.values(), *self.per_model.values()]

    def inputs(self) -> list[Component]:
        """Every input of a comparison, in the order `request` takes them."""
        return [
            self.kind, self.prompt, self.image, self.fit_image, self.models, self.takes, self.seed, self.blind,
            *self.option_inputs(),
        ]


def model_choices(registry: Registry, kind: Kind, lang: str = DEFAULT) -> list[tuple[str, str]]:
    """'RunComfy · Dreamina 3.0 Pro' -> model id, grouped by provider as the registry orders them."""
    return [
        (f"{name_text(lang, spec.provider_label)} · {controls.model_label(spec, lang)}", spec.id)
        for spec in registry.models(kind)
    ]


def per_model_label(spec: ModelSpec, name: str, english: str, lang: str = DEFAULT) -> str:
    """A per-model option's label: 'WaveSpeedAI · Dreamina 3.0 720p: Duration (s)'."""
    option = field_name(lang, name, english)
    colon = text(lang, "punct.colon")
    return f"{name_text(lang, spec.provider_label)} · {controls.model_label(spec, lang)}{colon}{option}"


def default_models(ctx: Context, kind: Kind) -> list[str]:
    """Up to three models whose providers can take a job now, one per provider first."""
    ready = ctx.readiness(None)
    usable = [spec for spec in ctx.registry.models(kind) if ready(spec.provider) is None]
    first = list({spec.provider: spec.id for spec in reversed(usable)}.values())[::-1]
    return first[:3]


def render(
    ctx: Context, kind: Kind = "t2v", chosen: list[str] | None = None, prompt: str = "", takes: int | None = None,
    lang: str = DEFAULT,
) -> CompareForm:
    """The form as it opens: `kind`, the `chosen` models (default: default_models) with their
    options shown, `prompt`, `takes`; the labels joined from several words in `lang`."""
    registry = ctx.registry
    chosen = default_models(ctx, kind) if chosen is None else chosen
    kind_radio = gr.Radio(KIND_CHOICES, value=kind, label=page("compare.kind"), elem_id="compare-kind")
    prompt_box = gr.Textbox(
        prompt,
        label=page("param.prompt"),
        lines=3,
        max_length=800,
        placeholder=page("compare.prompt_placeholder"),
        elem_id="compare-prompt",
    )
    with gr.Row(visible=kind == "i2v") as image_row:
        image = gr.Image(type="filepath", sources=["upload", "clipboard"], label=page("compare.image"), height=200,
                         elem_id="compare-image")
        fit_image = gr.Checkbox(False, label=page("compare.fit"), elem_id="compare-fit")
    models = gr.CheckboxGroup(
        model_choices(registry, kind, lang), value=chosen, label=page("compare.models"), elem_id="compare-models"
    )
    with gr.Row():
        takes_ = takes or (1 if len(chosen) > 1 else 2)
        takes_slider = gr.Slider(1, MAX_MEMBERS, value=takes_, step=1, label=page("compare.takes"),
                                 info=page("compare.takes_info"), elem_id="compare-takes")
        seed = gr.Number(-1, precision=0, label=page("compare.seed"), elem_id="compare-seed")
    plan = option_plan(registry, chosen) if chosen else None
    shared: dict[str, Component] = {}
    names = {p.name: p for spec in registry.models() for p in spec.params if p.name != controls.SEED}
    with gr.Row():
        for name, param in names.items():
            visible = plan is not None and name in plan.shared
            shown = plan.shared[name] if plan is not None and visible else param
            spec = _spec_with(registry, name)
            control = controls.make_option(shown, spec, f"compare-{name}")
            shared[name] = control
            if not visible:
                control.visible = False
    per_model: dict[tuple[str, str], Component] = {}
    with gr.Accordion(page("compare.per_model"), open=False, visible=False) as per_model_box:
        for spec in registry.models():
            for param in spec.params:
                if param.name == controls.SEED:
                    continue
                control = controls.make_option(param, spec, f"compare-{param.name}-{len(per_model)}")
                control.label = per_model_label(spec, param.name, param.label, lang)
                control.visible = plan is not None and spec.id in plan.per_model and param in plan.per_model[spec.id]
                per_model[(spec.id, param.name)] = control
    per_model_box.visible = any(control.visible for control in per_model.values())
    blind = gr.Checkbox(False, label=page("compare.blind"), elem_id="compare-blind")
    price = gr.HTML(elem_id="compare-price")
    generate = gr.Button(page("compare.go"), variant="primary", elem_id="compare-generate")
    status = gr.HTML(elem_id="compare-status")
    form = CompareForm(
        kind_radio, prompt_box, image_row, image, fit_image, models, takes_slider, seed, blind, shared, per_model,
        per_model_box, price, generate, status,
    )
    # Built inside a gr.render (ui/compare_open.py), where Gradio's page infers a control's
    # interactivity from the page's first events, which these are not in: say it.
    for control in form.inputs():
        control.interactive = True
    return form


def _spec_with(registry: Registry, name: str) -> ModelSpec:
    return next(spec for spec in registry.models() if spec.accepts(name))


def request(form: CompareForm, registry: Registry, values: list[Any]) -> CompareRequest:
    """The comparison the form's values (in `form.inputs()` order) ask for. Options are
    taken as the chosen models' plan says: a shared control for every model that takes the
    option, a per-model control for its model alone."""
    kind, prompt, image, fit_image, models, takes, seed, blind, *rest = values
    chosen = [m for m in (models or []) if registry.model_or_none(m) is not None]
    plan = option_plan(registry, chosen) if chosen else None
    shared_values = dict(zip(form.shared, rest[: len(form.shared)], strict=True))
    own_values = dict(zip(form.per_model, rest[len(form.shared) :], strict=True))
    options = {n: v for n, v in shared_values.items() if plan is not None and n in plan.shared}
    per_model: dict[str, dict[str, Any]] = {}
    for (model, name), value in own_values.items():
        if plan is not None and model in plan.per_model and any(p.name == name for p in plan.per_model[model]):
            per_model.setdefault(model, {})[name] = value
    return CompareRequest(
        kind=kind or "t2v",
        prompt=prompt or "",
        models=tuple(models or ()),
        takes=int(takes or 1),
        seed=seed,
        image=image or None,
        fit_image=bool(fit_image),
        options=options,
        per_model=per_model,
        blind=bool(blind),
    )


def option_updates(form: CompareForm, registry: Registry, kind: Kind, models: list[str]) -> dict[Any, Any]:
    """Show the shared controls every chosen model takes (with their common choices) and
    each chosen model's own options; hide the rest."""
    chosen = [m for m in (models or []) if registry.model_or_none(m) is not None]
    plan = option_plan(registry, chosen) if chosen else None
    updates: dict[Any, Any] = {form.image_row: gr.update(visible=kind == "i2v")}
    for name, control in form.shared.items():
        param = plan.shared.get(name) if plan is not None else None
        if param is None:
            updates[control] = gr.update(visible=False)
            continue
        choices = controls.option_choices(param) if param.choices else None  # markers: the page's language
        changes: dict[str, Any] = {"visible": True}
        if choices:
            changes.update(choices=choices, value=param.default)
        updates[control] = gr.update(**changes)
    own = 0
    for (model, name), control in form.per_model.items():
        shown = plan is not None and model in plan.per_model and any(p.name == name for p in plan.per_model[model])
        own += shown
        updates[control] = gr.update(visible=shown)
    updates[form.per_model_box] = gr.update(visible=own > 0)
    return updates


def over_budget(quote: GroupQuote, budget: Budget | None, lang: str = DEFAULT) -> str:
    """Why the limits would refuse this whole group now, or '' (in `lang`)."""
    if budget is None:
        return ""
    if budget.jobs_left is not None and len(quote.members) > budget.jobs_left:
        return text(lang, "compare.over_jobs", count=budget.jobs_left, made=len(quote.members))
    usd = [v for v in (budget.usd_left_person, budget.usd_left_server) if v is not None]
    if usd and quote.total_usd > min(usd) + 1e-9:
        return text(lang, "compare.over_usd", left=usd_text(max(min(usd), 0), lang), usd=usd_text(quote.total_usd, lang))
    return ""


def price_html(
    quote: GroupQuote | None,
    error: StudioError | None,
    registry: Registry,
    budget: Budget | None = None,
    lang: str = DEFAULT,
) -> str:
    """The group's price and each member's, with what is left of the limits; or why the form
    cannot be sent (as it is, or within the limits). In `lang`."""
    if error is not None:
        return f'<div class="compare-price refused" role="alert">{html.escape(error_text(lang, error))}</div>'
    if quote is None:
        return ""
    parts = []
    for member in quote.members:
        spec = registry.model_or_none(member.model)
        name = name_text(lang, spec.label) if spec else member.model
        words = member.words
        if member.usd and member.source == "estimate":
            words = text(lang, "price.estimate_words", usd=usd_text(member.usd, lang))
        elif not member.usd:
            words = text(lang, "compare.free")
        parts.append(f"{html.escape(name)} {html.escape(words)}")
    left_words = budget_words(budget, lang) if budget is not None else ""
    left = f" · {html.escape(left_words)}" if left_words else ""
    over = over_budget(quote, budget, lang)
    warning = f'<div class="compare-error" role="alert">{html.escape(over)}</div>' if over else ""
    total = html.escape(text(lang, "compare.total", count=len(quote.members), usd=usd_text(quote.total_usd, lang)))
    estimate = " " + html.escape(text(lang, "compare.estimate")) if quote.estimated else ""
    return (
        f'<div class="compare-price"><b>{total}</b>'
        f"{estimate}{left}<br><small>{' · '.join(parts)}</small>{warning}</div>"
    )
