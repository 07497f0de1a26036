"""The side-by-side video of a comparison: 2 to 6 finished videos tiled in one H.264 MP4.

Each member is scaled to a common height (jobs/grid.py picks the grid that makes it tallest
within 1920x1080, never taller than the tallest member) with its caption burned in below it:
model on the first line; provider, time to result and price on the second. The output runs
as long as the longest member, at a constant frame rate (the members' highest, rounded); a
member that ends earlier holds its last frame, dimmed and marked "ended", so a frozen picture
is never mistaken for a still-running one. No sound. The file is what every browser and slide
program plays: libx264 yuv420p (High profile), even sides, `+faststart`.

Blocking, CPU-bound: call it from a worker thread (`asyncio.to_thread`). Where the time goes
(bench/side_by_side.py): x264 first, then decoding the members. Everything else is kept
small: background and captions are drawn once into a YUV canvas (jobs/side_by_side_canvas.py);
each member is decoded on one thread and scaled by one reusable swscale context
straight to its cell's size; a cell is copied into the canvas only when its picture changes;
and all of that runs on a worker thread while x264 encodes the frame before (the simulator
renderer's pipeline, providers/render.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.grid import Cell, Grid, even, layout
from jobs.side_by_side_canvas import caption_style, draw_canvas, ended_picture, i420_views, plane_views
from jobs.video import probe

if TYPE_CHECKING:
    import av

MIN_VIDEOS, MAX_VIDEOS = 2, 6
MAX_WIDTH, MAX_HEIGHT = 1920, 1080  # fits a 1080p slide; H.264 level 4 decodes it everywhere
DEFAULT_FPS, MAX_FPS = 24, 60
# A side-by-side is a file people keep and send (slides, mail), so it gets the settings the
# studio re-encodes a kept video with (jobs/video.py), not the simulator's ultrafast: on a
# 1632x1080 grid of three 5 s clips, 1.1 MB instead of 3.7 MB and visibly cleaner, for about
# 2.5x the encoder's CPU (BENCHMARKS.md, side_by_side).
X264_OPTIONS = {"preset": "veryfast", "crf": "20"}
GOP_SECONDS = 2  # a key frame every 2 s keeps seeking in a browser quick

Progress = Callable[[float], None]


@dataclass(frozen=True)
class CellLabel:
    """What is burned in under one member. Empty fields are left out; an all-empty label
    leaves the caption strip blank."""

    model: str = ""
    provider: str = ""
    seconds: float | None = None  # time to result
    price_usd: float | None = None

    def lines(self) -> tuple[str, str]:
        """('Dreamina 3.0 Pro', 'RunComfy · 48 s · $0.60')"""
        details = [self.provider.strip()]
        if self.seconds is not None:
            details.append(_duration(self.seconds))
        if self.price_usd is not None:
            details.append(_price(self.price_usd))
        return self.model.strip(), " · ".join(d for d in details if d)


@dataclass(frozen=True)
class Plan:
    """A checked side-by-side: its members, labels, grid, frame rate and frame count."""

    videos: tuple[Path, ...]
    durations: tuple[float, ...]
    labels: tuple[CellLabel, ...]
    grid: Grid
    fps: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class SideBySide:
    """A rendered side-by-side video and the plan it was made from."""

    path: Path
    plan: Plan


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def _price(usd: float) -> str:
    cents = usd * 100
    return f"${usd:.2f}" if abs(cents - round(cents)) < 1e-9 else f"${usd:.3f}"


def render_side_by_side(
    videos: Sequence[Path],
    labels: Sequence[CellLabel],
    dest: Path,
    *,
    progress: Progress | None = None,
) -> SideBySide:
    """Tile `videos` (2 to 6 local files, in order) with `labels` into one MP4 at `dest`.

    Every input is checked before anything is drawn (see `plan`). `dest` is written
    atomically. `progress(fraction)` is called as frames are made (0 < fraction < 1, from
    the encoder's worker thread: keep it quick and thread-safe) and with 1.0 once the file
    is in place. An exception raised by `progress` stops the render and is raised here,
    with nothing written: that is how a caller cancels.
    """
    checked = plan(videos, labels)
    _encode(checked, frames(checked, progress), Path(dest))
    if progress is not None:
        progress(1.0)
    return SideBySide(path=Path(dest), plan=checked)


def plan(videos: Sequence[Path], labels: Sequence[CellLabel]) -> Plan:
    """Check the inputs and lay them out. Raises ValueError naming the field or the video at
    fault: a count outside 2 to 6, labels not one per video, a missing file, a file that is
    not a video, a still image."""
    if not MIN_VIDEOS <= len(videos) <= MAX_VIDEOS:
        raise ValueError(
            f"videos: a side-by-side video takes {MIN_VIDEOS} to {MAX_VIDEOS} videos; got {len(videos)}."
        )
    if len(labels) != len(videos):
        raise ValueError(
            f"labels: one label per video is needed; got {len(labels)} for {len(videos)} videos."
        )
    members = [_check(n, Path(v)) for n, v in enumerate(videos, 1)]
    fps = _output_fps([m.fps for m in members])
    tallest = max(m.height for m in members)
    grid = layout(
        [m.width / m.height for m in members],
        max_width=MAX_WIDTH,
        max_height=MAX_HEIGHT,
        max_cell_height=tallest,
        caption_height=lambda h: caption_style(h)[3],
        gap=_gap(tallest),
    )
    return Plan(
        videos=tuple(m.path for m in members),
        durations=tuple(m.duration for m in members),
        labels=tuple(labels),
        grid=grid,
        fps=fps,
        frames=max(1, max(round(m.duration * fps) for m in members)),
    )


@dataclass(frozen=True)
class _Member:
    path: Path
    width: int
    height: int
    duration: float
    fps: float | None


def _check(number: int, path: Path) -> _Member:
    try:
        info = probe(path)
    except ValueError as exc:
        raise ValueError(f"video {number}: {exc}") from exc
    duration = info.duration or (info.frames / info.fps if info.frames and info.fps else 0.0)
    if duration <= 0 or info.container.endswith("_pipe") or info.container == "image2":
        raise ValueError(f"video {number}: {path.name} is a still image or has no length, not a video.")
    return _Member(path, info.width, info.height, duration, info.fps)


def _output_fps(rates: Sequence[float | None]) -> int:
    known = [r for r in rates if r and math.isfinite(r)]
    return min(MAX_FPS, max(1, round(max(known)))) if known else DEFAULT_FPS


def _gap(tallest: int) -> int:
    return even(max(4, tallest / 90))


# --- The members: decode, scale, hold, end ----------------------------------------------------


class _Decoder:
    """One member, decoded in order and scaled to its cell; `at(t)` says what is on screen."""

    def __init__(self, number: int, path: Path, duration: float, cell: Cell) -> None:
        import av
        from av.video.reformatter import VideoReformatter

        self.number, self.path, self.duration, self.cell = number, path, duration, cell
        self._container = av.open(str(path))
        stream = self._container.streams.video[0]
        # One decoding thread per member: the frames are made on a worker thread beside x264,
        # which keeps the cores busy; FFmpeg's frame threads would add a fifth of the decode's
        # CPU in hand-offs for no gain in wall time (bench/side_by_side.py).
        stream.thread_type = "NONE"
        self._rate = float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)
        self._frames = self._container.decode(stream)
        self._scaler = VideoReformatter()  # one swscale context, set up once
        shrinking = cell.height <= stream.codec_context.height
        self._interpolation = "AREA" if shrinking else "BICUBIC"
        self._count = 0
        self._next = self._read()
        if self._next is None:
            raise ValueError(f"video {number}: {path.name} has no frames.")
        self._origin = self._time(self._next)
        self.picture: av.VideoFrame | None = None
        self.ended = False

    def _read(self) -> av.VideoFrame | None:
        import av

        try:
            frame = next(self._frames, None)
        except av.FFmpegError as exc:
            raise ValueError(f"video {self.number}: {self.path.name} could not be decoded ({exc}).") from exc
        if frame is not None:
            self._count += 1
        return frame

    def _time(self, frame: av.VideoFrame) -> float:
        return frame.time if frame.time is not None else (self._count - 1) / self._rate

    def at(self, seconds: float, slack: float) -> bool:
        """Move to the picture on screen at `seconds` (a frame due within `slack` counts);
        True if it changed."""
        shown = None
        while self._next is not None and self._time(self._next) - self._origin <= seconds + slack:
            shown, self._next = self._next, self._read()
        if shown is not None:
            size = {"width": self.cell.width, "height": self.cell.height}
            self.picture = self._scaler.reformat(
                shown, **size, format="yuv420p", interpolation=self._interpolation
            )
            return True
        if not self.ended and self._next is None and seconds >= self.duration and self.picture is not None:
            self.ended = True
            self.picture = ended_picture(self.picture, self.cell)
            return True
        return False

    def close(self) -> None:
        self._container.close()


def frames(checked: Plan, progress: Progress | None = None) -> Iterator[av.VideoFrame]:
    """The side-by-side's frames as yuv420p VideoFrames, each a fresh one. A generator: when
    rendering, the files are opened and the canvas drawn on the worker while x264 opens.
    `progress` as in render_side_by_side (without the final 1.0)."""
    import av
    import numpy as np

    grid, fps, total = checked.grid, checked.fps, checked.frames
    canvas = draw_canvas(grid, checked.labels)
    targets = i420_views(canvas, grid.width, grid.height)
    decoders: list[_Decoder] = []
    try:
        for number, (path, duration, cell) in enumerate(
            zip(checked.videos, checked.durations, grid.cells, strict=True), 1
        ):
            decoders.append(_Decoder(number, path, duration, cell))
        reported = 0
        for index in range(total):
            for decoder in decoders:
                if decoder.at(index / fps, 0.5 / fps) and decoder.picture is not None:
                    c = decoder.cell
                    for target, source, s in zip(
                        targets, plane_views(decoder.picture), (1, 2, 2), strict=True
                    ):
                        np.copyto(
                            target[c.y // s : (c.y + c.height) // s, c.x // s : (c.x + c.width) // s], source
                        )
            # A fresh frame each time: the encoder may still hold the one before.
            yield av.VideoFrame.from_ndarray(canvas, format="yuv420p")
            if progress is not None and (percent := 100 * (index + 1) // total) > reported and percent < 100:
                reported = percent
                progress(percent / 100)
    finally:
        for decoder in decoders:
            decoder.close()


def _encode(checked: Plan, made: Iterator[av.VideoFrame], dest: Path) -> None:
    """Encode `made` to `dest` atomically with the kept-video settings. The simulator's
    encoder makes the frames on a worker thread while x264 encodes the ones before."""
    from providers.render import encode_frames

    encode_frames(
        made,
        width=checked.grid.width,
        height=checked.grid.height,
        dest=dest,
        fps=checked.fps,
        x264_options=X264_OPTIONS,
        gop_seconds=GOP_SECONDS,
    )
