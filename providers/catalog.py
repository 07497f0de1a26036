"""Every Dreamina 3.0 video endpoint, as data: parameters, limits, prices, wire names.

A ModelSpec says what a model accepts in provider-neutral names (`aspect_ratio`, `frames`,
`resolution`, `duration`, `seed`) and how each goes out on the wire. `validate` checks a
request against it before anything is sent; `to_wire` builds the JSON body (without the
image, which each adapter attaches its own way).

Facts come from ../shared/providers.md and the seed documents. Where the providers say
nothing, the best guess lives in the UNVERIFIED section below, in one place, marked
`verified=False` so the UI can say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from providers.base import Kind, ProviderName, ValidationError

PROMPT_MAX_CHARS = 800
FPS = 24
SEED_MIN = -1
SEED_MAX = 2_147_483_647
RANDOM_SEED = -1

ParamName = Literal["aspect_ratio", "frames", "resolution", "duration", "seed"]
Value = int | str


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
    """One option a model accepts. `choices` are neutral values; `wire_values` maps a
    neutral value to what the provider expects where the two differ."""

    name: ParamName
    wire: str
    type: type[int] | type[str]
    default: Value
    label: str
    choices: tuple[Value, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    wire_values: Mapping[Value, Value] = field(default_factory=dict)
    verified: bool = True
    help: str = ""

    def to_wire(self, value: Value) -> Value:
        return self.wire_values.get(value, value)


@dataclass(frozen=True)
class ModelSpec:
    """One video endpoint. `id` is `<provider>/<the provider's model path>`."""

    provider: ProviderName
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

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS[self.provider]

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


PROVIDER_LABELS: dict[str, str] = {
    "runcomfy": "RunComfy",
    "wavespeed": "WaveSpeedAI",
    "simulator": "Simulator (offline)",
}

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

RATIOS_6 = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
RATIOS_7 = (*RATIOS_6, "9:21")


def _seed() -> ParamSpec:
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


def _frames(wire: str, verified: bool = True) -> ParamSpec:
    return ParamSpec(
        name="frames",
        wire=wire,
        type=int,
        default=121,
        label="Frames",
        choices=(121, 241),
        verified=verified,
        help="121 frames ≈ 5 s, 241 frames ≈ 10 s (24 fps).",
    )


def _resolution(verified: bool = True) -> ParamSpec:
    return ParamSpec(
        name="resolution",
        wire="resolution",
        type=str,
        default="720P",
        label="Resolution",
        choices=("720P", "1080P"),
        verified=verified,
    )


def _aspect(choices: tuple[str, ...], pixel_labels: bool = False) -> ParamSpec:
    return ParamSpec(
        name="aspect_ratio",
        wire="aspect_ratio",
        type=str,
        default="16:9",
        label="Aspect ratio",
        choices=choices,
        wire_values={r: pixel_label(r) for r in choices} if pixel_labels else {},
    )


def _duration(choices: tuple[int, ...], verified: bool) -> ParamSpec:
    return ParamSpec(
        name="duration",
        wire="duration",
        type=int,
        default=5,
        label="Duration (s)",
        choices=choices,
        verified=verified,
    )


# --- UNVERIFIED: best guesses where the providers publish nothing ----------------------
# Change these in one place when a provider documents them.

# RunComfy has not published the non-Pro text-to-video schema. Its page promises
# "adjustable frames, resolutions, and reproducible seeds", the same words as the non-Pro
# image-to-video page, so the guess mirrors that schema (number_of_frames, resolution, seed).
RUNCOMFY_T2V_PARAMS: tuple[ParamSpec, ...] = (
    _frames("number_of_frames", verified=False),
    _resolution(verified=False),
    _seed(),
)
# WaveSpeed documents duration's default (5) but not its allowed values, except on
# image-to-video-1080p whose page lists 5 alone. Dreamina 3.0 renders 5 s and 10 s clips.
WAVESPEED_DURATIONS: tuple[int, ...] = (5, 10)
WAVESPEED_I2V_1080P_DURATIONS: tuple[int, ...] = (5,)
# Prices not published: RunComfy's for all four; WaveSpeed's for Pro i2v and both i2v.
# ----------------------------------------------------------------------------------------

_RC = "bytedance/dreamina-3-0"
_WS = "bytedance/dreamina-v3.0"

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        provider="runcomfy",
        path=f"{_RC}/pro/text-to-video",
        label="Dreamina 3.0 Pro · text-to-video",
        kind="t2v",
        params=(_aspect(RATIOS_6, pixel_labels=True), _frames("frames"), _seed()),
        fixed_resolution="1080P",
    ),
    ModelSpec(
        provider="runcomfy",
        path=f"{_RC}/text-to-video",
        label="Dreamina 3.0 · text-to-video",
        kind="t2v",
        params=RUNCOMFY_T2V_PARAMS,
        verified=False,
        notes="RunComfy has not published this model's input schema; the parameters are a best guess.",
    ),
    ModelSpec(
        provider="runcomfy",
        path=f"{_RC}/pro/image-to-video",
        label="Dreamina 3.0 Pro · image-to-video",
        kind="i2v",
        params=(_frames("frames"), _seed()),
        fixed_resolution="1080P",
        image_wire="image_urls",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="runcomfy",
        path=f"{_RC}/image-to-video",
        label="Dreamina 3.0 · image-to-video",
        kind="i2v",
        params=(_frames("number_of_frames"), _resolution(), _seed()),
        image_wire="image_urls",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="wavespeed",
        path="bytedance/dreamina-v3.0-pro/text-to-video",
        label="Dreamina 3.0 Pro · text-to-video",
        kind="t2v",
        params=(_aspect(RATIOS_7), _seed()),
        price_usd=0.60,
        fixed_resolution="1080P",
        fixed_seconds=5.0,
    ),
    ModelSpec(
        provider="wavespeed",
        path="bytedance/dreamina-v3.0-pro/image-to-video",
        label="Dreamina 3.0 Pro · image-to-video",
        kind="i2v",
        params=(_aspect(RATIOS_7), _seed()),
        fixed_resolution="1080P",
        fixed_seconds=5.0,
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="wavespeed",
        path=f"{_WS}/text-to-video-720p",
        label="Dreamina 3.0 · text-to-video 720p",
        kind="t2v",
        params=(_aspect(RATIOS_6), _duration(WAVESPEED_DURATIONS, verified=False), _seed()),
        price_usd=0.30,
        fixed_resolution="720P",
    ),
    ModelSpec(
        provider="wavespeed",
        path=f"{_WS}/text-to-video-1080p",
        label="Dreamina 3.0 · text-to-video 1080p",
        kind="t2v",
        params=(_aspect(RATIOS_6), _duration(WAVESPEED_DURATIONS, verified=False), _seed()),
        price_usd=0.60,
        fixed_resolution="1080P",
    ),
    ModelSpec(
        provider="wavespeed",
        path=f"{_WS}/image-to-video-720p",
        label="Dreamina 3.0 · image-to-video 720p",
        kind="i2v",
        params=(_duration(WAVESPEED_DURATIONS, verified=False), _seed()),
        fixed_resolution="720P",
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="wavespeed",
        path=f"{_WS}/image-to-video-1080p",
        label="Dreamina 3.0 · image-to-video 1080p",
        kind="i2v",
        params=(_duration(WAVESPEED_I2V_1080P_DURATIONS, verified=True), _seed()),
        fixed_resolution="1080P",
        image_wire="image",
        image_rules=IMAGE_RULES,
    ),
    ModelSpec(
        provider="simulator",
        path="dreamina-3-0/text-to-video",
        label="Simulated Dreamina 3.0 · text-to-video",
        kind="t2v",
        params=(_aspect(RATIOS_7), _frames("frames"), _resolution(), _seed()),
        price_usd=0.0,
        notes="Runs offline: renders a real video of the prompt, no API key, no cost.",
    ),
    ModelSpec(
        provider="simulator",
        path="dreamina-3-0/image-to-video",
        label="Simulated Dreamina 3.0 · image-to-video",
        kind="i2v",
        params=(_frames("frames"), _resolution(), _seed()),
        price_usd=0.0,
        image_wire="image",
        image_rules=IMAGE_RULES,
        notes="Runs offline: animates the image with a slow pan, no API key, no cost.",
    ),
)

_BY_ID: dict[str, ModelSpec] = {m.id: m for m in MODELS}


def get_model(model_id: str) -> ModelSpec:
    """The spec for a model id, or a ValidationError naming the field `model`."""
    spec = _BY_ID.get(str(model_id).strip())
    if spec is None:
        raise ValidationError(
            "model",
            f"Model: '{model_id}' is not a Dreamina 3.0 video model this studio knows. "
            f"Pick one of: {', '.join(_BY_ID)}.",
        )
    return spec


def models(kind: Kind | None = None, provider: ProviderName | None = None) -> list[ModelSpec]:
    return [
        m for m in MODELS if (kind is None or m.kind == kind) and (provider is None or m.provider == provider)
    ]


# --- Validation --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")
_RATIO_IN_LABEL = re.compile(r"\((\d+:\d+)\)\s*$")


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


def _allowed(param: ParamSpec) -> str:
    if param.choices is not None:
        return ", ".join(str(c) for c in param.choices)
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
    if param.type is int:
        number = _coerce_int(param, value)
        if param.minimum is not None and number < param.minimum:
            raise _bad_value(param, value)
        if param.maximum is not None and number > param.maximum:
            raise _bad_value(param, value)
        result: Value = number
    else:
        if not isinstance(value, str):
            raise _bad_value(param, value)
        text = value.strip()
        if param.name == "resolution":
            text = text.upper()
        if param.name == "aspect_ratio":
            # Accept the provider's pixel label too: "1920×1088(16:9)" or "1920x1088(16:9)".
            match = _RATIO_IN_LABEL.search(text)
            if match:
                text = match.group(1)
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


def validate_kind(spec: ModelSpec, kind: Kind | None) -> None:
    if kind is not None and spec.kind != kind:
        wanted = "a text-to-video" if kind == "t2v" else "an image-to-video"
        raise ValidationError(
            "model",
            f"Model: {spec.label} is not {wanted} model. Pick {wanted} model "
            f"({', '.join(m.id for m in models(kind))}).",
        )


def to_wire(spec: ModelSpec, prompt: str, options: Mapping[str, Value]) -> dict[str, Value]:
    """The JSON body for the provider, without the image: prompt, then each option under
    its wire name and value. `options` must come from validate_options."""
    body: dict[str, Value] = {"prompt": prompt}
    for param in spec.params:
        if param.name in options:
            body[param.wire] = param.to_wire(options[param.name])
    return body
