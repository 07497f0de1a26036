"""What Generate says when it cannot start a job, in the page's language: the form's check
(FormCheck: the engine's own rules, the provider's readiness, the start image's preflight),
the refusal in the status line (naming the control at fault), the field marks of the form's
validator, and the line shown while a job is being sent."""

from __future__ import annotations

import html
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from jobs import rules
from providers.base import Kind, StudioError, ValidationError
from providers.catalog import ModelSpec
from ui import controls
from ui.format import error_html
from ui.i18n import DEFAULT, error_text, lang_of, name_text, text
from ui.session import Context


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


def linked_for(ctx: Context, owner: str | None) -> Callable[[str], Path | None] | None:
    """The owner's own links (a reused start image) count as an upload."""
    if not owner:
        return None
    return lambda link: ctx.guard.links.linked_source(owner, link)


@dataclass(frozen=True)
class FormCheck:
    """One form's check before anything is sent. `fields`: the validator's inputs by name,
    in the order Gradio passes them (the form's controls, then the session's states)."""

    ctx: Context
    kind: Kind
    fields: Collection[str]

    def error(
        self,
        prompt: str,
        model: str,
        keys: Any = None,
        image: Any = None,
        fit_image: bool = False,
        owner: str | None = None,
        **values: Any,
    ) -> ValidationError | None:
        """Why this form cannot start a job; None when it can."""
        registry = self.ctx.registry
        try:
            path = controls.uploaded_path(image, linked_for(self.ctx, owner))
            request = controls.request_from_form(registry, self.kind, model, prompt, values, path, fit_image)
            spec = rules.check_request(registry, request).spec  # the engine's own checks
            reason = self.ctx.readiness(keys)(spec.provider)
            if reason:
                raise not_ready(spec, reason)
            if path:
                report = self.ctx.studio.preflight(spec.id, path)
                if not report.ok and not (fit_image and report.fixable):
                    summary = report.summary()
                    raise ValidationError("image", f"Image: {summary}", code="image_report", summary=summary, report=report)
        except ValidationError as error:
            return error
        return None

    def validate(self, prompt: str, model: str, request: gr.Request, **values: Any) -> list[Any]:
        """The validator: runs before the job is queued and marks the field at fault."""
        found = self.error(prompt, model, **values)
        if found is not None:
            return field_marks(dict.fromkeys(self.fields), found, lang_of(request))
        return [gr.validate(True, "") for _ in self.fields]

    def in_status(self, prompt: str, model: str, request: gr.Request, **values: Any) -> Any:
        """The same check, for the status line under Generate (where the person looks)."""
        found = self.error(prompt, model, **values)
        return gr.skip() if found is None else refusal(found, lang_of(request))
