"""The form's controls, built from the registry: which provider and model to offer, which
options a model takes (one control per ParamSpec name), and how form values become a
GenerationRequest.

Every control is derived from a ModelSpec; nothing here knows a provider or model by name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components import Component

from jobs import rules
from jobs.records import GenerationRequest
from providers.base import Kind, ValidationError
from providers.catalog import ModelSpec, ParamSpec
from providers.registry import Registry
from ui import gradio_internals
from ui.format import choice_label
from ui.i18n import DEFAULT, has, name_text, page, page_name, page_or, text, usd_text

KIND_WORDS: dict[str, str] = {"t2v": "Text to video", "i2v": "Image to video"}
SEED = "seed"  # the studio's own option: its row has the random and reuse buttons

Readiness = Callable[[str], "str | None"]


def default_provider(registry: Registry, ready: Readiness) -> str:
    """The first hosted provider with a key; else the first offline one."""
    for info in registry.hosted():
        if ready(info.name) is None:
            return info.name
    offline = [info.name for info in registry if info.offline]
    return offline[0] if offline else registry.names()[0]


def default_model(registry: Registry, kind: Kind, ready: Readiness) -> str:
    provider = default_provider(registry, ready)
    choices = registry.models(kind, provider) or registry.models(kind)
    return choices[0].id


def short_reason(reason: str | None) -> str:
    """A provider choice's few words on why it cannot take a job ('no key'); the model's
    notice below the picker gives the whole reason."""
    if not reason:
        return ""
    return str(page("provider.no_key" if reason.lower().startswith("needs") else "provider.unavailable"))


def provider_label(label: str) -> str:
    """A provider's name as the page shows it ('Simulator (offline)' is translated)."""
    return page_name(label)


def reason_text(reason: str, lang: str) -> str:
    """Why a provider cannot take a job, in `lang` (the engine's 'Needs KEY…' is
    translated; any other reason is shown as the engine said it)."""
    match = re.fullmatch(r"Needs (\S+) in the environment or a key in the API keys tab\.", reason)
    return text(lang, "reason.needs_key", env=match.group(1)) if match else reason


def provider_choices(registry: Registry, kind: Kind, ready: Readiness) -> list[tuple[str, str]]:
    """Every provider with a model of this kind, saying what it needs when it has no key."""
    choices = []
    for info in registry:
        if not registry.models(kind, info.name):
            continue
        reason = ready(info.name)
        label = provider_label(info.label)
        choices.append((f"{label} · {short_reason(reason)}" if reason else label, info.name))
    return choices


def model_label(spec: ModelSpec, lang: str = DEFAULT) -> str:
    """A model as the picker lists it, in `lang` (the page redraws the pickers on load in
    the page's language: a label joins several translated words)."""
    label = name_text(lang, spec.label)
    if spec.price_usd:
        label += f" · {usd_text(spec.price_usd, lang)}{text(lang, 'model.per_run')}"
    if not spec.verified:
        label += f" · {text(lang, 'model.unverified')}"
    return label


def model_choices(registry: Registry, kind: Kind, provider: str, lang: str = DEFAULT) -> list[tuple[str, str]]:
    return [(model_label(m, lang), m.id) for m in registry.models(kind, provider)]


def picker_updates(
    registry: Registry, kind: Kind, provider: str, model: str | None, ready: Readiness, lang: str = DEFAULT
) -> tuple[Any, Any]:
    """(provider radio, model dropdown): keep `model` when it belongs to `provider`."""
    choices = model_choices(registry, kind, provider, lang)
    ids = [value for _, value in choices]
    chosen = model if model in ids else (ids[0] if ids else None)
    return (
        gr.update(choices=provider_choices(registry, kind, ready), value=provider),
        gr.update(choices=choices, value=chosen),
    )


def price_text(spec: ModelSpec, lang: str = DEFAULT) -> str:
    if spec.price_usd == 0:
        return text(lang, "info.free")
    if spec.price_usd:
        return f"{usd_text(spec.price_usd, lang)} {text(lang, 'info.per_run')}"
    return text(lang, "info.no_price")


def model_info_html(registry: Registry, spec: ModelSpec, reason: str | None, lang: str = DEFAULT) -> str:
    """What a person should know about the chosen model, under the picker, in `lang`."""
    offline = registry.info(spec.provider).offline
    facts = [f"<b>{html.escape(name_text(lang, spec.provider_label))}</b>", html.escape(price_text(spec, lang))]
    if spec.fixed_resolution:
        facts.append(f"{html.escape(spec.fixed_resolution)} {html.escape(text(lang, 'info.output'))}")
    if spec.fixed_seconds:
        facts.append(f"{spec.fixed_seconds:g} {html.escape(text(lang, 'info.clips'))}")
    if offline:
        facts.append(html.escape(text(lang, "info.offline")))
    lines = [f'<div class="model-facts">{" · ".join(facts)}</div>']
    if reason:
        words = f"{reason_text(reason, lang)} {text(lang, 'info.until_then')}"
        lines.append(f'<div class="notice warn">{html.escape(words)}</div>')
    if not spec.verified:
        # The model's own note says what is unverified, when it has one: say it once.
        why = spec.notes or text(lang, "info.unverified_default")
        lines.append(f'<div class="notice">{html.escape(text(lang, "info.unverified"))} {html.escape(why)}</div>')
    elif spec.notes and not offline:
        lines.append(f'<div class="model-notes">{html.escape(spec.notes)}</div>')
    return "".join(lines)


# --- option controls, generated from the models' ParamSpecs -----------------------------


def option_params(registry: Registry, kind: Kind) -> dict[str, ParamSpec]:
    """One ParamSpec per option name any model of this kind takes (the first model's), in
    the order they first appear among all models (so both tabs and both API endpoints list
    shared options alike); the seed is left out (it has its own row)."""
    found: dict[str, ParamSpec] = {}
    for spec in registry.models():
        for param in spec.params:
            if param.name != SEED and param.name not in found:
                found[param.name] = param
    taken = {p.name for spec in registry.models(kind) for p in spec.params}
    return {name: param for name, param in found.items() if name in taken}


def _param_label(param: ParamSpec) -> str:
    if param.verified:
        return page_or(f"param.{param.name}", param.label)
    if has(f"param.{param.name}.unverified") and text(DEFAULT, f"param.{param.name}") == param.label:
        return str(page(f"param.{param.name}.unverified"))
    return f"{param.label} (unverified)"


def _info(param: ParamSpec) -> str | None:
    # Labelled choices (frames carry their seconds) say it already.
    return None if param.choice_labels or not param.help else page_or(f"help.{param.name}", param.help)


def option_choices(param: ParamSpec) -> list[tuple[str, Any]]:
    """A choice option's (label, value) pairs, each label a page marker where the catalogue has it."""
    return [(page_or(f"choice.{param.name}.{c}", choice_label(param, c)), c) for c in (param.choices or ())]


def make_option(param: ParamSpec, spec: ModelSpec, elem_id: str, **layout: int) -> Component:
    """The form control for an option, as `spec` (the model shown first) shows it: a radio
    for a choice, a checkbox for on/off, a number field, or a text box. `layout`: its
    `scale` and `min_width` in a row."""
    own = spec.param(param.name)
    shown = own or param
    common: dict[str, Any] = {
        "visible": own is not None,
        "label": _param_label(shown),
        "info": _info(shown),
        "elem_id": elem_id,
        **layout,
    }
    if param.control == "choice":
        return gr.Radio(choices=option_choices(shown), value=shown.default if own else None, **common)
    if param.control == "boolean":
        return gr.Checkbox(value=bool(shown.default), **common)
    if param.control == "integer":
        return gr.Number(
            value=int(shown.default), precision=0, minimum=shown.minimum, maximum=shown.maximum, **common
        )
    return gr.Textbox(value=str(shown.default or ""), max_length=shown.maximum, **common)


def option_update(spec: ModelSpec, name: str, current: Any) -> Any:
    """A control's update for `spec`: hidden when the model does not take it; otherwise its
    choices or limits, with the current value kept when still allowed."""
    param = spec.param(name)
    if param is None:
        return gr.update(visible=False, value=None)
    update: dict[str, Any] = {"visible": True, "label": _param_label(param), "info": _info(param)}
    if param.control == "choice":
        choices = option_choices(param)
        values = [c for _, c in choices]
        update.update(choices=choices, value=current if current in values else param.default)
    elif param.control == "boolean":
        update.update(value=current if isinstance(current, bool) else bool(param.default))
    elif param.control == "integer":
        keep = isinstance(current, int | float) and not isinstance(current, bool)
        update.update(value=current if keep else param.default, minimum=param.minimum, maximum=param.maximum)
    else:
        update.update(value=current if isinstance(current, str) else str(param.default or ""))
    return gr.update(**update)


def seed_update(spec: ModelSpec, current: Any) -> Any:
    param = spec.param(SEED)
    if param is None:
        return gr.update(visible=False)
    value = current if isinstance(current, (int, float)) else param.default
    return gr.update(visible=True, value=value, label=seed_label(param))


def seed_label(param: ParamSpec | None) -> str:
    """The seed's label, with what -1 means (one line, no separate info line)."""
    if param is None or (param.verified and param.label == text(DEFAULT, "param.seed")):
        return str(page("param.seed.note"))
    return f"{_param_label(param)} (-1 = random; the one used is saved)"


def request_from_form(
    registry: Registry,
    kind: Kind,
    model: str,
    prompt: str,
    values: Mapping[str, Any],
    image: str | None = None,
    fit_image: bool = False,
) -> GenerationRequest:
    """The form's values as a request (rules.build_request: the one builder)."""
    return rules.build_request(
        registry, kind, model, prompt, values, image if kind == "i2v" else None, fit_image
    )


def uploaded_path(payload: Any, linked: Callable[[str], Path | None] | None = None) -> str | None:
    """The local path of the image the browser uploaded, from the raw event payload.

    The image events skip Gradio's preprocessing on purpose: gr.Image's would open the file
    with Pillow and fail with a generic error on a HEIC photo or a mislabelled file, where
    the preflight names the problem. The payload comes from the browser, so only a file
    inside Gradio's upload folder is accepted (the check Gradio's preprocessing makes), or,
    through `linked` (MediaLinks.linked_source for the caller), a job's start image that
    Reuse settings put in the form as a link issued to this owner."""
    if payload is None or payload == "":
        return None
    path = payload.get("path") if isinstance(payload, dict) else None
    again = ValidationError(
        "image", "Image: the upload did not arrive; upload the file again.", code="upload_lost"
    )
    if not isinstance(path, str) or not path:
        raise again
    folder = gradio_internals.upload_folder()
    resolved = Path(path).resolve()
    if resolved.is_relative_to(folder) and resolved.is_file():
        return str(resolved)
    source = linked(path) if linked is not None else None
    if source is None:
        raise again
    return str(source)
