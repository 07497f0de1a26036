"""The model vocabulary: ModelSpec and ParamSpec, their building blocks, the wire body.

A ModelSpec says what a model accepts as a list of ParamSpecs in neutral names
(`aspect_ratio`, `frames`, `seed`, or any a provider declares) and how each goes out on the
wire. The vocabulary is open: a ParamSpec is an integer, a choice, a boolean or a text,
with its limits, default, label and help, and the form, the API and validation are all
generated from it. `validate_options` (providers/validation.py, re-exported here) checks
a request against a spec before anything is sent; `to_wire` builds the JSON body (without
the image, which each adapter attaches its own way).

The models themselves are declared by their provider modules (providers/runcomfy.py,
wavespeed.py, simulator.py), each with its own UNVERIFIED section for what the provider
has not published (marked `verified=False` so the UI can say so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from providers.base import Kind, ProviderName
from providers.validation import (
    PROMPT_MAX_CHARS,
    is_empty,
    validate_kind,
    validate_options,
    validate_prompt,
)

# Names callers use from here besides the vocabulary (validation lives in providers/validation.py).
__all__ = ["PROMPT_MAX_CHARS", "is_empty", "validate_kind", "validate_options", "validate_prompt"]

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


def to_wire(spec: ModelSpec, prompt: str, options: Mapping[str, Value]) -> dict[str, Value]:
    """The JSON body for the provider, without the image: prompt, then each option under
    its wire name and value. `options` must come from validate_options."""
    body: dict[str, Value] = {"prompt": prompt}
    for param in spec.params:
        if param.name in options:
            body[param.wire] = param.to_wire(options[param.name])
    return body
