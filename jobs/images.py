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

from jobs.image_words import say
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
# EXIF orientation -> the transpose that makes it upright (its words: jobs/image_words.py).
ORIENTATIONS: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ImageIssue:
    """One broken rule. `message` names the problem and the limit in plain words (said
    through jobs/image_words.py, so a page can say it in its own language)."""

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
        return " ".join(self.sentences())

    def sentences(self) -> list[str]:
        """summary() sentence by sentence (each one of jobs/image_words.py's)."""
        if self.ok:
            ready = say("ready", width=self.width, height=self.height, fmt=self.format, size=megabytes(self.bytes))
            return [ready, *self.notes]
        if self.fixable:
            action = say("fix_action")
        else:
            action = say("choose_another.limits", limits=self.limits) if self.limits else say("choose_another")
        return [*(issue.message for issue in self.issues), *self.notes, action]

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
        return _refused(size, "SVG", "format", say("svg"))
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _HEIC_BRANDS or (brand in (b"mif1", b"msf1") and not compatible & {b"avif", b"avis"}):
            return _refused(size, "HEIC", "format", say("heic"))
        if brand in _VIDEO_BRANDS:
            return _refused(size, None, "not_image", say("video_file"))
    if head.startswith(b"%PDF"):
        return _refused(size, "PDF", "not_image", say("pdf"))
    return None


def _not_image(head: bytes) -> str:
    try:
        head.decode("utf-8")
        return say("not_image.text")
    except UnicodeDecodeError:
        return say("not_image.binary")


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
    code = "bomb" + (".size" if size else "") + (".count" if pixels else "")
    width, height = size or (0, 0)
    megapixels = f"{pixels / 1e6:,.0f}" if pixels else ""
    limit = f"{pixel_limit() / 1e6:.0f}"
    return ImageIssue("bomb", say(code, width=width, height=height, megapixels=megapixels, limit=limit), False)


def has_transparency(image: Image.Image) -> bool:
    """True only if some pixel is actually see-through (an opaque alpha channel is harmless)."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        low = image.convert("RGBA").getchannel("A").getextrema()[0]
        return isinstance(low, (int, float)) and low < 255
    return False


def _rule_issues(report_bytes: int, fmt: str, width: int, height: int, rules: ImageRules) -> list[ImageIssue]:
    issues: list[ImageIssue] = []
    if fmt not in rules.formats:
        issues.append(ImageIssue("format", say("format", fmt=fmt, allowed=" or ".join(rules.formats)), True))
    if report_bytes >= rules.max_bytes:
        words = say("bytes", size=megabytes(report_bytes), limit=megabytes(rules.max_bytes))
        issues.append(ImageIssue("bytes", words, True))
    long, short = max(width, height), min(width, height)
    if long > rules.max_side:
        words = say("max_side", width=width, height=height, max_side=rules.max_side)
        issues.append(ImageIssue("max_side", words, True))
    if short < rules.min_side:
        words = say("min_side", width=width, height=height, min_side=rules.min_side)
        issues.append(ImageIssue("min_side", words, True))
    if short > 0 and long / short > rules.max_ratio:
        words = say("ratio", ratio=ratio_text(long, short), limit=f"{rules.max_ratio:g}")
        issues.append(ImageIssue("ratio", words, True))
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
        return _refused(0, None, "unreadable", say("missing"))
    except OSError as exc:
        return _refused(0, None, "unreadable", say("unopenable", reason=exc.strerror))
    if size == 0:
        return _refused(0, None, "not_image", say("empty"))
    sniffed = _sniff(head, size)
    if sniffed:
        return sniffed
    if size > MAX_FILE_BYTES:
        words = say(
            "too_big_to_open",
            size=megabytes(size),
            open_limit=megabytes(MAX_FILE_BYTES),
            limit=megabytes(rules.max_bytes),
        )
        return _refused(size, None, "bytes", words)
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
        code = "truncated" if "truncat" in detail.lower() else "damaged"
        issue = ImageIssue("unreadable", say(code, detail=detail), False)
        return PreflightReport(False, width, height, size, fmt, (issue,))
    if kept is not None and fmt != "JPEG":
        kept.append(image.copy())  # closing the file would free the decoded pixels
    orientation = 1
    try:
        orientation = int(image.getexif().get(ORIENTATION_TAG, 1) or 1)
    except Exception:  # a broken EXIF block must not hide an otherwise good picture
        notes.append(say("exif_damaged"))
    if orientation in ORIENTATIONS:
        notes.append(say(f"exif.{orientation}"))
        if orientation in (5, 6, 7, 8):
            width, height = height, width
    else:
        orientation = 1
    if frames > 1:
        code = "animated.pages" if fmt == "TIFF" else "animated.frames"
        issues.append(ImageIssue("animated", say(code, frames=frames), True))
    if mode == "CMYK":
        issues.append(ImageIssue("cmyk", say("cmyk"), True))
    if (bit_depth or 8) > 8 or mode.startswith("I") or mode == "F":
        issues.append(ImageIssue("bit_depth", say("bit_depth"), True))
    if has_transparency(image):
        issues.append(ImageIssue("alpha", say("alpha"), True))
    issues.extend(_rule_issues(size, fmt, width, height, rules))
    suffix = path.suffix.lower().lstrip(".")
    named = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}.get(suffix)
    if named and named != fmt:
        notes.append(say("misnamed", suffix=suffix, fmt=fmt))
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
