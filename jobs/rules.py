"""The rules a job follows, in one place: how form or API values become a request, what
makes a request valid, and what may be done with a job (check again, cancel, reuse).

The engine enforces these; the UI asks them (for its instant field marks and for which
buttons to show), so the two cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobs import job_words
from jobs.records import GenerationRequest, JobRecord
from providers import catalog
from providers.base import Kind, ValidationError
from providers.catalog import ModelSpec, ParamSpec, Value
from providers.registry import Registry

# Failures worth asking the provider about again: the job may still be there and finish.
# Not submit_unknown (no job to ask about), moderation or job_failed (the provider has
# decided), cancelled, validation or insufficient_balance (refusals of the job itself).
RECHECKABLE_KINDS: frozenset[str] = frozenset(
    {"timeout", "network", "server", "rate_limited", "auth", "expired", "not_found"}
)
_WHOLE = re.compile(r"\s*([-+]?\d{1,12})(\.0*)?\s*")


@dataclass(frozen=True)
class CheckedRequest:
    """A request that passed every check that needs no file: its model, its prompt and
    its options normalised with defaults filled in (a random seed is still -1)."""

    spec: ModelSpec
    prompt: str
    options: dict[str, Value]


def _whole_number(param: ParamSpec, value: Any) -> Any:
    """A whole number given as text ('121', '121.0') or as a float (a number field's 121.0)
    becomes an int for an integer option; anything else is left for validation to refuse
    by name ('1.5', 'abc') rather than silently rounded."""
    if param.type is not int or isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    match = _WHOLE.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else value


def build_request(
    registry: Registry,
    kind: Kind,
    model: str,
    prompt: str | None,
    values: Mapping[str, Any],
    image: str | None = None,
    fit_image: bool = False,
    *,
    only_accepted: bool = True,
) -> GenerationRequest:
    """The one way form and API values become a GenerationRequest.

    `values` maps option names to raw values; empty ones are dropped. With `only_accepted`
    (the form, whose hidden controls may hold stale values) options the model does not take
    are dropped too; without it (the API) they are kept, so validation refuses them by name.
    """
    spec = registry.model(model)
    options: dict[str, Any] = {}
    for name, value in values.items():
        if catalog.is_empty(value):
            continue
        param = spec.param(name)
        if param is None and only_accepted:
            continue
        options[name] = _whole_number(param, value) if param is not None else value
    return GenerationRequest(
        kind=kind,
        model=spec.id,
        prompt=prompt or "",
        options=options,
        image=image or None,
        fit_image=bool(fit_image),
    )


def check_request(registry: Registry, request: GenerationRequest) -> CheckedRequest:
    """Every check that needs no file, in the order a person would fix them. Raises a
    ValidationError naming the field and the limit. The image itself is checked by the
    preflight (jobs/images.py) once its file is at hand."""
    spec = registry.model(request.model)
    catalog.validate_kind(spec, request.kind, registry.models(request.kind))
    prompt = catalog.validate_prompt(request.prompt, spec.prompt_max)
    options = catalog.validate_options(spec, request.options)
    if spec.kind == "t2v" and request.image:
        raise ValidationError(
            "image",
            "Image: text-to-video models take no image; use the Image to video tab.",
            code="image_not_taken",
        )
    if spec.kind == "i2v" and not request.image:
        rules = spec.image_rules or catalog.IMAGE_RULES
        raise ValidationError(
            "image",
            f"Image: this model animates an image; upload one ({rules.describe()}).",
            code="image_missing",
            rules=rules.describe(),
            image_rules=rules,
        )
    return CheckedRequest(spec, prompt, options)


def can_check_again(record: JobRecord) -> bool:
    """Whether 'Check again' makes sense: a failed job the provider may still hold."""
    return record.state == "failed" and bool(record.request_id) and record.error_kind in RECHECKABLE_KINDS


def can_watch_again(record: JobRecord) -> bool:
    """Whether the engine may start watching this job (again): an active job it can find,
    or one that may be checked again."""
    if record.active:
        return record.state != "submitting" and bool(record.request_id)
    return can_check_again(record)


def can_cancel(registry: Registry, record: JobRecord) -> bool:
    """Whether asking the provider to cancel may stop this job: it is still active and its
    provider cancels jobs in this state (queued only, or running too). The answer is a
    hint for the page: the provider has the last word."""
    info = registry.get(record.provider)
    if not record.active or info is None or info.cancel == "none":
        return False
    return info.cancel == "running" or record.state in ("submitting", "queued")


def can_reuse(registry: Registry, record: JobRecord) -> bool:
    """Whether 'Reuse settings' can put this job back into a form: its model still exists."""
    return registry.model_or_none(record.model) is not None


def cannot_cancel_note(label: str, cancel: str, offline: bool) -> str:
    """Why a job runs on after Cancel, from its provider's cancel rule (registry `cancel`)
    and whether it bills (an offline provider does not)."""
    rule = cancel if cancel in ("none", "queued") else "running"
    return job_words.say(f"cannot_cancel.{rule}.{'free' if offline else 'billed'}", provider=label)
