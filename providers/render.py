"""The simulator's renderer: a prompt card or a pan across a picture, encoded as real H.264 MP4.

Output is what the real providers send and what `gr.Video` plays without ffmpeg: libx264,
yuv420p, 24 fps, `+faststart`, exactly the requested number of frames. Pixels depend only on
the inputs and the seed (never on the clock or global random state), so a seed reproduces a
video, as it does with Dreamina.

Making a frame must cost far less than encoding it (the benchmark allows 1.3x a bare encode).
So every layer (background, text card, badge, labels) is drawn once with Pillow and numpy,
and a frame is only a few slice copies written straight into the encoder's YUV 4:2:0 planes:
no per-frame Pillow work and no per-frame RGB-to-YUV conversion. The image-to-video pan
converts and scales the picture once; each frame is a window copied out of it.

The encoder is providers/render_encode.py; the layers and chrome both renderers draw with
are providers/render_layers.py. av, numpy and Pillow are imported inside functions, so
`import providers.simulator` stays cheap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import render_layers as layers
from providers import render_text
from providers.render_encode import encode_frames, even, preview_size

if TYPE_CHECKING:
    import av
    import numpy as np

# Names callers use from here (the encoder and the drawing parts live apart).
__all__ = [
    "RENDER_VERSION",
    "encode_frames",
    "image_to_video_frames",
    "preview_size",
    "render_image_to_video",
    "render_text_to_video",
    "text_to_video_frames",
]

# Bump when the pixels of either renderer change: cached renders are keyed on it.
RENDER_VERSION = 3  # 3: image-to-video pans (no zoom)


# --- Text-to-video: a prompt card over a drifting, seed-coloured background -------------------


def render_text_to_video(
    prompt: str, *, width: int, height: int, frames: int, seed: int, dest: Path, fps: int = 24
) -> Path:
    """Render the prompt as an animated card, `frames` frames of `width`x`height`, to `dest`."""
    frames_drawn = text_to_video_frames(prompt, width=width, height=height, frames=frames, seed=seed, fps=fps)
    return encode_frames(frames_drawn, width=width, height=height, dest=dest, fps=fps)


def text_to_video_frames(
    prompt: str, *, width: int, height: int, frames: int, seed: int, fps: int = 24
) -> Iterator[av.VideoFrame]:
    """The frames render_text_to_video encodes, as yuv420p VideoFrames. Checks its arguments
    now; draws lazily, so the card is made on encode_frames' worker while x264 opens."""
    _check(width, height, frames)
    return _card_frames(prompt, width, height, frames, fps, seed)


def _card_frames(prompt: str, w: int, h: int, frames: int, fps: int, seed: int) -> Iterator[av.VideoFrame]:
    yield from _Card(prompt, w, h, frames, fps, seed).frames()


def _check(width: int, height: int, frames: int) -> None:
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise ValueError(f"video size must be even and at least 64x64, not {width}x{height}")
    if frames < 1:
        raise ValueError(f"frame count must be positive, not {frames}")


def _background(w: int, h: int, rng: random.Random, palette: list[Any]) -> list[np.ndarray]:
    """Y, U, V of a canvas a quarter larger than the frame: a gradient with soft glowing blobs.
    Frames are windows into it, so the background drifts at the cost of a copy. It is smooth,
    so it is drawn on a grid 8x coarser and scaled up: a millisecond, not fifty."""
    import av
    import numpy as np

    cw, ch = w + even(w / 4), h + even(h / 4)
    gw, gh = even(cw / 8) + 2, even(ch / 8) + 2
    yy, xx = np.ogrid[0:gh, 0:gw]
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)).astype(np.float32)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)
    c0, c1 = (np.array(c, np.float32) for c in palette[:2])
    rgb = c0 + ramp[..., None] * (c1 - c0)
    for _ in range(6):
        cx, cy, radius = rng.uniform(0, gw), rng.uniform(0, gh), rng.uniform(0.12, 0.3) * max(gw, gh)
        glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (radius * radius)).astype(np.float32)
        colour = np.array(palette[rng.choice((1, 2, 3))], np.float32)
        rgb += (rng.uniform(0.35, 0.7) * glow)[..., None] * (colour - rgb)
    luma, cb, cr = layers.yuv(rgb)
    coarse = av.VideoFrame(gw, gh, "yuv420p")
    for plane, values in zip(layers.planes(coarse), (luma, layers.half(cb), layers.half(cr)), strict=True):
        plane[...] = layers.to_u8(values)
    # swscale scales all three planes in one call, several times quicker than Pillow here.
    canvas = coarse.reformat(width=cw, height=ch, interpolation="BICUBIC")
    return [plane.copy() for plane in layers.planes(canvas)]


class _Card:
    """Every layer of a t2v frame, drawn once; `frames()` only copies slices."""

    def __init__(self, prompt: str, w: int, h: int, frames: int, fps: int, seed: int) -> None:
        import numpy as np
        from PIL import Image as PILImage
        from PIL import ImageDraw

        rng = random.Random(seed)
        palette = layers.palette(rng)
        self.size, self.count = (w, h), frames
        self.chrome = chrome = layers.Chrome(w, h, frames, fps, seed, palette[3])
        bright = _background(w, h, rng, palette)
        dark = [plane.copy() for plane in bright]
        for plane, s in zip(dark, (1, 2, 2), strict=True):
            layers.frost(plane, s)
        # The card and the bar's track are frosted glass: cut from a darkened copy of the
        # canvas, so a frame is copied from one canvas or the other and never recomputed.
        self.canvases = (bright, dark)
        sx, sy = rng.choice(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))
        self.pan = (sx, sy, 1 - sx, rng.choice((sy, 1 - sy)))
        unit = math.sqrt(w * h) / 480
        pad, card_w, room = even(14 * unit), w - 2 * even(w * 0.07), chrome.bottom - chrome.top
        text = " ".join(prompt.split()) or "(no prompt)"
        max_px, min_px = max(10, round(30 * unit)), max(8, round(11 * unit))
        font, lines, line_h = render_text.fit_text(text, card_w - 2 * pad, room - 2 * pad, max_px, min_px)
        card_h = max(2, min(room, even(len(lines) * line_h + 2 * pad)))
        x, y = (w - card_w) // 2 // 2 * 2, even(chrome.top + (room - card_h) / 2)
        layer = PILImage.new("L", (card_w, card_h))
        draw, top = ImageDraw.Draw(layer), (card_h - len(lines) * line_h + line_h) / 2
        for n, line in enumerate(lines):
            draw.text((card_w / 2, top + n * line_h), line, font=font, fill=255, anchor="mm")
        # White text on dark glass: max() is the blend, anti-aliased edges included.
        self.text = np.rint(np.asarray(layer, np.float32) * (235 / 255)).astype(np.uint8)
        self.card, self.rule_h = (x, y, card_w, card_h), even(max(2.0, 3 * unit))
        by = chrome.bar_y
        # (y0, y1, x0, x1, canvas), painted in order: the whole frame, then the glass over it.
        # All even, so the chroma rectangles are exact halves. Copying the card's pixels twice
        # costs less than cutting the frame into six bands (fewer numpy calls).
        self.rects = [(0, h, 0, w, 0), (y, y + card_h, x, x + card_w, 1), (by, h, 0, w, 1)]

    def frames(self) -> Iterator[av.VideoFrame]:
        import av
        import numpy as np

        (w, h), (x0, y0, x1, y1) = self.size, self.pan
        span_x, span_y = self.canvases[0][0].shape[1] - w, self.canvases[0][0].shape[0] - h
        cx, cy, cw, ch = self.card
        for i in range(self.count):
            ease = 0.5 - 0.5 * math.cos(math.pi * i / max(1, self.count - 1))
            ox, oy = round(span_x * (x0 + (x1 - x0) * ease)), round(span_y * (y0 + (y1 - y0) * ease))
            frame = av.VideoFrame(w, h, "yuv420p")
            planes = layers.planes(frame)
            for top, bottom, left, right, which in self.rects:
                # Chroma takes the luma offset halved: an odd offset shifts it by half a
                # chroma pixel, which a smooth background hides.
                for plane, source, s in zip(planes, self.canvases[which], (1, 2, 2), strict=True):
                    np.copyto(
                        plane[top // s : bottom // s, left // s : right // s],
                        source[(oy + top) // s : (oy + bottom) // s, (ox + left) // s : (ox + right) // s],
                    )
            card = planes[0][cy : cy + ch, cx : cx + cw]
            np.maximum(card, self.text, out=card)
            for plane, value, s in zip(planes, self.chrome.accent, (1, 2, 2), strict=True):
                plane[cy // s : (cy + self.rule_h) // s, cx // s : (cx + cw) // s] = value
            self.chrome.draw(i, planes, track=False)
            yield frame


# --- Image-to-video: a slow pan across the picture --------------------------------------------


def render_image_to_video(
    image: Path, *, width: int, height: int, frames: int, seed: int, dest: Path, fps: int = 24
) -> Path:
    """Animate `image` with a smooth pan whose direction comes from the seed.

    The image is centre-cropped to `width`:`height` if its ratio differs: pass
    `preview_size(*image size)` to keep all of it.
    """
    frames_drawn = image_to_video_frames(image, width=width, height=height, frames=frames, seed=seed, fps=fps)
    return encode_frames(frames_drawn, width=width, height=height, dest=dest, fps=fps)


def image_to_video_frames(
    image: Path, *, width: int, height: int, frames: int, seed: int, fps: int = 24
) -> Iterator[av.VideoFrame]:
    """The frames render_image_to_video encodes, as yuv420p VideoFrames. Checks its arguments
    now; loads the picture lazily, on encode_frames' worker while x264 opens."""
    _check(width, height, frames)
    return _pan(Path(image), width, height, frames, fps, seed)


# The picture is scaled once to this many times the output; frames are windows into it. A
# zoom would look livelier, but it needs a rescale per frame, and at preview sizes swscale
# costs about half an ultrafast x264 encode (BENCHMARKS.md, simulator): a pan is copies only.
_PAN_ROOM = 1.2
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # orientations that transpose the picture


def _load_source(path: Path, width: int, height: int) -> list[np.ndarray]:
    """Y, U, V of the image upright, centre-cropped to the output's ratio and scaled to
    _PAN_ROOM times the output's size (even sides). Converted to YUV once."""
    import av
    from PIL import Image as PILImage
    from PIL import ImageOps

    room_w, room_h = even(width * _PAN_ROOM), even(height * _PAN_ROOM)
    with PILImage.open(path) as opened:
        # JPEG: decode at 1/2, 1/4 or 1/8 scale when every side stays at least the room's:
        # several times faster than a full decode.
        need = (room_w, room_h)
        if opened.getexif().get(_EXIF_ORIENTATION, 1) in _QUARTER_TURNS:
            need = (room_h, room_w)  # stored sideways: exif_transpose swaps the sides
        opened.draft("RGB", need)
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    keep = min(upright.width / width, upright.height / height)
    crop_w, crop_h = round(width * keep), round(height * keep)
    left, top = (upright.width - crop_w) // 2, (upright.height - crop_h) // 2
    cropped = upright.crop((left, top, left + crop_w, top + crop_h))
    # AREA when shrinking (no aliasing); a picture smaller than the room is enlarged smoothly.
    interpolation = "AREA" if keep >= _PAN_ROOM else "BICUBIC"
    frame = av.VideoFrame.from_image(cropped).reformat(
        width=room_w, height=room_h, format="yuv420p", interpolation=interpolation
    )
    return [plane.copy() for plane in layers.planes(frame)]


def _half_pixel_phases(source: list[np.ndarray]) -> list[list[np.ndarray]]:
    """For each plane, four copies: as is, and shifted half a pixel right, down, and both
    (each pixel the rounded mean of its neighbours; the last row and column repeat). A window
    cut from the right copy at a whole-pixel offset is the picture at a half-pixel offset, so
    the pan moves in half-pixel steps and glides even where the easing makes it slow."""

    def mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a | b) - ((a ^ b) >> 1)  # rounded mean of uint8s without overflow

    def right(plane: np.ndarray) -> np.ndarray:
        out = plane.copy()
        out[:, :-1] = mean(plane[:, :-1], plane[:, 1:])
        return out

    def down(plane: np.ndarray) -> np.ndarray:
        out = plane.copy()
        out[:-1] = mean(plane[:-1], plane[1:])
        return out

    phases = []
    for plane in source:
        shifted = right(plane)
        phases.append([plane, shifted, down(plane), down(shifted)])
    return phases


def _pan(image: Path, w: int, h: int, frames: int, fps: int, seed: int) -> Iterator[av.VideoFrame]:
    """The pan's frames. A generator: the picture is loaded on encode_frames' worker while
    x264 opens."""
    import av
    import numpy as np

    phases = _half_pixel_phases(_load_source(image, w, h))
    rng = random.Random(seed)
    chrome = layers.Chrome(w, h, frames, fps, seed, layers.palette(rng)[3])
    angle = rng.randrange(8) * math.pi / 4
    # Anchors place the window in the room: 0 = left/top edge, 1 = right/bottom edge.
    ax0, ay0 = 0.5 - math.cos(angle) / 2, 0.5 - math.sin(angle) / 2
    ax1, ay1 = 1 - ax0, 1 - ay0
    room_h, room_w = phases[0][0].shape
    for i in range(frames):
        t = i / max(1, frames - 1)
        ease = t * t * (3 - 2 * t)
        # The window's offset in luma pixels; each plane takes it at its own resolution,
        # rounded to half a pixel of that plane.
        x = (ax0 + (ax1 - ax0) * ease) * (room_w - w)
        y = (ay0 + (ay1 - ay0) * ease) * (room_h - h)
        frame = av.VideoFrame(w, h, "yuv420p")
        planes = layers.planes(frame)
        for plane, copies, s in zip(planes, phases, (1, 2, 2), strict=True):
            left, half_x = divmod(round(2 * x / s), 2)
            top, half_y = divmod(round(2 * y / s), 2)
            rows, cols = plane.shape
            np.copyto(plane, copies[half_x + 2 * half_y][top : top + rows, left : left + cols])
        chrome.draw(i, planes, track=True)
        yield frame
