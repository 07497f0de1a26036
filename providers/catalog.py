"""The model vocabulary: ModelSpec and ParamSpec, their building blocks, and validation.

A ModelSpec says what a model accepts as a list of ParamSpecs in neutral names
(`aspect_ratio`, `frames`, `seed`, or any a provider declares) and how each goes out on the
wire. The vocabulary is open: a ParamSpec is an integer, a choice, a boolean or a text,
with its limits, default, label and help, and the form, the API and validation are all
generated from it. `validate_options` checks a request against a spec before anything is
sent; `to_wire` builds the JSON body (without the image, which each adapter attaches its
own way).

The models themselves are declared by their provider modules (providers/runcomfy.py,
wavespeed.py, simulator.py), each with its own UNVERIFIED section for what the provider
has not published (marked `verified=False` so the UI can say so).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from providers.base import Kind, ProviderName, ValidationError

PROMPT_MAX_CHARS = 800
FPS = 24
SEED_MIN = -1
SEED_MAX = 2_147_483_647
RANDOM_SEED = -1

Value = int | str | bool
# How a parameter is asked for: a whole number, one of a list, on/off, or free text.
Control = Literal["integer", "choice", "boolean", "text"]


@dataclass(frozen=True)
class ImageRules:
    """The input-image limits from the seed documents (the same for every i2v model)."""

    max_bytes: int = 4_700_000  # "less than 4.7 MB": decimal megabytes, the stricter reading
    max_side: int = 4096
    min_side: int = 320
    max_ratio: float = 3.0  # long side : short side
    formats: tuple[str, ...] = ("JPEG", "PNG")

    def describe(self) -> str:
        return (
            f"JPEG or PNG, under {self.max_bytes / 1_000_000:.1f} MB, each side {self.min_side}"
            f"–{self.max_side} px, long:short at most {self.max_ratio:g}:1"
        )


IMAGE_RULES = ImageRules()


@dataclass(frozen=True)
class ParamSpec:
    """One option a model accepts. `name` is the neutral name the form, the API and history
    use; `wire` the provider's. `type` is int, str or bool; with `choices` it is a choice.
    For an integer `minimum`/`maximum` bound the value, for a text they bound its length.
    `wire_values` maps a neutral value to what the provider expects where the two differ;
    `choice_labels` say how a choice reads in the form; `parse` turns typed text into a
    neutral value (e.g. '1080p' -> '1080P') before it is checked."""

    name: str
    wire: str
    type: type[int] | type[str] | type[bool]
    default: Value
    label: str
    choices: tuple[Value, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    wire_values: Mapping[Value, Value] = field(default_factory=dict)
    choice_labels: Mapping[Value, str] = field(default_factory=dict)
    parse: Callable[[str], str] | None = None
    verified: bool = True
    help: str = ""

    @property
    def control(self) -> Control:
        if self.choices is not None:
            return "choice"
        if self.type is bool:
            return "boolean"
        return "integer" if self.type is int else "text"

    def to_wire(self, value: Value) -> Value:
        return self.wire_values.get(value, value)

    def choice_label(self, value: Value) -> str:
        return self.choice_labels.get(value, str(value))


@dataclass(frozen=True)
class ModelSpec:
    """One video endpoint. `id` is `<provider>/<the provider's model path>`."""

    provider: ProviderName
    provider_label: str
    path: str
    label: str
    kind: Kind
    params: tuple[ParamSpec, ...]
    price_usd: float | None = None
    fixed_resolution: str | None = None  # WaveSpeed splits non-Pro models per resolution
    fixed_seconds: float | None = None  # models with no frames/duration option
    image_wire: str | None = None  # "image_urls" (RunComfy, a list) or "image" (WaveSpeed)
    image_rules: ImageRules | None = None
    prompt_max: int = PROMPT_MAX_CHARS
    verified: bool = True
    notes: str = ""

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.path}"

    def param(self, name: str) -> ParamSpec | None:
        for spec in self.params:
            if spec.name == name:
                return spec
        return None

    def accepts(self, name: str) -> bool:
        return self.param(name) is not None

    def defaults(self) -> dict[str, Value]:
        return {p.name: p.default for p in self.params}

    def seconds(self, options: Mapping[str, Value]) -> float:
        """How long the video will be, in seconds, for these (validated) options."""
        if "frames" in options:
            return (int(options["frames"]) - 1) / FPS
        if "duration" in options:
            return float(options["duration"])
        return self.fixed_seconds or 5.0

    def frame_count(self, options: Mapping[str, Value]) -> int:
        if "frames" in options:
            return int(options["frames"])
        return round(self.seconds(options) * FPS) + 1

    def resolution(self, options: Mapping[str, Value]) -> str:
        return str(options.get("resolution") or self.fixed_resolution or "1080P")


# Dreamina's own pixel sizes at 1080P, as RunComfy's Pro text-to-video labels them.
PIXELS_1080P: dict[str, tuple[int, int]] = {
    "16:9": (1920, 1088),
    "4:3": (1664, 1248),
    "1:1": (1440, 1440),
    "3:4": (1248, 1664),
    "9:16": (1088, 1920),
    "21:9": (2176, 928),
    "9:21": (928, 2176),
}
# 720P is two thirds of 1080P, on the 16-pixel grid video encoders want.
PIXELS_720P: dict[str, tuple[int, int]] = {
    ratio: (round(w * 2 / 3 / 16) * 16, round(h * 2 / 3 / 16) * 16) for ratio, (w, h) in PIXELS_1080P.items()
}
PIXELS_720P["16:9"] = (1280, 720)
PIXELS_720P["9:16"] = (720, 1280)


def nominal_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """The provider's output size for a resolution and aspect ratio."""
    table = PIXELS_720P if resolution.upper() == "720P" else PIXELS_1080P
    return table[aspect_ratio]


def pixel_label(aspect_ratio: str) -> str:
    """'16:9' -> '1920×1088(16:9)' (U+00D7), RunComfy Pro text-to-video's wire value."""
    w, h = PIXELS_1080P[aspect_ratio]
    return f"{w}\u00d7{h}({aspect_ratio})"


# --- Parameter building blocks ---------------------------------------------------------

_RATIO_IN_LABEL = re.compile(r"\((\d+:\d+)\)\s*$")
RATIOS_6 = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
RATIOS_7 = (*RATIOS_6, "9:21")


def seed_param() -> ParamSpec:
    return ParamSpec(
        name="seed",
        wire="seed",
        type=int,
        default=RANDOM_SEED,
        label="Seed",
        minimum=SEED_MIN,
        maximum=SEED_MAX,
        help="-1 picks a random seed; the seed actually used is saved with the job.",
    )


def frames_param(wire: str, verified: bool = True) -> ParamSpec:
    return ParamSpec(
        name="frames",
        wire=wire,
        type=int,
        default=121,
        label="Frames",
        choices=(121, 241),
        choice_labels={n: f"{n} frames (≈{(n - 1) / FPS:.0f} s)" for n in (121, 241)},
        verified=verified,
        help="121 frames ≈ 5 s, 241 frames ≈ 10 s (24 fps).",
    )


def resolution_param(verified: bool = True) -> ParamSpec:
    return ParamSpec(
        name="resolution",
        wire="resolution",
        type=str,
        default="720P",
        label="Resolution",
        choices=("720P", "1080P"),
        parse=str.upper,
        verified=verified,
    )


def _ratio_of(text: str) -> str:
    """Accept the provider's pixel label too: "1920×1088(16:9)" or "1920x1088(16:9)"."""
    match = _RATIO_IN_LABEL.search(text)
    return match.group(1) if match else text


def aspect_param(choices: tuple[str, ...], pixel_labels: bool = False) -> ParamSpec:
    return ParamSpec(
        name="aspect_ratio",
        wire="aspect_ratio",
        type=str,
        default="16:9",
        label="Aspect ratio",
        choices=choices,
        wire_values={r: pixel_label(r) for r in choices} if pixel_labels else {},
        parse=_ratio_of,
    )


def duration_param(choices: tuple[int, ...], verified: bool) -> ParamSpec:
    return ParamSpec(
        name="duration",
        wire="duration",
        type=int,
        default=5,
        label="Duration (s)",
        choices=choices,
        choice_labels={n: f"{n} s" for n in choices},
        verified=verified,
    )


def get_model(model_id: str) -> ModelSpec:
    """The built-in model with this id, or a ValidationError naming the field `model`.
    The studio itself asks its Registry (which may hold more providers); this is the
    built-in registry's answer, for tools and tests."""
    from providers.registry import builtin_registry

    return builtin_registry().model(model_id)


def models(kind: Kind | None = None, provider: ProviderName | None = None) -> list[ModelSpec]:
    """The built-in models, optionally of one kind and one provider (see get_model)."""
    from providers.registry import builtin_registry

    return builtin_registry().models(kind, provider)


def __getattr__(name: str) -> object:
    # MODELS is gathered from the provider modules on first use (they import this module).
    if name == "MODELS":
        return tuple(models())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- Validation --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")


def validate_prompt(prompt: object, limit: int = PROMPT_MAX_CHARS) -> str:
    """The prompt, checked: text, not blank, no control characters, at most `limit` chars.

    Length is counted in characters (code points), as a person counts them.
    """
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise ValidationError("prompt", "Prompt: must be text.", code="prompt_not_text")
    if "\x00" in prompt:
        raise ValidationError(
            "prompt", "Prompt: contains a NUL character; remove it and try again.", code="prompt_nul"
        )
    if _CONTROL.search(prompt):
        raise ValidationError(
            "prompt",
            "Prompt: contains invisible control characters; retype it or paste it as plain text.",
            code="prompt_control",
        )
    if not _INVISIBLE.sub("", prompt):
        raise ValidationError(
            "prompt", f"Prompt: describe the video you want (1 to {limit} characters).", code="prompt_empty", limit=limit
        )
    if len(prompt) > limit:
        raise ValidationError(
            "prompt",
            f"Prompt: {len(prompt)} characters; the limit is {limit}. Shorten it by {len(prompt) - limit}.",
            code="prompt_too_long",
            count=len(prompt),
            limit=limit,
            over=len(prompt) - limit,
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
    limits: dict[str, object]
    code: str | None
    if param.choices is not None:
        code, limits = "option_choice", {"allowed": ", ".join(str(c) for c in param.choices)}
    elif param.control == "boolean":
        code, limits = "option_boolean", {}
    elif param.control == "text":
        code, limits = ("option_text" if param.maximum else None), {"maximum": param.maximum}
    else:
        code = "option_seed" if param.name == "seed" else "option_number"
        limits = {"minimum": param.minimum, "maximum": param.maximum}
    return ValidationError(
        param.name,
        f"{param.label}: {shown} is not allowed. Allowed: {_allowed(param)}{extra}.",
        code=code,
        option=param.name,
        label=param.label,
        value=shown,
        **limits,
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
                code="option_not_taken",
                name=name,
                model=f"{spec.provider_label} {spec.label}",
                accepted=accepted,
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
        others = candidates if candidates is not None else models(kind)
        raise ValidationError(
            "model",
            f"Model: {spec.label} is not {wanted} model. Pick {wanted} model "
            f"({', '.join(m.id for m in others if m.kind == kind)}).",
            code=f"model_not_{kind}",
            label=spec.label,
            models=", ".join(m.id for m in others if m.kind == kind),
        )


def to_wire(spec: ModelSpec, prompt: str, options: Mapping[str, Value]) -> dict[str, Value]:
    """The JSON body for the provider, without the image: prompt, then each option under
    its wire name and value. `options` must come from validate_options."""
    body: dict[str, Value] = {"prompt": prompt}
    for param in spec.params:
        if param.name in options:
            body[param.wire] = param.to_wire(options[param.name])
    return body
