"""Checking a request against a model's ModelSpec before anything is sent: the prompt (text,
not blank, no control characters, at most 800 characters) and each option (coerced from
form or API text, bounded, one of its choices), with defaults filled in, and the kind.

Every refusal is a ValidationError naming the field, what was given and what is allowed.
providers/catalog.py re-exports these functions with the vocabulary they check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from providers.base import Kind, ValidationError

if TYPE_CHECKING:
    from providers.catalog import ModelSpec, ParamSpec, Value

PROMPT_MAX_CHARS = 800


def _builtin_models(kind: Kind) -> list[ModelSpec]:
    from providers.registry import builtin_registry  # the registry imports the catalog

    return builtin_registry().models(kind)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")


def validate_prompt(prompt: object, limit: int = PROMPT_MAX_CHARS) -> str:
    """The prompt, checked: text, not blank, no control characters, at most `limit` chars.

    Length is counted in characters (code points), as a person counts them.
    """
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise ValidationError("prompt", "Prompt: must be text.")
    if "\x00" in prompt:
        raise ValidationError("prompt", "Prompt: contains a NUL character; remove it and try again.")
    if _CONTROL.search(prompt):
        raise ValidationError(
            "prompt", "Prompt: contains invisible control characters; retype it or paste it as plain text."
        )
    if not _INVISIBLE.sub("", prompt):
        raise ValidationError("prompt", f"Prompt: describe the video you want (1 to {limit} characters).")
    if len(prompt) > limit:
        raise ValidationError(
            "prompt",
            f"Prompt: {len(prompt)} characters; the limit is {limit}. Shorten it by {len(prompt) - limit}.",
        )
    return prompt.strip()


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_empty(value: object) -> bool:
    """Whether a raw option value means 'not given' (None or blank text)."""
    return _is_empty(value)


def _coerce_int(param: ParamSpec, value: object) -> int:
    if isinstance(value, bool):
        raise _bad_value(param, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise _bad_value(param, value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,12}\s*", value):
        return int(value)
    raise _bad_value(param, value)


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _coerce_bool(param: ParamSpec, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad_value(param, value)


def _allowed(param: ParamSpec) -> str:
    if param.choices is not None:
        return ", ".join(str(c) for c in param.choices)
    if param.control == "boolean":
        return "true or false"
    if param.control == "text":
        return f"text of at most {param.maximum} characters" if param.maximum else "text"
    return f"a whole number from {param.minimum} to {param.maximum}"


def _bad_value(param: ParamSpec, value: object) -> ValidationError:
    shown = repr(value) if isinstance(value, str) else str(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    extra = " (-1 means random)" if param.name == "seed" else ""
    return ValidationError(
        param.name, f"{param.label}: {shown} is not allowed. Allowed: {_allowed(param)}{extra}."
    )


def _normalise(param: ParamSpec, value: object) -> Value:
    result: Value
    if param.type is bool:
        result = _coerce_bool(param, value)
    elif param.type is int:
        number = _coerce_int(param, value)
        if param.minimum is not None and number < param.minimum:
            raise _bad_value(param, value)
        if param.maximum is not None and number > param.maximum:
            raise _bad_value(param, value)
        result = number
    else:
        if not isinstance(value, str):
            raise _bad_value(param, value)
        text = value.strip()
        if param.parse is not None:
            text = param.parse(text)
        if param.choices is None and param.maximum is not None and len(text) > param.maximum:
            raise _bad_value(param, value)
        result = text
    if param.choices is not None and result not in param.choices:
        raise _bad_value(param, value)
    return result


def validate_options(spec: ModelSpec, options: Mapping[str, object]) -> dict[str, Value]:
    """Every option the model accepts, normalised, defaults filled in.

    An option the model does not accept must be empty; otherwise it is refused by name.
    """
    for name, value in options.items():
        if not _is_empty(value) and not spec.accepts(name):
            accepted = ", ".join(p.name for p in spec.params) or "no options"
            raise ValidationError(
                name,
                f"{name}: {spec.provider_label} {spec.label} does not take this setting; "
                f"leave it empty. It accepts: {accepted}.",
            )
    result: dict[str, Value] = {}
    for param in spec.params:
        value = options.get(param.name)
        result[param.name] = param.default if _is_empty(value) else _normalise(param, value)
    return result


def validate_kind(spec: ModelSpec, kind: Kind | None, candidates: list[ModelSpec] | None = None) -> None:
    """Refuse a model of the other kind, naming the `candidates` (default: the built-ins)."""
    if kind is not None and spec.kind != kind:
        wanted = "a text-to-video" if kind == "t2v" else "an image-to-video"
        others = candidates if candidates is not None else _builtin_models(kind)
        raise ValidationError(
            "model",
            f"Model: {spec.label} is not {wanted} model. Pick {wanted} model "
            f"({', '.join(m.id for m in others if m.kind == kind)}).",
        )
