"""Finishing: what a finished job's video costs the studio once it is on disk (make it play in
every browser, read its facts, make its poster), jobs/video.playable_with_poster against the
same work as it was done before (jobs/video.py at FINISHING_BEFORE: ensure_browser_playable,
then make_poster: five opens of the file, each with a stream probe of its own).

Two videos, each an H.264 MP4 with its index at the end (so both paths remux it): the fake
providers' output (320x180, 1 s: what the crowd benchmarks finish 64 of at once) and a 1080p
5 s clip (what a real Dreamina 3.0 1080p job returns). Each round copies the video afresh and
runs both, interleaved, alternating which goes first; CPU is the process's, every thread
(FFmpeg decodes on threads of its own).
"""

from __future__ import annotations

import resource
import shutil
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.harness import BenchResult, Figure, fmt_list, log, median, module_at, temp_dir

FINISHING_BEFORE = "6abb360"  # jobs/video.py before playable_with_poster


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def video_before() -> Any:
    """jobs/video.py as of FINISHING_BEFORE, as a module, or None outside a git clone."""
    return module_at(FINISHING_BEFORE, "jobs/video.py", "video_before")


def moving_clip(path: Path, width: int = 1920, height: int = 1080, seconds: int = 5, fps: int = 24) -> Path:
    """An H.264 yuv420p MP4 of moving gradients, its index at the end (no faststart)."""
    import av
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "veryfast", "crf": "20"}
        for index in range(seconds * fps):
            shift = index * 8
            picture = np.stack(
                [(xs + shift) % 256, (ys + 2 * shift) % 256, (xs + ys + 3 * shift) % 256], axis=-1
            ).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _timed(work: Any) -> tuple[float, float]:
    cpu, wall = _cpu(), time.perf_counter()
    work()
    return 1000 * (_cpu() - cpu), 1000 * (time.perf_counter() - wall)


def run(quick: bool = False) -> BenchResult:
    from jobs import video
    from tests.fakes.media import sample_video

    rounds = 5 if quick else 15
    old = video_before()
    if old is None:
        raise RuntimeError(f"the finishing benchmark needs a git clone (it reads jobs/video.py at {FINISHING_BEFORE})")
    figures: list[Figure] = []
    with temp_dir("bench-finishing-") as tmp:
        log("finishing: making a 1080p 5 s clip")
        clips = {"the fake providers' output (320x180, 1 s)": sample_video(), "a 1080p 5 s output": moving_clip(tmp / "1080p.mp4")}
        for label, clip in clips.items():
            assert not video.is_faststart(clip), "both paths must remux it"
            taken: dict[str, list[tuple[float, float]]] = {"after": [], "before": []}

            def after(path: Path) -> None:
                video.playable_with_poster(path, tmp / "after.webp")

            def before(path: Path) -> None:
                old.ensure_browser_playable(path)
                old.make_poster(path, tmp / "before.webp")

            for r in range(rounds + 1):  # the first round warms both up and is not kept
                order = [("after", after), ("before", before)]
                for name, work in order if r % 2 == 0 else order[::-1]:
                    path = tmp / f"{name}.mp4"
                    shutil.copyfile(clip, path)
                    cpu_wall = _timed(lambda: work(path))  # noqa: B023  (run at once)
                    if r:
                        taken[name].append(cpu_wall)
            cpu = {name: [c for c, _ in values] for name, values in taken.items()}
            wall = {name: [w for _, w in values] for name, values in taken.items()}
            ratio = median(cpu["after"]) / median(cpu["before"])
            log(f"finishing: {label}: CPU ms after {median(cpu['after']):.1f}, before {median(cpu['before']):.1f}")
            figures.append(
                Figure(
                    "finishing",
                    f"{label}: remux + facts + poster, CPU (all threads) now / before (jobs/video.py at {FINISHING_BEFORE})",
                    ratio,
                    "x",
                    "reported",
                    True,
                    f"CPU ms now {fmt_list(cpu['after'])} (median {median(cpu['after']):.1f}), before "
                    f"{fmt_list(cpu['before'])} (median {median(cpu['before']):.1f}); wall ms now median "
                    f"{median(wall['after']):.1f}, before {median(wall['before']):.1f}; {rounds} rounds, interleaved",
                )
            )
    how = (
        "Each round copies the video afresh and finishes it both ways, interleaved, alternating which "
        "goes first (the first round is a warm-up and not kept); CPU from getrusage (every thread)."
    )
    return BenchResult(figures, how)
