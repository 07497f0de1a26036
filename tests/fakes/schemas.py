"""The fake's own input schemas for the ten Dreamina 3.0 video endpoints.

Written from the seed documents and providers.md, deliberately NOT from providers.catalog:
if the catalog sends a wrong field name or value, this table rejects it the way the real
provider would. Where the providers publish nothing, the guess is marked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PROMPT_MAX = 800
SEED_MIN, SEED_MAX = -1, 2_147_483_647

RUNCOMFY_PIXEL_RATIOS = (
    "1920\u00d71088(16:9)",
    "1664\u00d71248(4:3)",
    "1440\u00d71440(1:1)",
    "1248\u00d71664(3:4)",
    "1088\u00d71920(9:16)",
    "2176\u00d7928(21:9)",
)
RATIOS_6 = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
RATIOS_7 = (*RATIOS_6, "9:21")


@dataclass(frozen=True)
class Field:
    """One body field: JSON type ("string", "integer", "array"), enum, range, list length."""

    type: str
    required: bool = False
    enum: tuple[object, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    items: int | None = None  # exact list length for arrays


@dataclass(frozen=True)
class Schema:
    provider: str
    model_id: str
    fields: Mapping[str, Field]
    image_field: str | None = None  # "image_urls" (RunComfy) or "image" (WaveSpeed)
    price_usd: float = 0.0
    guessed: bool = False  # the provider has not published this schema


def _prompt() -> Field:
    return Field("string", required=True, max_length=PROMPT_MAX)


def _seed() -> Field:
    return Field("integer", minimum=SEED_MIN, maximum=SEED_MAX)


_FRAMES = Field("integer", enum=(121, 241))
_RESOLUTION = Field("string", enum=("720P", "1080P"))
_IMAGE_URLS = Field("array", required=True, items=1)
_IMAGE = Field("string", required=True)

SCHEMAS: dict[str, Schema] = {
    s.model_id: s
    for s in (
        # RunComfy has not published this schema; the guess mirrors the non-Pro i2v page.
        Schema(
            "runcomfy",
            "bytedance/dreamina-3-0/text-to-video",
            {"prompt": _prompt(), "number_of_frames": _FRAMES, "resolution": _RESOLUTION, "seed": _seed()},
            price_usd=0.3,
            guessed=True,
        ),
        Schema(
            "runcomfy",
            "bytedance/dreamina-3-0/image-to-video",
            {
                "image_urls": _IMAGE_URLS,
                "prompt": _prompt(),
                "number_of_frames": _FRAMES,
                "resolution": _RESOLUTION,
                "seed": _seed(),
            },
            image_field="image_urls",
            price_usd=0.3,
        ),
        Schema(
            "runcomfy",
            "bytedance/dreamina-3-0/pro/text-to-video",
            {
                "prompt": _prompt(),
                "aspect_ratio": Field("string", enum=RUNCOMFY_PIXEL_RATIOS),
                "frames": _FRAMES,
                "seed": _seed(),
            },
            price_usd=0.6,
        ),
        Schema(
            "runcomfy",
            "bytedance/dreamina-3-0/pro/image-to-video",
            {"prompt": _prompt(), "image_urls": _IMAGE_URLS, "frames": _FRAMES, "seed": _seed()},
            image_field="image_urls",
            price_usd=0.6,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0-pro/text-to-video",
            {"prompt": _prompt(), "aspect_ratio": Field("string", enum=RATIOS_7), "seed": _seed()},
            price_usd=0.6,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0-pro/image-to-video",
            {
                "prompt": _prompt(),
                "image": _IMAGE,
                "aspect_ratio": Field("string", enum=RATIOS_7),
                "seed": _seed(),
            },
            image_field="image",
            price_usd=0.6,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0/text-to-video-720p",
            {
                "prompt": _prompt(),
                "aspect_ratio": Field("string", enum=RATIOS_6),
                "seed": _seed(),
                "duration": Field("integer", enum=(5, 10)),
            },
            price_usd=0.3,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0/text-to-video-1080p",
            {
                "prompt": _prompt(),
                "aspect_ratio": Field("string", enum=RATIOS_6),
                "seed": _seed(),
                "duration": Field("integer", enum=(5, 10)),
            },
            price_usd=0.6,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0/image-to-video-720p",
            {
                "prompt": _prompt(),
                "image": _IMAGE,
                "seed": _seed(),
                "duration": Field("integer", enum=(5, 10)),
            },
            image_field="image",
            price_usd=0.3,
        ),
        Schema(
            "wavespeed",
            "bytedance/dreamina-v3.0/image-to-video-1080p",
            {"prompt": _prompt(), "image": _IMAGE, "seed": _seed(), "duration": Field("integer", enum=(5,))},
            image_field="image",
            price_usd=0.6,
        ),
    )
}


@dataclass(frozen=True)
class Problem:
    """One validation failure. `missing` separates WaveSpeed's 1400 from 1401."""

    field: str
    message: str
    missing: bool = False


def _type_ok(spec: Field, value: object) -> bool:
    if spec.type == "integer":
        # JSON has no int/bool distinction problem, Python does: True is not a frame count.
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == "string":
        return isinstance(value, str)
    if spec.type == "array":
        return isinstance(value, list)
    return True


def validate(schema: Schema, body: object) -> list[Problem]:
    """Every way `body` breaks `schema`: unknown fields, missing required ones, wrong
    types, out-of-enum or out-of-range values, a prompt over 800 characters."""
    if not isinstance(body, dict):
        return [Problem("body", "The request body must be a JSON object.")]
    problems: list[Problem] = []
    for name in body:
        if name not in schema.fields:
            allowed = ", ".join(schema.fields)
            problems.append(Problem(name, f"Extra inputs are not permitted: '{name}' (allowed: {allowed})."))
    for name, spec in schema.fields.items():
        if name not in body or body[name] is None:
            if spec.required:
                problems.append(Problem(name, f"Field required: '{name}'.", missing=True))
            continue
        value = body[name]
        if not _type_ok(spec, value):
            problems.append(
                Problem(name, f"'{name}' must be of type {spec.type}, got {type(value).__name__}.")
            )
            continue
        if spec.required and spec.type == "string" and not str(value).strip():
            problems.append(Problem(name, f"'{name}' must not be empty.", missing=True))
            continue
        if spec.enum is not None and value not in spec.enum:
            shown = ", ".join(repr(v) for v in spec.enum)
            problems.append(Problem(name, f"'{name}' must be one of {shown}; got {value!r}."))
        if spec.minimum is not None and isinstance(value, int) and value < spec.minimum:
            problems.append(Problem(name, f"'{name}' must be >= {spec.minimum}; got {value}."))
        if spec.maximum is not None and isinstance(value, int) and value > spec.maximum:
            problems.append(Problem(name, f"'{name}' must be <= {spec.maximum}; got {value}."))
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            problems.append(
                Problem(name, f"'{name}' must be at most {spec.max_length} characters; got {len(value)}.")
            )
        if spec.items is not None and isinstance(value, list):
            if len(value) != spec.items:
                problems.append(
                    Problem(name, f"'{name}' must hold exactly {spec.items} item(s); got {len(value)}.")
                )
            elif not all(isinstance(item, str) for item in value):
                problems.append(Problem(name, f"'{name}' items must be strings."))
    return problems


def schema_for(provider: str, model_id: str) -> Schema | None:
    schema = SCHEMAS.get(model_id.strip("/"))
    return schema if schema is not None and schema.provider == provider else None
