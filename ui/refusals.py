"""What Generate says when it cannot start a job, in the page's language: the refusal in the
status line (naming the control at fault), the field marks of the form's validator, and the
line shown while a job is being sent."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from providers.base import StudioError, ValidationError
from providers.catalog import ModelSpec
from ui.format import error_html
from ui.i18n import DEFAULT, error_text, name_text, text


def field_marks(inputs: dict[str, Any], error: ValidationError, lang: str) -> list[Any]:
    """The validator's verdict per input: the field at fault marked with the refusal in `lang`."""
    field = error.field if error.field in inputs else "prompt"
    message = error_text(lang, error)
    return [gr.validate(name != field, message if name == field else "") for name in inputs]


def refusal(error: StudioError, lang: str = DEFAULT) -> str:
    """A refusal for the status line under Generate, in `lang`, naming the control at fault."""
    return error_html(error_text(lang, error), getattr(error, "field", None))


def not_ready(spec: ModelSpec, reason: str) -> ValidationError:
    """Generate's refusal while the model's provider cannot take a job (no key)."""
    env = reason.split()[1] if reason.startswith("Needs ") else None
    return ValidationError(
        "model",
        f"{spec.provider_label}: {reason}",
        code="provider_not_ready" if env else None,
        provider=spec.provider_label,
        env=env,
    )


def sending_html(spec: ModelSpec, lang: str) -> str:
    words = text(lang, "status.sending", provider=name_text(lang, spec.provider_label))
    return (
        f'<div class="status-card state-submitting" data-state="submitting"><div class="status-head">'
        f"<strong>{html.escape(words)}</strong></div>"
        '<div class="progress indeterminate"><div></div></div></div>'
    )
