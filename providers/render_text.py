"""Text for the simulator's frames: fonts found on this machine, word wrap, fitted text, labels.

Drawn once per render with Pillow (never per frame); see providers/render.py.
"""

from __future__ import annotations

import math
import os
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image, ImageFont

FONT_FILES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf", "Arial.ttf")
CJK_FONT_FILES = (
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "wqy-microhei.ttc",
    "DroidSansFallbackFull.ttf",
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")


@cache
def font_path(names: tuple[str, ...]) -> str | None:
    """The first of `names` installed on this machine (searched once per process)."""
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        for folder, _dirs, files in os.walk(root):
            for name in set(names) & set(files):
                found.setdefault(name, os.path.join(folder, name))
    return next((found[name] for name in names if name in found), None)


def font_for(px: int, text: str) -> ImageFont.FreeTypeFont:
    """A bold sans font at `px` pixels; a CJK font for CJK text when one is installed;
    Pillow's built-in font on a machine with none (slim containers)."""
    from PIL import ImageFont

    cjk = any(
        0x2E80 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7AF or 0xF900 <= ord(c) <= 0xFFEF for c in text
    )
    path = font_path(CJK_FONT_FILES + FONT_FILES if cjk else FONT_FILES)
    if path:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            pass
    return ImageFont.load_default(size=px)  # type: ignore[return-value]


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap; a word wider than a line (a URL, CJK without spaces) breaks anywhere.

    Each word is measured once and a line's width is the sum of its words and spaces: much
    quicker than measuring every candidate line, and the same but for kerning across a space."""
    lines: list[str] = []
    line, used = "", 0.0
    space = font.getlength(" ")
    for word in text.split():
        size = font.getlength(word)
        if line and used + space + size <= width:
            line, used = f"{line} {word}", used + space + size
            continue
        if line:
            lines.append(line)
        if size <= width:
            line, used = word, size
            continue
        line = ""
        for char in word:
            if line and font.getlength(line + char) > width:
                lines.append(line)
                line = ""
            line += char
        used = font.getlength(line)
    return [*lines, line] if line else lines


def fit_text(text: str, box_w: int, box_h: int, max_px: int, min_px: int) -> tuple[Any, list[str], int]:
    """The largest font size at which the text fits the box, down to `min_px`; below that,
    as many lines as fit, the last one ending in an ellipsis."""
    px = max_px
    while True:
        font, line_h = font_for(px, text), round(px * 1.3)
        lines = wrap(text, font, box_w)
        if len(lines) * line_h <= box_h or px <= min_px:
            break
        px = max(min_px, int(px * 0.9))
    keep = max(1, box_h // line_h)
    if len(lines) > keep:
        last = lines[keep - 1]
        while last and font.getlength(last + "…") > box_w:
            last = last[:-1]
        lines = [*lines[: keep - 1], last.rstrip() + "…"]
    return font, lines, line_h


def label(text: str, px: int, dot: tuple[float, ...] | None = None) -> Image.Image:
    """White text with a soft shadow, legible on any background; or, given a `dot` colour,
    on a dark pill after a coloured dot (the badge)."""
    from PIL import ImageDraw

    if dot is None:
        return _draw_label(text, px, pill=False)
    # The pill and its text are the same for every seed; only the dot's colour changes.
    image = _pill(text, px).copy()
    pad, r, mid = px // 2, max(2, px // 4), image.height / 2
    ImageDraw.Draw(image).ellipse((pad, mid - r, pad + 2 * r, mid + r), fill=(*(round(c) for c in dot), 255))
    return image


@lru_cache(maxsize=16)
def _pill(text: str, px: int) -> Image.Image:
    """Made once per process (never handed out: callers get a copy)."""
    return _draw_label(text, px, pill=True)


def _draw_label(text: str, px: int, *, pill: bool) -> Image.Image:
    from PIL import Image as PILImage
    from PIL import ImageDraw

    font = font_for(px, text)
    pad = px // 2 if pill else 1
    indent = px // 2 + pad if pill else 0
    image = PILImage.new("RGBA", (math.ceil(font.getlength(text)) + 2 * pad + indent + 1, round(px * 1.6)))
    draw, mid = ImageDraw.Draw(image), image.height / 2
    if pill:
        draw.rounded_rectangle(
            (0, 0, image.width - 1, image.height - 1), image.height // 2, fill=(0, 0, 0, 165)
        )
    else:
        draw.text((pad + 1, mid + 1), text, font=font, fill=(0, 0, 0, 170), anchor="lm")
    draw.text((pad + indent, mid), text, font=font, fill=(255, 255, 255, 255), anchor="lm")
    return image
