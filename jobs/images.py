"""Image preflight: does a start image meet the model's rules, and if not, can it be fixed?

The providers reject images by size, sides, ratio and format, often only after the job
was queued. `preflight` finds every problem up front and says it in words; `fit_image`
and `prepare_input` (jobs/image_fit.py) repair the fixable ones. Odd files never crash it: an unknown
failure becomes an 'unreadable' issue.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from PIL import Image, UnidentifiedImageError

from providers.catalog import IMAGE_RULES, ImageRules

Rule = Literal[
    "unreadable",
    "not_image",
    "format",
    "bytes",
    "max_side",
    "min_side",
    "ratio",
    "animated",
    "cmyk",
    "alpha",
    "bit_depth",
    "bomb",
]

# Files beyond this are refused without decoding: even a fix would mean reading it all.
MAX_FILE_BYTES = 200 * 1024**2
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1", b"dash"}
ORIENTATION_TAG = 0x0112
# EXIF orientation -> (what the camera meant, the transpose that makes it upright).
ORIENTATIONS: dict[int, tuple[str, Image.Transpose]] = {
    2: ("mirror it left to right", Image.Transpose.FLIP_LEFT_RIGHT),
    3: ("rotate 180°", Image.Transpose.ROTATE_180),
    4: ("mirror it top to bottom", Image.Transpose.FLIP_TOP_BOTTOM),
    5: ("mirror it and rotate 90°", Image.Transpose.TRANSPOSE),
    6: ("rotate 90° clockwise", Image.Transpose.ROTATE_270),
    7: ("mirror it and rotate 90°", Image.Transpose.TRANSVERSE),
    8: ("rotate 90° counter-clockwise", Image.Transpose.ROTATE_90),
}


@dataclass(frozen=True)
class ImageIssue:
    """One broken rule. `message` names the problem and the limit in plain words."""

    rule: Rule
    message: str
    fixable: bool


@dataclass(frozen=True)
class PreflightReport:
    """What preflight found. `width`/`height` are as displayed (after EXIF rotation)."""

    ok: bool
    width: int | None
    height: int | None
    bytes: int
    format: str | None
    issues: tuple[ImageIssue, ...] = ()
    notes: tuple[str, ...] = ()
    # EXIF orientation (1 = as stored); the fit step and prepare_input apply it.
    orientation: int = 1
    limits: str = ""  # the rules in words, for the advice at the end of summary()
    frames: int = 1  # animation frames or pages; only the first is ever sent

    @property
    def fixable(self) -> bool:
        """Not ok, and 'Fit image' can repair every issue."""
        return not self.ok and all(issue.fixable for issue in self.issues)

    def summary(self) -> str:
        """A paragraph for a person, ending with what to do next."""
        notes = " ".join(self.notes)
        if self.ok:
            size = f"{self.width}×{self.height} {self.format}, {megabytes(self.bytes)}"
            return f"The image is ready: {size}. {notes}".strip()
        problems = " ".join(issue.message for issue in self.issues)
        if self.fixable:
            action = "Turn on 'Fit image' and the studio will fix this for you, or choose another image."
        else:
            limits = f" ({self.limits})" if self.limits else ""
            action = f"Choose another image{limits}."
        return " ".join(part for part in (problems, notes, action) if part)

    def has(self, rule: Rule) -> bool:
        return any(issue.rule == rule for issue in self.issues)


def megabytes(size: int) -> str:
    """Sizes the way the limits are written: decimal megabytes, one decimal."""
    if size >= 1_000_000_000:
        return f"{size / 1_000_000_000:.1f} GB"
    if size >= 100_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def ratio_text(long: int, short: int) -> str:
    """'4.2:1'; two decimals when one would round onto the limit (3.01 is not 3.0)."""
    value = long / short
    one = f"{value:.1f}"
    if abs(float(one) - value) > 1e-9 and float(one) in (2.0, 3.0, 4.0):
        return f"{value:.2f}:1"
    return f"{float(one):g}:1"


def pixel_limit() -> int:
    """Pillow's decompression-bomb threshold, read at call time (tests may lower it)."""
    return Image.MAX_IMAGE_PIXELS or 89_478_485


def _refused(size: int, fmt: str | None, rule: Rule, message: str) -> PreflightReport:
    return PreflightReport(False, None, None, size, fmt, (ImageIssue(rule, message, False),))


def _sniff(head: bytes, size: int) -> PreflightReport | None:
    """Kinds Pillow cannot open but a person may well pick, each with its own advice."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return _refused(size, "SVG", "format", "This is an SVG drawing; export it as PNG or JPEG.")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _HEIC_BRANDS or (brand in (b"mif1", b"msf1") and not compatible & {b"avif", b"avis"}):
            return _refused(
                size,
                "HEIC",
                "format",
                "HEIC photos aren't supported by the providers; export it as JPEG "
                "(on an iPhone: Settings › Camera › Formats › Most Compatible).",
            )
        if brand in _VIDEO_BRANDS:
            return _refused(
                size, None, "not_image", "This is a video file, not an image; choose a still image."
            )
    if head.startswith(b"%PDF"):
        return _refused(size, "PDF", "not_image", "This is a PDF document; export the page as PNG or JPEG.")
    return None


def _not_image(head: bytes) -> str:
    try:
        head.decode("utf-8")
        looks_like = "it contains text"
    except UnicodeDecodeError:
        looks_like = "its contents are not a picture format the studio can read"
    return f"This file is not an image: {looks_like}."


def _is_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR"


def _png_bit_depth(head: bytes) -> int | None:
    """Bit depth from the PNG header: Pillow silently reads 16-bit RGB as 8-bit."""
    return head[24] if _is_png(head) else None


def _png_size(head: bytes) -> tuple[int, int] | None:
    """The size a PNG claims, read from its header without decoding anything."""
    return (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) if _is_png(head) else None


def _bomb_pixels(exc: Exception) -> int | None:
    match = re.search(r"\((\d+) pixels\)", str(exc))
    return int(match.group(1)) if match else None


def _bomb_issue(pixels: int | None, size: tuple[int, int] | None = None) -> ImageIssue:
    claim = f"{size[0]}×{size[1]} px" if size else "enormous"
    count = f" ({pixels / 1e6:,.0f} megapixels)" if pixels else ""
    return ImageIssue(
        "bomb",
        f"The image claims to be {claim}{count}, more than the {pixel_limit() / 1e6:.0f} megapixels "
        "the studio will open: it may be a decompression bomb. Scale it down in an image editor first.",
        False,
    )


def has_transparency(image: Image.Image) -> bool:
    """True only if some pixel is actually see-through (an opaque alpha channel is harmless)."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        low = image.convert("RGBA").getchannel("A").getextrema()[0]
        return isinstance(low, (int, float)) and low < 255
    return False


def _rule_issues(report_bytes: int, fmt: str, width: int, height: int, rules: ImageRules) -> list[ImageIssue]:
    issues: list[ImageIssue] = []
    if fmt not in rules.formats:
        allowed = " or ".join(rules.formats)
        issues.append(
            ImageIssue("format", f"The image is in {fmt} format; the providers take {allowed} only.", True)
        )
    if report_bytes >= rules.max_bytes:
        issues.append(
            ImageIssue(
                "bytes",
                f"The image is {megabytes(report_bytes)}; the limit is {megabytes(rules.max_bytes)}.",
                True,
            )
        )
    long, short = max(width, height), min(width, height)
    if long > rules.max_side:
        issues.append(
            ImageIssue(
                "max_side",
                f"The image is {width}×{height} px; each side may be at most {rules.max_side} px.",
                True,
            )
        )
    if short < rules.min_side:
        issues.append(
            ImageIssue(
                "min_side",
                f"The image is {width}×{height} px; the shortest side must be at least {rules.min_side} px.",
                True,
            )
        )
    if short > 0 and long / short > rules.max_ratio:
        issues.append(
            ImageIssue(
                "ratio",
                f"The image is {ratio_text(long, short)} (long side to short side); "
                f"the limit is {rules.max_ratio:g}:1.",
                True,
            )
        )
    return issues


def preflight(path: Path, rules: ImageRules = IMAGE_RULES) -> PreflightReport:
    """Check `path` against `rules` without changing it. Never raises for a bad file.

    The pixel count is checked from the header before any decoding (decompression bombs);
    then the first frame is decoded so that truncated files and real transparency are found.
    """
    return inspect_image(path, rules)[0]


def inspect_image(
    path: Path, rules: ImageRules = IMAGE_RULES, *, keep_pixels: bool = False
) -> tuple[PreflightReport, Image.Image | None]:
    """`preflight`, plus (with `keep_pixels`) the decoded first frame as stored, when it
    was decoded at full size: fitting a big PNG then costs one decode, not two."""
    kept: list[Image.Image] | None = [] if keep_pixels else None
    try:
        report = _preflight(Path(path), rules, kept)
    except Exception as exc:  # the promise: any input gives a report, never a crash
        report = _refused(
            _size_or_zero(path),
            None,
            "unreadable",
            f"The studio could not read this image ({type(exc).__name__}: {exc}).",
        )
    return replace(report, limits=rules.describe()), (kept[0] if kept else None)


def _size_or_zero(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _preflight(path: Path, rules: ImageRules, kept: list[Image.Image] | None) -> PreflightReport:
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        return _refused(0, None, "unreadable", "The image file is missing; choose it again.")
    except OSError as exc:
        return _refused(0, None, "unreadable", f"The image file could not be opened ({exc.strerror}).")
    if size == 0:
        return _refused(0, None, "not_image", "The file is empty (0 bytes); choose an image.")
    sniffed = _sniff(head, size)
    if sniffed:
        return sniffed
    if size > MAX_FILE_BYTES:
        return _refused(
            size,
            None,
            "bytes",
            f"The file is {megabytes(size)}; the studio only opens images up to "
            f"{megabytes(MAX_FILE_BYTES)} and the providers take less than {megabytes(rules.max_bytes)}.",
        )
    with warnings.catch_warnings():
        # Pillow warns between 1x and 2x its limit; we apply the limit ourselves below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as exc:
            claimed = _png_size(head)
            issue = _bomb_issue(_bomb_pixels(exc), claimed)
            width, height = claimed or (None, None)
            return PreflightReport(False, width, height, size, "PNG" if claimed else None, (issue,))
        except UnidentifiedImageError:
            return _refused(size, None, "not_image", _not_image(head))
        with image:
            return _inspect(image, path, head, size, rules, kept)


def _inspect(
    image: Image.Image, path: Path, head: bytes, size: int, rules: ImageRules, kept: list[Image.Image] | None
) -> PreflightReport:
    # MPO is how Pillow names a camera JPEG with an extra preview frame: to a provider
    # it is an ordinary JPEG, and its second frame is not an animation.
    fmt = "JPEG" if image.format == "MPO" else (image.format or "unknown")
    width, height = image.size
    if width * height > pixel_limit():
        return PreflightReport(False, width, height, size, fmt, (_bomb_issue(width * height, image.size),))
    issues: list[ImageIssue] = []
    notes: list[str] = []
    frames = 1 if image.format == "MPO" else int(getattr(image, "n_frames", 1) or 1)
    mode = image.mode
    bit_depth = _png_bit_depth(head)
    if fmt == "JPEG":
        # Decoding at 1/8 scale still reads every byte (a truncated file fails) at a
        # fraction of the cost of a full decode.
        image.draft(mode, (max(1, width // 8), max(1, height // 8)))
    try:
        image.load()
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        what = "cut short (truncated)" if "truncat" in detail.lower() else "damaged"
        message = f"The image file is {what}: its picture data cannot be decoded ({detail}). "
        issue = ImageIssue("unreadable", message + "Export or download it again.", False)
        return PreflightReport(False, width, height, size, fmt, (issue,))
    if kept is not None and fmt != "JPEG":
        kept.append(image.copy())  # closing the file would free the decoded pixels
    orientation = 1
    try:
        orientation = int(image.getexif().get(ORIENTATION_TAG, 1) or 1)
    except Exception:  # a broken EXIF block must not hide an otherwise good picture
        notes.append("Its EXIF metadata is damaged and was ignored.")
    if orientation in ORIENTATIONS:
        meaning = ORIENTATIONS[orientation][0]
        notes.append(f"EXIF says {meaning}; the studio sends it upright.")
        if orientation in (5, 6, 7, 8):
            width, height = height, width
    else:
        orientation = 1
    if frames > 1:
        kind = "pages" if fmt == "TIFF" else "animation frames"
        issues.append(
            ImageIssue(
                "animated", f"The image has {frames} {kind}; a video starts from one still image.", True
            )
        )
    if mode == "CMYK":
        issues.append(
            ImageIssue("cmyk", "The image uses CMYK colours (a print format); the providers need RGB.", True)
        )
    if (bit_depth or 8) > 8 or mode.startswith("I") or mode == "F":
        issues.append(
            ImageIssue(
                "bit_depth",
                "The image uses 16 bits per channel (or more); the providers take 8-bit images.",
                True,
            )
        )
    if has_transparency(image):
        issues.append(
            ImageIssue("alpha", "The image has transparent areas; a video has no transparency.", True)
        )
    issues.extend(_rule_issues(size, fmt, width, height, rules))
    suffix = path.suffix.lower().lstrip(".")
    named = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}.get(suffix)
    if named and named != fmt:
        notes.append(f"The file is named .{suffix} but is really a {fmt}.")
    return PreflightReport(
        not issues,
        width,
        height,
        size,
        fmt,
        tuple(_ordered(issues)),
        tuple(notes),
        orientation,
        frames=frames,
    )


_ORDER: tuple[Rule, ...] = (
    "format",
    "animated",
    "bytes",
    "max_side",
    "min_side",
    "ratio",
    "cmyk",
    "alpha",
    "bit_depth",
)


def _ordered(issues: list[ImageIssue]) -> list[ImageIssue]:
    return sorted(issues, key=lambda issue: _ORDER.index(issue.rule) if issue.rule in _ORDER else 99)
