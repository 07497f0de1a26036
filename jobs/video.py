"""What a downloaded video is (probe), making it play in every browser, and its poster.

`gr.Video` plays H.264 yuv420p in MP4 without ffmpeg on the server, so anything else is
re-encoded once, right after download. All functions block (decoding is CPU work): the
engine calls them with `asyncio.to_thread`. PyAV is imported inside each function because
app start-up time is measured and most requests never touch a video.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image

from providers import atomic

_MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_CRF = "20"  # visually lossless for generated footage at a modest size


@dataclass(frozen=True)
class VideoInfo:
    """The facts the studio needs about a video file."""

    duration: float
    width: int
    height: int
    codec: str
    pix_fmt: str
    frames: int | None
    bytes: int
    fps: float | None
    # 'mp4', 'mov', or FFmpeg's name for another container (e.g. 'matroska').
    container: str = "mp4"

    @property
    def browser_playable(self) -> bool:
        """H.264 with yuv420p in an MP4: what every browser's <video> plays."""
        return self.container == "mp4" and self.codec == "h264" and self.pix_fmt == "yuv420p"


def _container_kind(container: Any) -> str:
    # FFmpeg reads .mp4 and .mov with one demuxer; the ftyp brand tells them apart.
    name = str(container.format.name)
    if name != _MOV_FAMILY:
        return name.split(",")[0]
    brand = str(container.metadata.get("major_brand", "")).strip()
    return "mov" if brand == "qt" else "mp4"


def _facts(container: Any, name: str, size: int, frame: Any | None = None) -> VideoInfo:
    """The facts of an open video; `frame`: its first picture, if already decoded."""
    if not container.streams.video:
        raise ValueError(f"{name} has no video track.")
    stream = container.streams.video[0]
    context = stream.codec_context
    pix_fmt = context.pix_fmt
    if not pix_fmt:  # some codecs only know it once a frame is decoded
        frame = frame if frame is not None else next(container.decode(stream), None)
        pix_fmt = frame.format.name if frame is not None else "unknown"
    if container.duration:
        duration = container.duration / 1_000_000
    elif stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    else:
        duration = 0.0
    rate = stream.average_rate or stream.guessed_rate
    return VideoInfo(
        duration=round(duration, 3),
        width=int(context.width),
        height=int(context.height),
        codec=str(context.name),
        pix_fmt=str(pix_fmt),
        frames=int(stream.frames) or None,
        bytes=size,
        fps=float(rate) if rate else None,
        container=_container_kind(container),
    )


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[Any, int]]:
    """(the open container, the file's size); a file PyAV cannot read raises ValueError."""
    import av

    try:
        size = path.stat().st_size
        with av.open(str(path)) as container:
            yield container, size
    except FileNotFoundError as exc:
        raise ValueError(f"The video file {path.name} is missing.") from exc
    except (av.FFmpegError, OSError, StopIteration) as exc:
        raise ValueError(f"{path.name} is not a readable video ({exc}).") from exc


def probe(path: Path) -> VideoInfo:
    """Read a video's stream facts with PyAV. Raises ValueError if it is not a readable video."""
    path = Path(path)
    with _opened(path) as (container, size):
        return _facts(container, path.name, size)


def is_faststart(path: Path) -> bool:
    """True if the MP4 index (moov) comes before the media (mdat), so playback can start
    before the whole file has arrived. Walks only the top-level box headers."""
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        offset = 0
        while offset + 8 <= total:
            handle.seek(offset)
            header = handle.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = total - offset
            if kind == b"moov":
                return True
            if kind == b"mdat" or size < 8:
                return False
            offset += size
    return False


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp.mp4")


def _replace(temp: Path, path: Path) -> None:
    atomic.commit(temp, path, "file")  # the job's only copy of its video


def _even(value: int) -> int:
    # yuv420p stores colour at half resolution: both sides must be even.
    return max(2, value - value % 2)


def _transcode(source: Path, target: Path) -> None:
    import av

    with (
        av.open(str(source)) as inp,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = inp.streams.video[0]
        rate = vin.average_rate or vin.guessed_rate or Fraction(24)
        vout = out.add_stream("libx264", rate=rate)
        width, height = _even(vin.codec_context.width), _even(vin.codec_context.height)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"crf": _CRF, "preset": "veryfast"}
        ain = inp.streams.audio[0] if inp.streams.audio else None
        aout = out.add_stream("aac", rate=ain.rate or 48000) if ain is not None else None
        streams = [vin] + ([ain] if ain is not None else [])
        count = 0
        for packet in inp.demux(streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    # Frames are re-timed by count: generated videos are constant-rate.
                    picture = frame.reformat(width=width, height=height, format="yuv420p")
                    picture.pts = count
                    picture.time_base = Fraction(1, 1) / Fraction(rate)
                    count += 1
                    out.mux(vout.encode(picture))
                elif isinstance(frame, av.AudioFrame) and aout is not None:
                    frame.pts = None  # type: ignore[assignment]  # the encoder re-times resampled audio
                    out.mux(aout.encode(frame))
        out.mux(vout.encode(None))
        if aout is not None:
            out.mux(aout.encode(None))


class _CannotCopy(Exception):
    """The streams cannot be copied into MP4 as they are."""


def _can_copy(container: Any, info: VideoInfo) -> bool:
    """H.264 yuv420p (with AAC sound, if any) only needs a new box, not a new encode."""
    if info.codec != "h264" or info.pix_fmt != "yuv420p" or info.width % 2 or info.height % 2:
        return False
    if info.container not in ("mp4", "mov"):
        return False  # e.g. Matroska leaves B-frame timestamps for the muxer to invent
    return all(s.codec_context.name == "aac" for s in container.streams.audio)


def _remux_faststart(source: Path, target: Path) -> None:
    import av

    with (
        av.open(str(source)) as inp,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        copies = {
            s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")
        }
        for packet in inp.demux([s for s in inp.streams if s.index in copies]):
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            if packet.dts is None:
                raise _CannotCopy  # an MP4 needs every decode timestamp; re-encode instead
            packet.stream = copies[packet.stream.index]
            out.mux(packet)


def ensure_browser_playable(path: Path) -> VideoInfo:
    """Make `path` an H.264 yuv420p MP4 with its index up front, in place, if it is not.

    The work happens in a temp file beside it, renamed over the original only when done,
    so a crash leaves the original intact. Returns the facts of the final file. Raises
    ValueError if `path` is not a readable video."""
    path = Path(path)
    with _opened(path) as (container, size):
        info = _facts(container, path.name, size)
        copyable = _can_copy(container, info)
    return _make_playable(path, info, copyable)


def playable_with_poster(path: Path, poster: Path, *, max_width: int = 480) -> VideoInfo:
    """ensure_browser_playable(path) and make_poster(path, poster), reading the file once:
    its facts, whether its streams can be copied and its first picture come from one open
    (a finishing job's file was opened five times before, each open costing a stream probe
    of its own). Raises ValueError (and writes no poster) if it is not a readable video."""
    path = Path(path)
    with _opened(path) as (container, size):
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video track.")
        frame = next(container.decode(container.streams.video[0]), None)
        if frame is None:
            raise ValueError(f"{path.name} has no frames to make a poster from.")
        info = _facts(container, path.name, size, frame)
        copyable = _can_copy(container, info)
        picture: Image.Image = frame.to_image()
    info = _make_playable(path, info, copyable)
    _save_poster(picture, poster, max_width)
    return info


def _make_playable(path: Path, info: VideoInfo, copyable: bool) -> VideoInfo:
    """ensure_browser_playable's work once the file's facts are known."""
    if info.browser_playable and is_faststart(path):
        return info
    temp = _temp_beside(path)
    try:
        try:
            if not copyable:
                raise _CannotCopy
            _remux_faststart(path, temp)  # only the container is wrong: no quality lost
            remuxed = True
        except _CannotCopy:
            _transcode(path, temp)
            remuxed = False
        _replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    if remuxed:  # the same streams in a new box: only the box and the size changed
        return replace(info, bytes=path.stat().st_size, container="mp4")
    return probe(path)


def make_poster(video: Path, dest: Path, *, max_width: int = 480) -> Path:
    """Save the first frame of `video` as a WebP at most `max_width` wide, atomically.

    Gallery tiles show posters instead of live <video> elements. Raises ValueError if the
    video has no decodable frame."""
    import av

    video = Path(video)
    try:
        with av.open(str(video)) as container:
            if not container.streams.video:
                raise ValueError(f"{video.name} has no video track.")
            frame = next(container.decode(container.streams.video[0]), None)
            if frame is None:
                raise ValueError(f"{video.name} has no frames to make a poster from.")
            image: Image.Image = frame.to_image()
    except (av.FFmpegError, OSError) as exc:
        raise ValueError(f"{video.name} is not a readable video ({exc}).") from exc
    return _save_poster(image, dest, max_width)


def _save_poster(image: Image.Image, dest: Path, max_width: int) -> Path:
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        # reducing_gap: a box reduction first, then Lanczos over the last factor of two
        # (a 1080p frame: 10 ms instead of 21, and the same picture at poster size).
        image = image.resize((max_width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(dest, "none") as temp:  # a poster can be made again from the video
        image.save(temp, "WEBP", quality=80)
    return dest
