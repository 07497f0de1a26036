"""Small test videos made on the fly with PyAV (no binary fixtures in the repo).

    from tests.clips import solid_clip
    path = solid_clip(tmp_path / "red.mp4", (220, 30, 30), size=(320, 180), frames=48)

A clip is one flat colour, except for a white square in its top-left corner that moves one
pixel right per frame (so frames differ and a test can tell which one is on screen).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RED = (220, 30, 30)
GREEN = (30, 200, 60)
BLUE = (30, 30, 220)
YELLOW = (230, 210, 40)
PURPLE = (150, 40, 180)
TEAL = (20, 160, 170)
COLOURS = (RED, GREEN, BLUE, YELLOW, PURPLE, TEAL)


def solid_clip(
    path: Path,
    colour: tuple[int, int, int],
    *,
    size: tuple[int, int] = (320, 180),
    frames: int = 24,
    fps: int = 24,
) -> Path:
    """An H.264 MP4 of `frames` frames at `fps`, `size` (width, height), in `colour`."""
    width, height = size
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}
        for index in range(frames):
            pixels = np.empty((height, width, 3), np.uint8)
            pixels[:] = colour
            mark = min(index, width - 8)
            pixels[:8, mark : mark + 8] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def frames_rgb(path: Path) -> list[np.ndarray]:
    """Every decoded frame of `path` as an RGB array."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
