"""Fit a start image to the model's rules, and prepare the file the engine sends.

Every change is reported in words ("Scaled down from 5000×3000 to 4096×2458"), so the
person sees what the provider will get. Encoding is budgeted: JPEG quality is estimated
from a sample of tiles, so a 16-megapixel image costs one or two full encodes, not ten.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from jobs.download import unguessable_name
from jobs.image_words import say
from jobs.images import ORIENTATIONS, PreflightReport, inspect_image, megabytes, preflight, ratio_text
from providers import atomic
from providers.base import ValidationError
from providers.catalog import ImageRules

FitMode = Literal["pad", "crop"]

# Formats whose pixels are exact: they stay PNG when a PNG fits the byte limit.
_LOSSLESS = frozenset({"PNG", "GIF", "BMP", "TIFF", "TGA", "PPM", "ICO", "QOI"})
# PNG encoding is slow (about 0.1 s per megapixel here); past this, JPEG it is.
_PNG_MAX_PIXELS = 4_200_000
_QUALITIES = (92, 88, 84, 80, 75, 70)  # below 70 a smaller picture looks better than a blockier one
_SCALE_QUALITY = 85
_EXACT_MAX_PIXELS = 1_500_000  # below this, encoding the whole image is as cheap as a sample
_TILE = 128
_GRID = 8
_BLACK = (0, 0, 0)
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class FitResult:
    """The file to send, what was changed to get it, and its (passing) preflight report."""

    path: Path
    changes: tuple[str, ...]
    report: PreflightReport


def _suffix(fmt: str) -> str:
    return ".jpg" if fmt == "JPEG" else ".png"


def _output_path(dest: Path, fmt: str) -> Path:
    """A folder gets a fresh unguessable name; a file path gets the right suffix."""
    if dest.is_dir():
        return dest / unguessable_name(_suffix(fmt))
    return dest.with_suffix(_suffix(fmt))


def _to_8bit_rgb(image: Image.Image, report: PreflightReport, changes: list[str]) -> Image.Image:
    """Whatever the mode, an 8-bit RGB picture, saying what that took."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        import numpy as np  # only high-bit-depth images need it

        values = np.asarray(image).astype(np.float32)
        # Integer modes hold 0..65535; float images have no fixed range, so stretch them.
        top = max(float(values.max()), 1e-6) if image.mode == "F" else 65535.0
        image = Image.fromarray(np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8), "L")
    if report.has("bit_depth"):
        changes.append(say("fit.bit_depth"))
    if image.mode == "CMYK":
        changes.append(say("fit.cmyk"))
        return image.convert("RGB")
    if report.has("alpha"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        changes.append(say("fit.alpha"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _final_size(width: int, height: int, rules: ImageRules) -> tuple[int, int]:
    """Scale (width, height) into the side limits, keeping the ratio within the limit
    even after rounding."""
    long, short = max(width, height), min(width, height)
    if long > rules.max_side:
        new_long = rules.max_side
        new_short = max(round(short * new_long / long), math.ceil(new_long / rules.max_ratio), rules.min_side)
    elif short < rules.min_side:
        new_short = rules.min_side
        new_long = min(
            round(long * new_short / short), math.floor(new_short * rules.max_ratio), rules.max_side
        )
    else:
        return width, height
    return (new_long, new_short) if width >= height else (new_short, new_long)


def _geometry(
    image: Image.Image, width: int, height: int, rules: ImageRules, mode: FitMode, changes: list[str]
) -> Image.Image:
    """Crop or pad to the ratio limit, then scale into the side limits, in one resample.

    `width`/`height` are the upright size before any draft decoding shrank `image`, so the
    words describe the original picture."""
    long, short = max(width, height), min(width, height)
    box = (0.0, 0.0, float(width), float(height))
    canvas = (width, height)
    if long / short > rules.max_ratio:
        ratio = ratio_text(long, short)
        if mode == "crop":
            keep = math.floor(short * rules.max_ratio)
            start = (long - keep) // 2  # whole pixels: a plain crop needs no resampling
            if width >= height:
                box = (float(start), 0.0, float(start + keep), float(height))
                canvas = (keep, height)
            else:
                box = (0.0, float(start), float(width), float(start + keep))
                canvas = (width, keep)
            changes.append(say("fit.cropped", limit=f"{rules.max_ratio:g}", ratio=ratio))
        else:
            grow = math.ceil(long / rules.max_ratio)
            canvas = (width, grow) if width >= height else (grow, height)
            changes.append(say("fit.padded", limit=f"{rules.max_ratio:g}", ratio=ratio))
    final = _final_size(*canvas, rules)
    if final != canvas:
        code = "fit.scaled_down" if final[0] < canvas[0] else "fit.scaled_up"
        changes.append(say(code, width=canvas[0], height=canvas[1], new_width=final[0], new_height=final[1]))
    # Map the box from original pixels onto the (possibly draft-reduced) decoded image.
    factor = image.width / width
    real_box = (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)
    if canvas == (width, height) or mode == "crop":
        if factor == 1 and final == canvas:
            return image if canvas == image.size else image.crop(box)
        return image.resize(final, Image.Resampling.LANCZOS, box=real_box, reducing_gap=3.0)
    scale = final[0] / canvas[0]
    content = (min(final[0], round(width * scale)), min(final[1], round(height * scale)))
    padded = Image.new("RGB", final, _BLACK)
    padded.paste(
        image.resize(content, Image.Resampling.LANCZOS, reducing_gap=3.0),
        ((final[0] - content[0]) // 2, (final[1] - content[1]) // 2),
    )
    return padded


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # optimize=False: Huffman optimisation costs a second pass for a few percent.
    image.save(buffer, "JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


def _sample(image: Image.Image) -> tuple[Image.Image, float]:
    """A mosaic of tiles spread over the image, and how many times larger the image is."""
    cols, rows = max(1, min(_GRID, image.width // _TILE)), max(1, min(_GRID, image.height // _TILE))
    mosaic = Image.new("RGB", (cols * _TILE, rows * _TILE))
    for row in range(rows):
        top = round(row * (image.height - _TILE) / max(rows - 1, 1))
        for col in range(cols):
            left = round(col * (image.width - _TILE) / max(cols - 1, 1))
            mosaic.paste(image.crop((left, top, left + _TILE, top + _TILE)), (col * _TILE, row * _TILE))
    return mosaic, (image.width * image.height) / (mosaic.width * mosaic.height)


def _jpeg_under(image: Image.Image, limit: int, min_side: int) -> tuple[bytes, int, Image.Image]:
    """The best-quality JPEG under `limit` bytes: (data, quality, the image encoded).

    Sizes are predicted from a tile sample (exact for small images); a prediction that
    turns out low corrects the rest. If even quality 70 is too big, the picture shrinks."""
    budget = limit * 0.96
    exact = image.width * image.height <= _EXACT_MAX_PIXELS
    sample, factor = (image, 1.0) if exact else _sample(image)
    correction = 1.0
    predicted = {}
    for quality in _QUALITIES:
        predicted[quality] = len(_jpeg(sample, quality)) * factor
        if predicted[quality] * correction > budget:
            continue
        data = _jpeg(image, quality)
        if len(data) < limit:
            return data, quality, image
        correction = len(data) / predicted[quality]
    # Too detailed for the byte limit at this size. JPEG size roughly follows the pixel
    # count, but resampling also smooths fine detail, so refine the scale on the sample.
    guess = predicted.get(_SCALE_QUALITY) or len(_jpeg(sample, _SCALE_QUALITY)) * factor
    scale = math.sqrt(budget * 0.95 / (guess * correction))
    for _ in range(3):
        size = (max(1, round(sample.width * scale)), max(1, round(sample.height * scale)))
        shrunk = len(_jpeg(sample.resize(size, Image.Resampling.LANCZOS), _SCALE_QUALITY))
        estimate = shrunk * (sample.width * sample.height) / (size[0] * size[1]) * factor * scale**2
        scale = min(1.0, scale * math.sqrt(budget * 0.95 / (estimate * correction)))
    for _ in range(6):
        shortest = min(image.width, image.height)
        scale = max(scale, min_side / shortest)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        smaller = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        data = _jpeg(smaller, _SCALE_QUALITY)
        if len(data) < limit:
            return data, _SCALE_QUALITY, smaller
        scale *= 0.85 * math.sqrt(limit / len(data))
    raise ValidationError("image", say("fit.cannot_compress"))


def _encode(
    image: Image.Image, report: PreflightReport, rules: ImageRules, changes: list[str]
) -> tuple[bytes, str]:
    source = report.format or "image"
    limit_text = megabytes(rules.max_bytes)
    too_big_as_png = False
    if source in _LOSSLESS and not report.has("bytes") and image.width * image.height <= _PNG_MAX_PIXELS:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=6)
        if buffer.tell() < rules.max_bytes:
            if source != "PNG":
                changes.append(say("fit.png", source=source))
            return buffer.getvalue(), "PNG"
        too_big_as_png = True
    before = image.size
    data, quality, encoded = _jpeg_under(image, rules.max_bytes, rules.min_side)
    if encoded.size != before:
        sizes = {"width": before[0], "height": before[1], "new_width": encoded.width, "new_height": encoded.height}
        changes.append(say("fit.shrunk_for_bytes", **sizes, limit=limit_text))
    if report.has("bytes") or too_big_as_png:
        changes.append(say("fit.reencoded", quality=quality, limit=limit_text))
    elif source != "JPEG":
        changes.append(say("fit.jpeg_from", source=source, quality=quality))
    else:
        changes.append(say("fit.jpeg", quality=quality))
    return data, "JPEG"


def _draft_size(report: PreflightReport, rules: ImageRules, mode: FitMode) -> tuple[int, int] | None:
    """The smallest size a JPEG may be decoded at and still give full detail after the
    scale-down (libjpeg then skips most of the work)."""
    assert report.width and report.height
    long, short = max(report.width, report.height), min(report.width, report.height)
    if mode == "crop":
        long = min(long, math.floor(short * rules.max_ratio))
    if long <= rules.max_side * 2:
        return None
    scale = rules.max_side / long
    return math.ceil(report.width * scale), math.ceil(report.height * scale)


def _decode(path: Path, report: PreflightReport, rules: ImageRules, mode: FitMode) -> Image.Image:
    """The first frame, decoded; a JPEG that will shrink a lot is decoded small."""
    with Image.open(path) as opened:
        opened.seek(0)
        draft = _draft_size(report, rules, mode) if report.format == "JPEG" else None
        if draft:
            # Draft sizes are in stored orientation; the scale is uniform, so swap is harmless.
            stored = draft if report.orientation in (1, 2, 3, 4) else (draft[1], draft[0])
            opened.draft(opened.mode, stored)
        opened.load()
        return opened.copy()


def _fit(
    path: Path,
    report: PreflightReport,
    rules: ImageRules,
    dest: Path,
    mode: FitMode,
    decoded: Image.Image | None = None,
) -> FitResult:
    changes: list[str] = []
    assert report.width and report.height
    image = decoded if decoded is not None else _decode(path, report, rules, mode)
    if report.has("animated"):
        code = "fit.first_page" if report.format == "TIFF" else "fit.first_frame"
        changes.append(say(code, frames=report.frames))
    if report.orientation in ORIENTATIONS:
        image = image.transpose(ORIENTATIONS[report.orientation])
        changes.append(say(f"fit.upright.{report.orientation}"))
    image = _to_8bit_rgb(image, report, changes)
    image = _geometry(image, report.width, report.height, rules, mode, changes)
    data, fmt = _encode(image, report, rules, changes)
    target = _output_path(dest, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(target, data, "none")  # submitted at once; a lost one fails that submit
    fitted = preflight(target, rules)
    if not fitted.ok:  # a bug, not the person's fault: say so rather than send a bad file
        target.unlink(missing_ok=True)
        raise ValidationError("image", f"The studio could not fit this image: {fitted.summary()}")
    return FitResult(target, tuple(changes), fitted)


def _is_multi_picture(path: Path) -> bool:
    """A phone JPEG carrying a second, preview picture (Pillow says MPO). Providers that
    read the container see MPO, not JPEG, and refuse it; re-encoding drops the extra picture."""
    try:
        with Image.open(path) as image:
            return image.format == "MPO"
    except Exception:
        return False


def _copy(path: Path, report: PreflightReport, rules: ImageRules, dest: Path) -> FitResult:
    target = _output_path(dest, report.format or "PNG")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic.copy_file(path, target, "none")
    return FitResult(target, (), preflight(target, rules))


def fit_image(
    path: Path, rules: ImageRules, dest: Path, *, mode: Literal["pad", "crop"] = "crop"
) -> FitResult:
    """Make an image the providers accept, and say what was changed.

    `dest` is a folder (the file gets an unguessable name) or a file path (its suffix is
    set to the format chosen: .jpg or .png). `mode` decides how an image wider than the
    ratio limit is fixed: crop the middle, or pad with black bars. An image that is
    already fine is copied unchanged, unless its EXIF orientation has to be applied.
    Raises ValidationError('image', ...) for an image that cannot be fixed.
    """
    report, decoded = inspect_image(path, rules, keep_pixels=True)
    if report.ok and report.orientation == 1:
        return _copy(path, report, rules, dest)
    if not report.ok and not report.fixable:
        raise ValidationError("image", report.summary(), code="image_report", report=report, summary=report.summary())
    return _fit(path, report, rules, dest, mode, decoded)


def prepare_input(path: Path, rules: ImageRules, inputs_dir: Path, *, fit: bool) -> FitResult:
    """The image the engine will send, saved in `inputs_dir` under an unguessable name.

    A passing image is copied as it is (turned upright if its EXIF orientation says so,
    because not every provider honours the tag); a failing one is fitted when `fit` is on
    and every issue is fixable. Otherwise raises ValidationError('image', summary).
    """
    inputs_dir.mkdir(parents=True, exist_ok=True)
    report, decoded = inspect_image(path, rules, keep_pixels=fit)
    multi_picture = _is_multi_picture(path)
    if report.ok and report.orientation == 1 and not multi_picture:
        return _copy(path, report, rules, inputs_dir)
    if report.ok or (fit and report.fixable):
        result = _fit(path, report, rules, inputs_dir, "crop", decoded)
        if multi_picture:
            note = say("fit.mpo")
            result = FitResult(result.path, (*result.changes, note), result.report)
        return result
    raise ValidationError("image", report.summary(), code="image_report", report=report, summary=report.summary())


def planned_changes(path: Path, rules: ImageRules) -> tuple[str, ...]:
    """What 'Fit image' would change in this image, in words, before anything is sent: the
    same fit a submit makes, into a scratch folder that is then removed. Empty when the image
    passes as it is; raises ValidationError when fitting cannot help."""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="dreamina-fit-plan-"))
    try:
        return prepare_input(path, rules, scratch, fit=True).changes
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
