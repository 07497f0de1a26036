"""A corpus of bad input (empty, too long and odd prompts, out-of-range seeds and options, every kind
of bad image) sent through the API and straight to the engine: each refused clearly, naming the
field and the limit, with nothing sent to a provider, and the server still serving after it all."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jobs.records import GenerationRequest, HistoryQuery
from providers.base import ValidationError
from tests.fakes import FakeProviders
from tests.reliability.bad_input_support import (  # noqa: F401 (the *_fixture names are fixtures)
    image_folder_fixture,
    make_image,
)
from tests.reliability.engine_kit import run_async, settings_for, started_engine
from tests.reliability.harness import MODELS, endpoint, history_total, refusal

LIMITS = "JPEG or PNG, under 4.7 MB, each side 320–4096 px, long:short at most 3:1"


FIT = "Turn on 'Fit image'"


@dataclass(frozen=True)
class Case:
    """One bad input. `field` is what the engine names (ValidationError.field); `says` are
    words the person must read. `image` names a maker in tests/images.py ("good" for a
    good PNG); `gap` marks a case the API layer gets wrong today (xfail, strict)."""

    name: str
    kind: str
    field: str
    says: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    image: str | None = None
    gap: str | None = None


def _t2v(name: str, field: str, says: tuple[str, ...], gap: str | None = None, **params: Any) -> Case:
    return Case(
        name,
        "t2v",
        field,
        says,
        {"prompt": "a lighthouse at dawn", "model": MODELS["rc_t2v"], **params},
        gap=gap,
    )


def _i2v(
    name: str,
    image: str | None,
    says: tuple[str, ...],
    field: str = "image",
    gap: str | None = None,
    **params: Any,
) -> Case:
    params = {"prompt": "slow push-in", "model": MODELS["ws_i2v"], **params}
    return Case(name, "i2v", field, says, params, image=image, gap=gap)


EMPTY_PROMPT = ("Prompt:", "describe the video you want", "1 to 800 characters")


TOO_LONG = ("Prompt:", "801 characters", "the limit is 800", "Shorten it by 1")


SEED_RANGE = ("Seed:", "a whole number from -1 to 2147483647")


CASES: tuple[Case, ...] = (
    # prompts
    _t2v("empty prompt", "prompt", EMPTY_PROMPT, prompt=""),
    _t2v("no prompt at all", "prompt", EMPTY_PROMPT, prompt=None),
    _t2v("blank prompt", "prompt", EMPTY_PROMPT, prompt="   \n\t  \r\n "),
    _t2v("zero-width characters only", "prompt", EMPTY_PROMPT, prompt="\u200b\u200c\u200d\u2060\ufeff"),
    _t2v("bidi controls only", "prompt", EMPTY_PROMPT, prompt="\u202e\u202d\u2066\u2069"),
    _t2v("801 characters", "prompt", TOO_LONG, prompt="x" * 801),
    _t2v("801 emoji", "prompt", TOO_LONG, prompt="🎬" * 801),
    _t2v("801 right-to-left letters", "prompt", TOO_LONG, prompt="ש" * 801),
    _t2v("NUL character", "prompt", ("Prompt:", "NUL character"), prompt="a lighthouse\x00 at dawn"),
    _t2v("bell control character", "prompt", ("Prompt:", "control characters"), prompt="a bell\x07 rings"),
    _t2v(
        "ANSI escape sequence", "prompt", ("Prompt:", "control characters"), prompt="\x1b[31mred\x1b[0m sky"
    ),
    _t2v("DEL character", "prompt", ("Prompt:", "control characters"), prompt="delete\x7f me"),
    _i2v("empty prompt on the image tab", "good", EMPTY_PROMPT, field="prompt", prompt=""),
    # seeds
    _t2v("seed -2", "seed", (*SEED_RANGE, "-2 is not allowed"), seed=-2),
    _t2v("seed 2^31", "seed", (*SEED_RANGE, "2147483648 is not allowed"), seed=2**31),
    _t2v("seed -2^63", "seed", SEED_RANGE, seed=-(2**63)),
    _t2v("seed 1.5", "seed", (*SEED_RANGE, "1.5"), seed=1.5),
    _t2v("seed 'abc'", "seed", (*SEED_RANGE, "'abc'"), seed="abc"),
    # models
    _t2v("unknown model", "model", ("Model:", "'runcomfy/nope'", "Pick one of"), model="runcomfy/nope"),
    _t2v("path as a model", "model", ("Model:", "Pick one of"), model="../../etc/passwd"),
    _t2v("markup as a model", "model", ("Model:", "Pick one of"), model="<script>alert(1)</script>"),
    _i2v(
        "text-to-video model on the image tab",
        "good",
        ("Model:", "image-to-video model"),
        field="model",
        model=MODELS["rc_t2v"],
    ),
    _t2v(
        "image-to-video model on the text tab",
        "model",
        ("Model:", "text-to-video model"),
        model=MODELS["ws_i2v"],
    ),
    _t2v(
        "simulator image model on the text tab",
        "model",
        ("Model:", "text-to-video model"),
        model="simulator/dreamina-3-0/image-to-video",
    ),
    # images in the wrong place
    Case(
        "image on the text tab",
        "t2v",
        "image",
        ("Image:", "take no image"),
        {"prompt": "x", "model": MODELS["rc_t2v"]},
        "good",
    ),
    _i2v("no image on the image tab", None, ("Image:", "upload one", LIMITS)),
    # options the model does not take, or values it does not allow
    _t2v(
        "duration on a frames model",
        "duration",
        ("duration:", "does not take this setting", "It accepts: aspect_ratio, frames, seed"),
        duration=5,
    ),
    _t2v(
        "resolution on a fixed-1080P model",
        "resolution",
        ("resolution:", "does not take this setting"),
        resolution="720P",
    ),
    _t2v(
        "aspect ratio 5:4",
        "aspect_ratio",
        ("Aspect ratio:", "'5:4'", "Allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9"),
        aspect_ratio="5:4",
    ),
    _t2v(
        "markup as an aspect ratio",
        "aspect_ratio",
        ("Aspect ratio:", "Allowed: 16:9"),
        aspect_ratio="<img src=x onerror=alert(1)>",
    ),
    _t2v(
        "9:21 on a six-ratio model",
        "aspect_ratio",
        ("Aspect ratio:", "'9:21'", "Allowed: 16:9"),
        model=MODELS["ws_t2v"],
        aspect_ratio="9:21",
    ),
    _t2v("100 frames", "frames", ("Frames:", "100 is not allowed", "Allowed: 121, 241"), frames=100),
    _t2v(
        "frames on a duration model",
        "frames",
        ("frames:", "does not take this setting", "It accepts: aspect_ratio, duration, seed"),
        model=MODELS["ws_t2v"],
        frames=241,
    ),
    _t2v(
        "7 s duration",
        "duration",
        ("Duration (s):", "7 is not allowed", "Allowed: 5, 10"),
        model=MODELS["ws_t2v"],
        duration=7,
    ),
    _t2v(
        "4K resolution",
        "resolution",
        ("Resolution:", "'4K'", "Allowed: 720P, 1080P"),
        model=MODELS["sim_t2v"],
        resolution="4K",
    ),
    _i2v(
        "aspect ratio on an image model that takes none",
        "good",
        ("aspect_ratio:", "does not take this setting"),
        field="aspect_ratio",
        model=MODELS["rc_i2v"],
        aspect_ratio="16:9",
    ),
    _i2v(
        "10 s on the 5-s-only image model",
        "good",
        ("Duration (s):", "Allowed: 5."),
        field="duration",
        model="wavespeed/bytedance/dreamina-v3.0/image-to-video-1080p",
        duration=10,
    ),
    # images: too many bytes, too many or too few pixels, wrong shape, wrong kind
    _i2v("image over 4.7 MB", "too_big_bytes", ("image is 5.9 MB", "the limit is 4.7 MB", FIT)),
    _i2v("image over 4096 px", "too_large_sides", ("5000×3000 px", "at most 4096 px", FIT)),
    _i2v("image under 320 px", "too_small", ("300×200 px", "at least 320 px", FIT)),
    _i2v("image wider than 3:1", "too_wide", ("4:1", "the limit is 3:1", FIT)),
    _i2v("image taller than 3:1", "too_tall", ("4:1", "the limit is 3:1", FIT)),
    _i2v("text file named .png", "text_as_png", ("not an image", "contains text", LIMITS)),
    _i2v("empty file", "empty_file", ("empty (0 bytes)",)),
    _i2v("truncated PNG", "truncated_png", ("cut short (truncated)", LIMITS)),
    _i2v("truncated JPEG", "truncated_jpeg", ("cut short (truncated)", LIMITS)),
    _i2v("decompression bomb", "decompression_bomb", ("decompression bomb", "megapixels")),
    _i2v("CMYK JPEG", "cmyk_jpeg", ("CMYK", "need RGB", FIT)),
    _i2v("16-bit PNG", "png_16bit", ("16 bits per channel", "8-bit", FIT)),
    _i2v("16-bit greyscale PNG", "png_16bit_gray", ("16 bits per channel", FIT)),
    _i2v("animated GIF", "animated_gif", ("GIF format", "12 animation frames", FIT)),
    _i2v("animated PNG", "apng", ("3 animation frames", FIT)),
    _i2v("multi-page TIFF", "multipage_tiff", ("TIFF format", "3 pages", FIT)),
    _i2v("WebP", "webp", ("WEBP format", "JPEG or PNG only", FIT)),
    _i2v("BMP", "bmp", ("BMP format", FIT)),
    _i2v("transparent PNG", "rgba_png", ("transparent areas", FIT)),
    _i2v("SVG", "svg_text", ("SVG drawing", "export it as PNG or JPEG", LIMITS)),
    _i2v("HEIC photo", "fake_heic", ("HEIC", "export it as JPEG")),
    _i2v("video file as the image", "video", ("video file, not an image",)),
)


def _provider_traffic(fake: Any) -> int:
    """Submits and uploads: anything that sends the job or its image to a provider."""
    return sum(1 for r in fake.requests() if r["op"] in ("submit", "upload", "upload_put"))


# The corpus runs its cases back to back and a refused case sends nothing, so each case's
# "before" is the previous case's "after": the fake's (long) request log is read once a case.
_last_traffic: dict[str, int] = {}


_tried = {"api": 0, "engine": 0}


_tried_lock = threading.Lock()


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.gap)] if c.gap else [])
        for c in CASES
    ],
)
def test_the_api_refuses_bad_input_clearly_and_sends_nothing(
    case: Case, canary_studio: Any, image_folder: Path
) -> None:
    from gradio_client import handle_file

    fake, app = canary_studio.fake, canary_studio.app
    client = app.client()
    params = dict(case.params)
    if case.image:
        params["image"] = handle_file(str(make_image(case.image, image_folder / case.name.replace(" ", "-"))))
    jobs_before = history_total(app.url)
    traffic_before = _last_traffic.get("count")
    if traffic_before is None:
        traffic_before = _provider_traffic(fake)
    with _tried_lock:
        _tried["api"] += 1
    try:
        message = refusal(client, endpoint(case.kind), **params)
        missing = [words for words in case.says if words not in message]
        assert not missing, f"the message {message!r} lacks {missing}"
    finally:
        # Whatever the message, nothing may have reached the provider and no row may remain.
        traffic_after = _last_traffic["count"] = _provider_traffic(fake)
        assert traffic_after == traffic_before, "the bad input reached the provider"
        assert history_total(app.url) == jobs_before
    assert app.process.poll() is None


def test_the_server_keeps_serving_after_the_corpus(canary_studio: Any, image_folder: Path) -> None:
    from gradio_client import handle_file

    client = canary_studio.app.client()
    _, job = client.predict(prompt="after the corpus", model=MODELS["rc_t2v"], api_name="/text_to_video")
    assert job["state"] == "succeeded"
    image = handle_file(str(make_image("good", image_folder / "after")))
    _, job = client.predict(
        prompt="after the corpus", image=image, model=MODELS["ws_i2v"], api_name="/image_to_video"
    )
    assert job["state"] == "succeeded"
    print(f"\nbad inputs tried through the API: {len(CASES)} ({sum(1 for c in CASES if c.gap)} known gaps)")


def engine_request(case: Case, folder: Path) -> GenerationRequest:
    params = dict(case.params)
    options = {
        k: params.pop(k) for k in ("aspect_ratio", "frames", "resolution", "duration", "seed") if k in params
    }
    image = str(make_image(case.image, folder / case.name.replace(" ", "-"))) if case.image else None
    return GenerationRequest(
        kind=case.kind,  # type: ignore[arg-type]
        model=params["model"],
        prompt=params["prompt"],
        options=options,
        image=image,
    )


def test_the_engine_refuses_the_whole_corpus_naming_the_field(tmp_path: Path) -> None:
    """Straight to Engine.submit: every case raises ValidationError for the right field
    before any request is made."""
    requests = [(case, engine_request(case, tmp_path / "images")) for case in CASES]

    async def scenario() -> list[str]:
        problems: list[str] = []
        with FakeProviders(queue_seconds=0, run_seconds=0.05) as fake:
            engine = await started_engine(settings_for(tmp_path / "data", fake.base_url))
            try:
                for case, request in requests:
                    try:
                        record = await engine.submit("alice", request)
                    except ValidationError as error:
                        if error.field != case.field:
                            problems.append(f"{case.name}: field {error.field!r}, expected {case.field!r}")
                        missing = [w for w in case.says if w not in error.message]
                        # The UI and API show the preflight summary; the engine's own prefix differs.
                        if missing and not (
                            case.field == "image" and all(w in error.message for w in case.says[:1])
                        ):
                            problems.append(f"{case.name}: {error.message!r} lacks {missing}")
                    else:
                        problems.append(f"{case.name}: accepted as job {record.id}")
                if fake.requests:
                    problems.append(f"the provider received {len(fake.requests)} requests")
                if engine.history("alice", HistoryQuery(state=None)).items:
                    problems.append("refused jobs left rows in history")
                if list((tmp_path / "data" / "inputs").glob("*")):
                    problems.append("refused images were left in the inputs folder")
            finally:
                await engine.close()
        return problems

    problems = run_async(scenario)
    print(f"\nbad inputs tried through the engine: {len(requests)}")
    assert not problems, "\n".join(problems)
