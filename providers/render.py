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

av, numpy and Pillow are imported inside functions, so `import providers.simulator` stays cheap.
"""

from __future__ import annotations

import colorsys
import functools
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import atomic, render_text

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image

# Bump when the pixels of either renderer change: cached renders are keyed on it.
RENDER_VERSION = 3  # 3: image-to-video pans (no zoom)
BADGE_TEXT = "SIMULATED · Dreamina 3.0"
# ultrafast is about 3x quicker than veryfast here and still crisp at preview sizes;
# a 2-second GOP keeps scrubbing in the browser responsive.
_X264_OPTIONS = {"preset": "ultrafast", "crf": "23"}
_GOP_SECONDS = 2


def preview_size(width: int, height: int, max_side: int = 640) -> tuple[int, int]:
    """A reduced size with exactly the aspect ratio of `width`x`height`, both sides even.

    The largest even multiple of the reduced ratio whose long side is at most `max_side` and
    that does not upscale (1920x1088 -> 600x340, 1456x624 -> 630x270), which is at least as
    large as any integer divisor of both sides. A ratio too odd for that (1001x667) is kept
    as closely as even sides allow.
    """
    if min(width, height) < 2 or max_side < 2:
        raise ValueError(f"cannot make a preview of {width}x{height} within {max_side} px")
    g = math.gcd(width, height)
    a, b = width // g, height // g
    # gcd(a, b) == 1, so one of them is odd and the multiplier must be even.
    k = min(2 * (max_side // (2 * max(a, b))), g - g % 2)
    if k >= 2:
        return a * k, b * k
    scale = min(1.0, max_side / max(width, height))
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def encode_frames(
    frames: Iterable[np.ndarray | Image.Image | av.VideoFrame],
    *,
    width: int,
    height: int,
    dest: Path,
    fps: int = 24,
    x264_options: Mapping[str, str] | None = None,
    gop_seconds: int = _GOP_SECONDS,
) -> Path:
    """Encode frames to an H.264 yuv420p MP4 at `dest`, written atomically; returns `dest`.

    A frame is an RGB array (H, W, 3), an I420 array (H*3/2, W) as PyAV lays out yuv420p, a
    Pillow image, or an av.VideoFrame. Every frame must be `width`x`height`. `frames` is
    iterated on a worker thread from the start, so a lazy generator's setup (fonts, the
    picture) runs while x264 opens. `x264_options` (libx264's private
    options, e.g. {"preset": "veryfast", "crf": "20"}) default to the simulator's quick
    ones; a key frame comes every `gop_seconds`.
    """
    from fractions import Fraction

    import av

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = atomic.temp_beside(dest)
    count = 0
    try:
        with (
            _FramesAhead(frames, width, height) as drawn,
            av.open(str(part), mode="w", format="mp4", options={"movflags": "+faststart"}) as container,
        ):
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.gop_size = fps * gop_seconds
            stream.codec_context.thread_count = 0  # x264 picks the thread count
            stream.options = dict(_X264_OPTIONS if x264_options is None else x264_options)
            stream.codec_context.open()  # now, while the first frames are drawn
            time_base = Fraction(1, fps)
            for frame in drawn:
                frame.pts, frame.time_base = count, time_base
                container.mux(stream.encode(frame))
                count += 1
            if count == 0:
                raise ValueError("no frames to encode")
            container.mux(stream.encode(None))
        atomic.commit(part, dest, "file")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest


class _FramesAhead:
    """The frames as VideoFrames, drawn on a worker thread while the caller encodes earlier ones.

    Drawing (numpy copies) and x264 both release the GIL, so with two cores a frame is drawn
    while the one before it is encoded (bench/simulator.py); the order, and so the video, is
    unchanged. Drawing starts when this is made. An error while drawing is raised to the
    caller; leaving the `with` block early stops the worker too.
    """

    _END = object()

    def __init__(self, frames: Iterable[Any], width: int, height: int, depth: int = 4) -> None:
        import queue
        import threading

        self._frames, self._size = frames, (width, height)
        self._ready: queue.Queue[Any] = queue.Queue(depth)
        self._stop = threading.Event()
        self._failure: list[BaseException] = []
        self._worker = threading.Thread(target=self._draw, name="render-frames", daemon=True)
        self._worker.start()

    def _hand_over(self, item: Any) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _draw(self) -> None:
        try:
            for item in self._frames:
                if not self._hand_over(_video_frame(item, *self._size)):
                    return
        except BaseException as exc:  # handed to the encoding thread, which raises it
            self._failure.append(exc)
        finally:
            self._hand_over(self._END)

    def __iter__(self) -> Iterator[av.VideoFrame]:
        while (frame := self._ready.get()) is not self._END:
            yield frame
        if self._failure:
            raise self._failure[0]

    def __enter__(self) -> _FramesAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._worker.join()


def _video_frame(item: Any, width: int, height: int) -> av.VideoFrame:
    import av
    import numpy as np

    if isinstance(item, av.VideoFrame):
        frame = item
    elif isinstance(item, np.ndarray):
        frame = av.VideoFrame.from_ndarray(item, format="rgb24" if item.ndim == 3 else "yuv420p")
    else:
        frame = av.VideoFrame.from_image(item.convert("RGB"))
    if (frame.width, frame.height) != (width, height):
        raise ValueError(f"frame is {frame.width}x{frame.height}, the video is {width}x{height}")
    return frame


# --- Colour, sprites and labels -------------------------------------------------------------


def _palette(rng: random.Random) -> list[tuple[float, float, float]]:
    """Four RGB colours (0..255) around a seed-chosen hue; the last, bright one is the accent."""
    hue, spread = rng.random(), rng.choice((0.08, 0.33, 0.5))
    hsv = [(hue, 0.8, 0.42), (hue + spread, 0.7, 0.72), (hue - spread / 2, 0.55, 0.95)]
    hsv.append((hue + 0.5, 0.55, 1.0))
    return [tuple(255 * c for c in colorsys.hsv_to_rgb(h % 1.0, s, v)) for h, s, v in hsv]  # type: ignore[misc]


def _yuv(rgb: Any) -> tuple[Any, Any, Any]:
    """BT.601 limited-range Y, Cb, Cr (floats) of RGB (0..255): what swscale and players assume."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return y, cb, cr


def _half(plane: np.ndarray) -> np.ndarray:
    """2x2 mean: a full-resolution plane down to 4:2:0 chroma resolution."""
    return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4


def _u8(plane: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def _planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable numpy views of a yuv420p frame's Y, U and V planes (rows may be padded)."""
    import numpy as np

    views = [
        np.frombuffer(memoryview(p), np.uint8).reshape(-1, p.line_size)[: p.height, : p.width]
        for p in frame.planes
    ]
    return views[0], views[1], views[2]


class _Sprite:
    """A small overlay, premultiplied in YUV, blended at an even position, clipped to a frame
    of `size`. Where it lands is worked out once: a frame is drawn 121 times."""

    def __init__(self, layers: _Layers, x: int, y: int, size: tuple[int, int]) -> None:
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


class _Layers:
    """An RGBA image as what a blend needs: premultiplied Y, U, V and 256 - alpha, x256 in
    uint16, so a blend is a multiply-add and a shift. Read-only once made (some are cached
    and shared between render threads)."""

    def __init__(self, image: Image.Image) -> None:
        import numpy as np

        if image.width % 2 or image.height % 2:
            image = image.crop((0, 0, image.width + image.width % 2, image.height + image.height % 2))
        rgba = np.asarray(image.convert("RGBA"), np.float32)
        alpha = rgba[..., 3] / 255
        luma, cb, cr = _yuv(rgba[..., :3])
        self.width, self.height = image.width, image.height
        # Chroma is averaged after premultiplying, so the 2x2 mean of the blend stays exact.
        self.colour = [
            np.rint(p * 256).astype(np.uint16) for p in (luma * alpha, _half(cb * alpha), _half(cr * alpha))
        ]
        self.inverse = [np.rint(256 - a * 256).astype(np.uint16) for a in (alpha, _half(alpha), _half(alpha))]
        for array in (*self.colour, *self.inverse):
            array.flags.writeable = False


@functools.lru_cache(maxsize=256)
def _clock_label(text: str, px: int) -> _Layers:
    """A clock label's layers, made once per process: "0:03 / 0:05" recurs in every render
    of that length, and drawing text with FreeType costs more than a whole frame. (The badge
    and the seed label depend on the seed, so they are drawn every time.)"""
    return _Layers(render_text.label(text, px))


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


class _Chrome:
    """What both renderers draw on top: the SIMULATED badge, the seed, the time and a bar."""

    def __init__(
        self, width: int, height: int, frames: int, fps: int, seed: int, accent: tuple[float, ...]
    ) -> None:
        import numpy as np

        unit = math.sqrt(width * height) / 480
        margin, px = _even(10 * unit), max(8, round(12 * unit))
        self.width, self.frames, self.fps = width, frames, fps
        self.bar_y = height - _even(max(2.0, 5 * unit))
        size = (width, height)
        self.badge = _Sprite(_Layers(render_text.label(BADGE_TEXT, px, dot=accent)), margin, margin, size)
        total = (frames - 1) / fps
        stamps = [_clock_label(f"{_clock(s)} / {_clock(total)}", px) for s in range(int(total) + 1)]
        label_y = self.bar_y - _even(4 * unit) - stamps[0].height
        self.times = [_Sprite(layers, width - margin - layers.width, label_y, size) for layers in stamps]
        self.seed = _Sprite(_Layers(render_text.label(f"seed {seed}", px)), margin, label_y, size)
        self.accent = [round(float(c)) for c in _yuv(np.array(accent, np.float32))]
        self.top, self.bottom = self.badge.y + self.badge.height + margin, label_y - margin

    def draw(self, index: int, planes: tuple[np.ndarray, ...], *, track: bool) -> None:
        """Draw frame `index`'s chrome; `track` darkens the bar's row (unless done already)."""
        self.badge.draw(planes)
        self.seed.draw(planes)
        self.times[min(index // self.fps, len(self.times) - 1)].draw(planes)
        done = self.width if self.frames < 2 else _even(self.width * index / (self.frames - 1))
        for plane, value, s in zip(planes, self.accent, (1, 2, 2), strict=True):
            bar = plane[self.bar_y // s :]
            if track:
                _frost(bar, s)
            bar[:, : done // s] = value


def _frost(plane: np.ndarray, step: int) -> None:
    """Frosted glass, in place: luma halved (darker), chroma quartered (greyer). Shifts and
    adds on uint8, so the background shows through at almost no cost."""
    import numpy as np

    np.right_shift(plane, 1 if step == 1 else 2, out=plane)
    np.add(plane, 8 if step == 1 else 96, out=plane)


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

    cw, ch = w + _even(w / 4), h + _even(h / 4)
    gw, gh = _even(cw / 8) + 2, _even(ch / 8) + 2
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
    luma, cb, cr = _yuv(rgb)
    coarse = av.VideoFrame(gw, gh, "yuv420p")
    for plane, values in zip(_planes(coarse), (luma, _half(cb), _half(cr)), strict=True):
        plane[...] = _u8(values)
    # swscale scales all three planes in one call, several times quicker than Pillow here.
    canvas = coarse.reformat(width=cw, height=ch, interpolation="BICUBIC")
    return [plane.copy() for plane in _planes(canvas)]


class _Card:
    """Every layer of a t2v frame, drawn once; `frames()` only copies slices."""

    def __init__(self, prompt: str, w: int, h: int, frames: int, fps: int, seed: int) -> None:
        import numpy as np
        from PIL import Image as PILImage
        from PIL import ImageDraw

        rng = random.Random(seed)
        palette = _palette(rng)
        self.size, self.count = (w, h), frames
        self.chrome = chrome = _Chrome(w, h, frames, fps, seed, palette[3])
        bright = _background(w, h, rng, palette)
        dark = [plane.copy() for plane in bright]
        for plane, s in zip(dark, (1, 2, 2), strict=True):
            _frost(plane, s)
        # The card and the bar's track are frosted glass: cut from a darkened copy of the
        # canvas, so a frame is copied from one canvas or the other and never recomputed.
        self.canvases = (bright, dark)
        sx, sy = rng.choice(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))
        self.pan = (sx, sy, 1 - sx, rng.choice((sy, 1 - sy)))
        unit = math.sqrt(w * h) / 480
        pad, card_w, room = _even(14 * unit), w - 2 * _even(w * 0.07), chrome.bottom - chrome.top
        text = " ".join(prompt.split()) or "(no prompt)"
        max_px, min_px = max(10, round(30 * unit)), max(8, round(11 * unit))
        font, lines, line_h = render_text.fit_text(text, card_w - 2 * pad, room - 2 * pad, max_px, min_px)
        card_h = max(2, min(room, _even(len(lines) * line_h + 2 * pad)))
        x, y = (w - card_w) // 2 // 2 * 2, _even(chrome.top + (room - card_h) / 2)
        layer = PILImage.new("L", (card_w, card_h))
        draw, top = ImageDraw.Draw(layer), (card_h - len(lines) * line_h + line_h) / 2
        for n, line in enumerate(lines):
            draw.text((card_w / 2, top + n * line_h), line, font=font, fill=255, anchor="mm")
        # White text on dark glass: max() is the blend, anti-aliased edges included.
        self.text = np.rint(np.asarray(layer, np.float32) * (235 / 255)).astype(np.uint8)
        self.card, self.rule_h = (x, y, card_w, card_h), _even(max(2.0, 3 * unit))
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
            planes = _planes(frame)
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

    room_w, room_h = _even(width * _PAN_ROOM), _even(height * _PAN_ROOM)
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
    return [plane.copy() for plane in _planes(frame)]


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
    chrome = _Chrome(w, h, frames, fps, seed, _palette(rng)[3])
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
        planes = _planes(frame)
        for plane, copies, s in zip(planes, phases, (1, 2, 2), strict=True):
            left, half_x = divmod(round(2 * x / s), 2)
            top, half_y = divmod(round(2 * y / s), 2)
            rows, cols = plane.shape
            np.copyto(plane, copies[half_x + 2 * half_y][top : top + rows, left : left + cols])
        chrome.draw(i, planes, track=True)
        yield frame
