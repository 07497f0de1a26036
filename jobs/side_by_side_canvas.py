"""What the side-by-side video draws besides the members' pictures: the background, each
member's caption, and the dimmed "ended" picture of a member that finished early.

All of it is drawn once per render with Pillow and the simulator's fonts
(providers/render_text.py, CJK-capable) and converted to YUV once; a frame only copies
pictures into the canvas (jobs/side_by_side.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from jobs.grid import Cell, Grid, even
from providers import render_text

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image

BACKGROUND = (16, 16, 20)
CAPTION_BACKGROUND = (30, 30, 36)
TITLE_COLOUR, DETAIL_COLOUR = (255, 255, 255), (200, 200, 210)
ENDED_BRIGHTNESS = 0.35


class Captioned(Protocol):
    def lines(self) -> tuple[str, str]: ...


def caption_style(height: int) -> tuple[int, int, int, int]:
    """(title px, detail px, padding, strip height) under a picture `height` tall: text
    about 5% of the picture's height, readable from 12 px up, never shouting past 32 px."""
    title = max(12, min(32, round(height * 0.05)))
    detail = max(11, round(title * 0.82))
    pad = max(4, title // 2)
    return title, detail, pad, even(2 * pad + round(1.3 * title) + round(1.3 * detail))


def draw_canvas(grid: Grid, labels: Sequence[Captioned]) -> np.ndarray:
    """The background and every caption as one I420 array (height * 3/2, width), the layout
    PyAV uses for yuv420p. The pictures' areas are left for the frames to fill."""
    import av
    from PIL import Image as PILImage
    from PIL import ImageDraw

    image = PILImage.new("RGB", (grid.width, grid.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for cell, label in zip(grid.cells, labels, strict=True):
        left, top, right, bottom = cell.caption_box
        draw.rectangle((left, top, right - 1, bottom - 1), fill=CAPTION_BACKGROUND)
        title_px, detail_px, pad, _ = caption_style(cell.height)
        title, details = label.lines()
        lines = (
            (title, title_px, top + pad + round(0.65 * title_px), TITLE_COLOUR),
            (details, detail_px, bottom - pad - round(0.65 * detail_px), DETAIL_COLOUR),
        )
        for text, px, middle, colour in lines:
            if text:
                font, fitted = fit_line(text, px, cell.width - 2 * pad)
                draw.text((left + pad, middle), fitted, font=font, fill=colour, anchor="lm")
    return av.VideoFrame.from_image(image).reformat(format="yuv420p").to_ndarray()


def fit_line(text: str, px: int, width: int) -> tuple[Any, str]:
    """A font and the text for one line `width` px wide: at `px`, or smaller (down to 70%)
    if that makes it fit, else cut with an ellipsis. Text width grows in proportion to the
    font size, so the size that fits is computed, not searched (loading a font costs ms)."""
    font = render_text.font_for(px, text)
    length = font.getlength(text)
    if length <= width:
        return font, text
    smallest = max(8, round(px * 0.7))
    size = max(smallest, int(px * width / length))
    font = render_text.font_for(size, text)
    while font.getlength(text) > width and size > smallest:  # glyph metrics round
        size -= 1
        font = render_text.font_for(size, text)
    if font.getlength(text) <= width:
        return font, text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return font, text.rstrip() + "…"


def ended_picture(picture: av.VideoFrame, cell: Cell) -> av.VideoFrame:
    """A member's last picture, dimmed, with "ended" in its middle (yuv420p, cell-sized)."""
    import av
    from PIL import ImageEnhance

    image: Image.Image = ImageEnhance.Brightness(picture.to_image()).enhance(ENDED_BRIGHTNESS)
    mark = render_text.label("ended", max(12, round(cell.height * 0.07)))
    image.paste(mark, ((image.width - mark.width) // 2, (image.height - mark.height) // 2), mark)
    return av.VideoFrame.from_image(image).reformat(format="yuv420p")


def i420_views(i420: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, U and V of an I420 array as writable 2-D views into it. (A chroma plane need not
    start on a row of the array: with a height that is not a multiple of 4 it does not.)"""
    flat = i420.reshape(-1)
    luma, chroma = width * height, width * height // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def plane_views(frame: av.VideoFrame) -> list[np.ndarray]:
    """Numpy views of a yuv420p frame's Y, U and V planes, without their row padding."""
    import numpy as np

    return [
        np.frombuffer(memoryview(p), np.uint8).reshape(-1, p.line_size)[: p.height, : p.width]
        for p in frame.planes
    ]
