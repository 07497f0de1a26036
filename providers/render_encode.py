"""Encoding frames to H.264: the MP4 both renderers and the side-by-side write (libx264,
yuv420p, `+faststart`, atomic), a preview size that keeps an aspect ratio, and the
worker thread that draws frame n+1 while x264 encodes frame n.

av and numpy are imported inside functions, so importing this stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import atomic

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image

# ultrafast is about 3x quicker than veryfast here and still crisp at preview sizes;
# a 2-second GOP keeps scrubbing in the browser responsive.
X264_OPTIONS = {"preset": "ultrafast", "crf": "23"}
GOP_SECONDS = 2


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
    return even(width * scale), even(height * scale)


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def encode_frames(
    frames: Iterable[np.ndarray | Image.Image | av.VideoFrame],
    *,
    width: int,
    height: int,
    dest: Path,
    fps: int = 24,
    x264_options: Mapping[str, str] | None = None,
    gop_seconds: int = GOP_SECONDS,
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
            stream.options = dict(X264_OPTIONS if x264_options is None else x264_options)
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
                if not self._hand_over(video_frame(item, *self._size)):
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


def video_frame(item: Any, width: int, height: int) -> av.VideoFrame:
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
