"""The start image's check beside the upload: the preflight's verdict, and with 'Fit image'
on, what the fit will change, before anything is sent."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from jobs.service import Studio
from providers import catalog
from providers.base import StudioError, ValidationError
from ui import controls, image_words
from ui.format import decimal, error_html, number_text
from ui.i18n import DEFAULT, error_text, lang_of, text
from ui.media_links import MediaLinks
from ui.session import PRIVATE


def rules_text(rules: catalog.ImageRules, lang: str = DEFAULT) -> str:
    """What an image must be (ImageRules.describe), in `lang`."""
    return text(
        lang,
        "preflight.rules",
        mb=decimal(rules.max_bytes / 1_000_000, 1, lang),
        low=rules.min_side,
        high=rules.max_side,
        ratio=number_text(f"{rules.max_ratio:g}", lang),
    )


def preflight_html(
    report: Any | None, fit: bool = False, changes: tuple[str, ...] = (), lang: str = DEFAULT
) -> str:
    """The image check's verdict in `lang`; before an image, what it must be."""
    if report is None:
        words = f"{text(lang, 'preflight.upload')} {rules_text(catalog.IMAGE_RULES, lang)}."
        return f'<div class="preflight">{html.escape(words)}</div>'
    if report.ok:
        css = "ok"
    elif report.fixable:
        css = "fixable"
    else:
        css = "bad"
    verdict = image_words.fit_verdict(lang, report, changes) if report.fixable and fit else None
    verdict = verdict or image_words.summary(lang, report)
    not_image = any(issue.rule == "not_image" for issue in report.issues)
    kind = ' data-not-image="true"' if not_image else ""
    return f'<div class="preflight {css}" data-ok="{str(report.ok).lower()}"{kind}>{html.escape(verdict)}</div>'


def wire(
    model: gr.Dropdown,
    image: Any,
    preflight: Any,
    fit_image: Any,
    studio: Studio,
    owner: gr.State,
    links: MediaLinks,
) -> None:
    """Re-check the image whenever it, the fit switch or the model changes."""
    if image is None or preflight is None or fit_image is None:
        return

    def on_image(model: str, image: Any, fit_image: bool, owner: str | None, request: gr.Request) -> str:
        try:
            linked = (lambda link: links.linked_source(owner, link)) if owner else None
            path = controls.uploaded_path(image, linked)
        except ValidationError as error:
            return error_html(error_text(lang_of(request), error), "image")
        if not path:
            return preflight_html(None, lang=lang_of(request))
        report = studio.preflight(model, path)
        changes: tuple[str, ...] = ()
        if fit_image and report.fixable:
            try:
                changes = studio.fit_plan(model, path)
            except StudioError:
                changes = ()
        return preflight_html(report, fit_image, changes, lang_of(request))

    inputs = {"model": model, "image": image, "fit_image": fit_image, "owner": owner}
    for trigger in (image.change, fit_image.change, model.change):
        trigger(
            on_image,
            inputs_kwargs=inputs,
            outputs=[preflight],
            preprocess=False,  # see controls.uploaded_path
            show_progress="hidden",  # the check says what it does; no raw Gradio timer over it
            trigger_mode="always_last",
            **PRIVATE,
        )
