"""What both simulator renderers draw with, in a yuv420p frame's own planes: the seed's
palette, BT.601 conversion, RGBA overlays premultiplied once (`Layers`) and blended by slice
copies (`Sprite`), and the chrome on top of every frame (badge, seed, clock, progress bar).

Everything is drawn once per render with Pillow and numpy; a frame is only slice copies.
numpy is imported inside functions, so importing this stays cheap.
"""

from __future__ import annotations

import colorsys
import functools
import math
import random
from typing import TYPE_CHECKING, Any

from providers import render_text
from providers.render_encode import even

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image

BADGE_TEXT = "SIMULATED · Dreamina 3.0"


def palette(rng: random.Random) -> list[tuple[float, float, float]]:
    """Four RGB colours (0..255) around a seed-chosen hue; the last, bright one is the accent."""
    hue, spread = rng.random(), rng.choice((0.08, 0.33, 0.5))
    hsv = [(hue, 0.8, 0.42), (hue + spread, 0.7, 0.72), (hue - spread / 2, 0.55, 0.95)]
    hsv.append((hue + 0.5, 0.55, 1.0))
    return [tuple(255 * c for c in colorsys.hsv_to_rgb(h % 1.0, s, v)) for h, s, v in hsv]  # type: ignore[misc]


def yuv(rgb: Any) -> tuple[Any, Any, Any]:
    """BT.601 limited-range Y, Cb, Cr (floats) of RGB (0..255): what swscale and players assume."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return y, cb, cr


def half(plane: np.ndarray) -> np.ndarray:
    """2x2 mean: a full-resolution plane down to 4:2:0 chroma resolution."""
    return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4


def to_u8(plane: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable numpy views of a yuv420p frame's Y, U and V planes (rows may be padded)."""
    import numpy as np

    views = [
        np.frombuffer(memoryview(p), np.uint8).reshape(-1, p.line_size)[: p.height, : p.width]
        for p in frame.planes
    ]
    return views[0], views[1], views[2]


class Sprite:
    """A small overlay, premultiplied in YUV, blended at an even position, clipped to a frame
    of `size`. Where it lands is worked out once: a frame is drawn 121 times."""

    def __init__(self, layers: Layers, x: int, y: int, size: tuple[int, int]) -> None:
        self.x, self.y = x, y = max(0, x - x % 2), max(0, y - y % 2)
        self.width, self.height = layers.width, layers.height
        self.parts = []
        for colour, inverse, s in zip(layers.colour, layers.inverse, (1, 2, 2), strict=True):
            rows = max(0, min(colour.shape[0], size[1] // s - y // s))
            cols = max(0, min(colour.shape[1], size[0] // s - x // s))
            where = (slice(y // s, y // s + rows), slice(x // s, x // s + cols))
            self.parts.append((where, colour[:rows, :cols], inverse[:rows, :cols]))

    def draw(self, planes: tuple[np.ndarray, ...]) -> None:
        for plane, (where, colour, inverse) in zip(planes, self.parts, strict=True):
            dst = plane[where]
            dst[...] = (colour + dst * inverse) >> 8


class Layers:
    """An RGBA image as what a blend needs: premultiplied Y, U, V and 256 - alpha, x256 in
    uint16, so a blend is a multiply-add and a shift. Read-only once made (some are cached
    and shared between render threads)."""

    def __init__(self, image: Image.Image) -> None:
        import numpy as np

        if image.width % 2 or image.height % 2:
            image = image.crop((0, 0, image.width + image.width % 2, image.height + image.height % 2))
        rgba = np.asarray(image.convert("RGBA"), np.float32)
        alpha = rgba[..., 3] / 255
        luma, cb, cr = yuv(rgba[..., :3])
        self.width, self.height = image.width, image.height
        # Chroma is averaged after premultiplying, so the 2x2 mean of the blend stays exact.
        self.colour = [
            np.rint(p * 256).astype(np.uint16) for p in (luma * alpha, half(cb * alpha), half(cr * alpha))
        ]
        self.inverse = [np.rint(256 - a * 256).astype(np.uint16) for a in (alpha, half(alpha), half(alpha))]
        for array in (*self.colour, *self.inverse):
            array.flags.writeable = False


@functools.lru_cache(maxsize=256)
def clock_label(text: str, px: int) -> Layers:
    """A clock label's layers, made once per process: "0:03 / 0:05" recurs in every render
    of that length, and drawing text with FreeType costs more than a whole frame. (The badge
    and the seed label depend on the seed, so they are drawn every time.)"""
    return Layers(render_text.label(text, px))


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


class Chrome:
    """What both renderers draw on top: the SIMULATED badge, the seed, the time and a bar."""

    def __init__(
        self, width: int, height: int, frames: int, fps: int, seed: int, accent: tuple[float, ...]
    ) -> None:
        import numpy as np

        unit = math.sqrt(width * height) / 480
        margin, px = even(10 * unit), max(8, round(12 * unit))
        self.width, self.frames, self.fps = width, frames, fps
        self.bar_y = height - even(max(2.0, 5 * unit))
        size = (width, height)
        self.badge = Sprite(Layers(render_text.label(BADGE_TEXT, px, dot=accent)), margin, margin, size)
        total = (frames - 1) / fps
        stamps = [clock_label(f"{clock(s)} / {clock(total)}", px) for s in range(int(total) + 1)]
        label_y = self.bar_y - even(4 * unit) - stamps[0].height
        self.times = [Sprite(layers, width - margin - layers.width, label_y, size) for layers in stamps]
        self.seed = Sprite(Layers(render_text.label(f"seed {seed}", px)), margin, label_y, size)
        self.accent = [round(float(c)) for c in yuv(np.array(accent, np.float32))]
        self.top, self.bottom = self.badge.y + self.badge.height + margin, label_y - margin

    def draw(self, index: int, planes: tuple[np.ndarray, ...], *, track: bool) -> None:
        """Draw frame `index`'s chrome; `track` darkens the bar's row (unless done already)."""
        self.badge.draw(planes)
        self.seed.draw(planes)
        self.times[min(index // self.fps, len(self.times) - 1)].draw(planes)
        done = self.width if self.frames < 2 else even(self.width * index / (self.frames - 1))
        for plane, value, s in zip(planes, self.accent, (1, 2, 2), strict=True):
            bar = plane[self.bar_y // s :]
            if track:
                frost(bar, s)
            bar[:, : done // s] = value


def frost(plane: np.ndarray, step: int) -> None:
    """Frosted glass, in place: luma halved (darker), chroma quartered (greyer). Shifts and
    adds on uint8, so the background shows through at almost no cost."""
    import numpy as np

    np.right_shift(plane, 1 if step == 1 else 2, out=plane)
    np.add(plane, 8 if step == 1 else 96, out=plane)
