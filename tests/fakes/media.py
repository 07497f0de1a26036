"""Media for the fake providers: the sample output video, and the input-image checks.

The sample video is a real H.264 yuv420p MP4 so that download, probe and poster code runs
against the same kind of file the providers return. It is made once and kept in a temp
directory shared by every process of the same user, because browser and crash tests start
the fake in subprocesses too.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

SAMPLE_WIDTH, SAMPLE_HEIGHT, SAMPLE_FRAMES, SAMPLE_FPS = 320, 180, 24, 24
_SAMPLE_VERSION = "v1"
_sample_lock = threading.Lock()

# The seed documents' image_urls validations (RunComfy Dreamina image-to-video models).
IMAGE_MAX_BYTES = 4_700_000
IMAGE_MAX_SIDE = 4096
IMAGE_MIN_SIDE = 320
IMAGE_MAX_RATIO = 3.0

_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,(?P<data>.*)$", re.S
)


def _cache_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"dreamina-fake-media-{uid}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_sample_video(
    path: Path,
    *,
    width: int = SAMPLE_WIDTH,
    height: int = SAMPLE_HEIGHT,
    frames: int = SAMPLE_FRAMES,
    fps: int = SAMPLE_FPS,
) -> Path:
    """Encode a small moving-gradient H.264 yuv420p MP4 at `path` with PyAV."""
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "ultrafast", "crf": "30"}
        xs = np.linspace(0, 255, width, dtype=np.float32)
        for index in range(frames):
            shift = index * 255.0 / max(frames, 1)
            row = ((xs + shift) % 256).astype(np.uint8)
            image = np.empty((height, width, 3), dtype=np.uint8)
            image[:, :, 0] = row
            image[:, :, 1] = np.uint8(index * 9 % 256)
            image[:, :, 2] = 255 - row
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sample_video() -> Path:
    """The shared sample output video, made on first use (atomic, so concurrent
    processes never see half a file)."""
    target = _cache_dir() / f"sample-{_SAMPLE_VERSION}-{SAMPLE_WIDTH}x{SAMPLE_HEIGHT}.mp4"
    with _sample_lock:
        if target.exists() and target.stat().st_size > 0:
            return target
        fd, temp_name = tempfile.mkstemp(suffix=".mp4", dir=target.parent)
        os.close(fd)
        try:
            write_sample_video(Path(temp_name))
            os.replace(temp_name, target)
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
    return target


def decode_data_uri(uri: str) -> tuple[str | None, bytes]:
    """(mime type, bytes) of a base64 data URI; ValueError when it is not one."""
    match = _DATA_URI.match(uri)
    if not match:
        raise ValueError("not a base64 data URI")
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the base64 payload does not decode") from exc
    return match.group("mime"), data


def image_problems(data: bytes) -> list[str]:
    """What the RunComfy Dreamina image checks say about these image bytes (empty = fine).

    Messages are the seed documents' own `validation_error` strings.
    """
    from PIL import Image, UnidentifiedImageError

    problems: list[str] = []
    if len(data) >= IMAGE_MAX_BYTES:
        problems.append("File size must be less than 4.7 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return [*problems, "Upload JPEG/PNG format: the file is not a readable image."]
    if fmt not in ("JPEG", "PNG"):
        problems.append(f"Upload JPEG/PNG format (got {fmt}).")
    if width > IMAGE_MAX_SIDE or height > IMAGE_MAX_SIDE:
        problems.append("Maximum resolution is 4096×4096.")
    if min(width, height) < IMAGE_MIN_SIDE:
        problems.append("The shortest side must be at least 320 px.")
    if max(width, height) / max(min(width, height), 1) > IMAGE_MAX_RATIO:
        problems.append("The long-to-short side ratio must be within 3:1.")
    return problems


def make_image(width: int = 640, height: int = 360, fmt: str = "PNG") -> bytes:
    """A small test image (handy for tests and for scripting the fake by hand)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
