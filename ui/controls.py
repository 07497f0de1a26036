"""The form's controls, built from the catalog: which provider and model to offer, which
options a model takes, and how form values become a GenerationRequest.

Every control is derived from a ModelSpec; nothing here knows a model by name.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from jobs.records import GenerationRequest
from providers import catalog
from providers.base import Kind, ValidationError
from providers.catalog import ModelSpec, ParamSpec
from ui.format import choice_label

# The options a form can show, in the order they appear. The seed has its own row.
OPTION_NAMES: tuple[str, ...] = ("aspect_ratio", "frames", "resolution", "duration")
PARAM_NAMES: tuple[str, ...] = (*OPTION_NAMES, "seed")
PROVIDER_ORDER: tuple[str, ...] = ("runcomfy", "wavespeed", "simulator")
KIND_WORDS: dict[str, str] = {"t2v": "Text to video", "i2v": "Image to video"}

Readiness = Callable[[str], "str | None"]


def default_provider(ready: Readiness) -> str:
    """The first provider with a key; the simulator when none has one."""
    for provider in PROVIDER_ORDER:
        if provider != "simulator" and ready(provider) is None:
            return provider
    return "simulator"


def default_model(kind: Kind, ready: Readiness) -> str:
    return catalog.models(kind, default_provider(ready))[0].id  # type: ignore[arg-type]


def short_reason(reason: str | None) -> str:
    """A provider choice's few words on why it cannot take a job ('no key'); the model's
    notice below the picker gives the whole reason."""
    if not reason:
        return ""
    return "no key" if reason.lower().startswith("needs") else "unavailable"


def provider_choices(ready: Readiness) -> list[tuple[str, str]]:
    choices = []
    for provider in PROVIDER_ORDER:
        label = catalog.PROVIDER_LABELS[provider]
        reason = ready(provider)
        choices.append((f"{label} · {short_reason(reason)}" if reason else label, provider))
    return choices


def model_label(spec: ModelSpec) -> str:
    label = spec.label
    if spec.price_usd:
        label += f" · ${spec.price_usd:.2f}/run"
    if not spec.verified:
        label += " · unverified"
    return label


def model_choices(kind: Kind, provider: str) -> list[tuple[str, str]]:
    return [(model_label(m), m.id) for m in catalog.models(kind, provider)]  # type: ignore[arg-type]


def picker_updates(kind: Kind, provider: str, model: str | None, ready: Readiness) -> tuple[Any, Any]:
    """(provider radio, model dropdown): keep `model` when it belongs to `provider`."""
    choices = model_choices(kind, provider)
    ids = [value for _, value in choices]
    chosen = model if model in ids else ids[0]
    return (
        gr.update(choices=provider_choices(ready), value=provider),
        gr.update(choices=choices, value=chosen),
    )


def price_text(spec: ModelSpec) -> str:
    if spec.price_usd == 0:
        return "free"
    if spec.price_usd:
        return f"${spec.price_usd:.2f} per run"
    return "price not published by the provider"


def model_info_html(spec: ModelSpec, reason: str | None) -> str:
    """What a person should know about the chosen model, under the picker."""
    facts = [f"<b>{html.escape(spec.provider_label)}</b>", html.escape(price_text(spec))]
    if spec.fixed_resolution:
        facts.append(f"{spec.fixed_resolution} output")
    if spec.fixed_seconds:
        facts.append(f"{spec.fixed_seconds:g} s clips")
    lines = [f'<div class="model-facts">{" · ".join(facts)}</div>']
    if spec.provider == "simulator":
        facts.append("simulated offline, no API call")
        lines = [f'<div class="model-facts">{" · ".join(facts)}</div>']
    if reason:
        lines.append(
            f'<div class="notice warn">{html.escape(reason)} Until then, Generate cannot use this provider.</div>'
        )
    if not spec.verified:
        # The model's own note says what is unverified, when it has one: say it once.
        why = spec.notes or "the provider has not published this model's parameters; the form shows the best guess."
        lines.append(f'<div class="notice">Unverified: {html.escape(why)}</div>')
    elif spec.notes and spec.provider != "simulator":
        lines.append(f'<div class="model-notes">{html.escape(spec.notes)}</div>')
    return "".join(lines)


def _param_label(param: ParamSpec) -> str:
    return f"{param.label} (unverified)" if not param.verified else param.label


def _info(param: ParamSpec) -> str | None:
    # Frames say their seconds in each choice already.
    return None if param.name == "frames" else (param.help or None)


def option_update(spec: ModelSpec, name: str, current: Any) -> Any:
    """A control's update for `spec`: hidden when the model does not take it; otherwise its
    choices, with the current value kept when still allowed."""
    param = spec.param(name)
    if param is None:
        return gr.update(visible=False, value=None)
    choices = [(choice_label(param, c), c) for c in (param.choices or ())]
    values = [c for _, c in choices]
    value = current if current in values else param.default
    return gr.update(
        visible=True,
        choices=choices,
        value=value,
        label=_param_label(param),
        info=_info(param),
    )


def seed_update(spec: ModelSpec, current: Any) -> Any:
    param = spec.param("seed")
    if param is None:
        return gr.update(visible=False)
    value = current if isinstance(current, (int, float)) else param.default
    return gr.update(visible=True, value=value, label=seed_label(param))


def seed_label(param: ParamSpec | None) -> str:
    """The seed's label, with what -1 means (one line, no separate info line)."""
    name = _param_label(param) if param else "Seed"
    return f"{name} (-1 = random; the one used is saved)"


def initial_option(spec: ModelSpec, name: str) -> dict[str, Any]:
    """Constructor arguments for a control, as the default model shows it."""
    param = spec.param(name)
    if param is None:
        return {"visible": False, "value": None, "choices": [], "label": name}
    return {
        "visible": True,
        "value": param.default,
        "choices": [(choice_label(param, c), c) for c in (param.choices or ())],
        "label": _param_label(param),
        "info": _info(param),
    }


def form_options(spec: ModelSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Only the options the model accepts: hidden controls may still hold stale values."""
    options: dict[str, Any] = {}
    for name in PARAM_NAMES:
        value = values.get(name)
        if spec.accepts(name) and value is not None and value != "":
            options[name] = int(value) if name == "seed" and isinstance(value, float) else value
    return options


def request_from_form(
    kind: Kind,
    model: str,
    prompt: str,
    values: Mapping[str, Any],
    image: str | None = None,
    fit_image: bool = False,
) -> GenerationRequest:
    spec = catalog.get_model(model)
    return GenerationRequest(
        kind=kind,
        model=spec.id,
        prompt=prompt or "",
        options=form_options(spec, values),
        image=image if kind == "i2v" else None,
        fit_image=bool(fit_image),
    )


def uploaded_path(payload: Any) -> str | None:
    """The local path of the image the browser uploaded, from the raw event payload.

    The image events skip Gradio's preprocessing on purpose: gr.Image's would open the file
    with Pillow and fail with a generic error on a HEIC photo or a mislabelled file, where
    the preflight names the problem. The payload comes from the browser, so only a file
    inside Gradio's upload folder is accepted (the check Gradio's preprocessing makes)."""
    if payload is None or payload == "":
        return None
    path = payload.get("path") if isinstance(payload, dict) else None
    again = ValidationError("image", "Image: the upload did not arrive; upload the file again.")
    if not isinstance(path, str) or not path:
        raise again
    folder = Path(get_upload_folder()).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(folder) or not resolved.is_file():
        raise again
    return str(resolved)
