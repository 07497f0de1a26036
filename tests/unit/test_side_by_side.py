"""The side-by-side video: real H.264 that browsers play, as long as the longest member, every
member in its cell with its label burned in, bad input refused by name."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from jobs import side_by_side
from jobs.grid import Cell
from jobs.side_by_side import CellLabel, render_side_by_side
from jobs.side_by_side_canvas import fit_line
from jobs.video import is_faststart, probe
from tests.clips import BLUE, COLOURS, GREEN, RED, frames_rgb, solid_clip

LABELS = [
    CellLabel("Dreamina 3.0 Pro", "RunComfy", 48.0, 0.60),
    CellLabel("Dreamina 3.0 720p", "WaveSpeedAI", 31.0, 0.30),
    CellLabel("梦境 3.0 模拟器", "Simulator", 2.0, 0.0),
]


@pytest.fixture
def mixed(tmp_path: Path) -> list[Path]:
    """Three members of different shapes and lengths: 16:9 2 s, 9:16 1 s, 1:1 1.5 s."""
    return [
        solid_clip(tmp_path / "wide.mp4", RED, size=(320, 180), frames=48),
        solid_clip(tmp_path / "tall.mp4", GREEN, size=(180, 320), frames=24),
        solid_clip(tmp_path / "square.mp4", BLUE, size=(240, 240), frames=36),
    ]


def centre(frame: np.ndarray, cell: Cell) -> np.ndarray:
    return frame[cell.y + cell.height // 2, cell.x + cell.width // 2].astype(int)


def close_to(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 14) -> bool:
    return bool(np.abs(pixel - np.array(colour)).max() <= tolerance)


def test_output_is_browser_safe_h264_as_long_as_the_longest_member(tmp_path: Path, mixed: list[Path]) -> None:
    result = render_side_by_side(mixed, LABELS, tmp_path / "out" / "side.mp4")
    info = probe(result.path)
    assert (info.codec, info.pix_fmt, info.container) == ("h264", "yuv420p", "mp4")
    assert info.browser_playable and is_faststart(result.path)
    longest = max(probe(m).duration for m in mixed)
    assert abs(info.duration - longest) <= 1 / 24, (info.duration, longest)
    assert info.frames == result.plan.frames == 48 and info.fps == 24
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert info.width <= side_by_side.MAX_WIDTH and info.height <= side_by_side.MAX_HEIGHT
    assert (info.width, info.height) == (result.plan.grid.width, result.plan.grid.height)
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        times = [float(frame.time) for frame in container.decode(stream)]
    steps = {round(b - a, 6) for a, b in zip(times, times[1:], strict=False)}
    assert steps == {round(1 / 24, 6)}, "a constant frame rate"
    assert not list(tmp_path.glob("out/.*")), "no temporary file left behind"


def test_each_member_fills_its_own_cell_at_a_common_height_with_its_shape(
    tmp_path: Path, mixed: list[Path]
) -> None:
    result = render_side_by_side(mixed, LABELS, tmp_path / "side.mp4")
    cells = result.plan.grid.cells
    assert len({c.height for c in cells}) == 1, "one common height"
    for cell, (w, h) in zip(cells, [(320, 180), (180, 320), (240, 240)], strict=True):
        assert abs(cell.width / cell.height - w / h) < 0.02
    first = frames_rgb(result.path)[0]
    for cell, colour in zip(cells, (RED, GREEN, BLUE), strict=True):
        assert close_to(centre(first, cell), colour), (cell, centre(first, cell), colour)


def test_every_cell_has_its_label_drawn_and_only_there(tmp_path: Path, mixed: list[Path]) -> None:
    labelled = frames_rgb(render_side_by_side(mixed, LABELS, tmp_path / "labelled.mp4").path)[0]
    blank = render_side_by_side(mixed, [CellLabel()] * 3, tmp_path / "blank.mp4")
    unlabelled = frames_rgb(blank.path)[0]
    for cell in blank.plan.grid.cells:
        left, top, right, bottom = cell.caption_box
        text = labelled[top:bottom, left:right].max(axis=2)
        empty = unlabelled[top:bottom, left:right].max(axis=2)
        assert (text > 150).sum() > 150, f"the caption under the cell at x={cell.x} has text"
        assert (empty > 150).sum() == 0, "an empty label leaves the strip blank"
        picture = (
            slice(cell.y + 10, cell.y + cell.height - 10),
            slice(cell.x + 10, cell.x + cell.width - 10),
        )
        assert np.abs(labelled[picture].astype(int) - unlabelled[picture]).max() <= 3, (
            "text stays in the caption"
        )


def test_a_member_that_ends_early_holds_its_last_frame_dimmed_and_marked(
    tmp_path: Path, mixed: list[Path]
) -> None:
    result = render_side_by_side(mixed, LABELS, tmp_path / "side.mp4")
    frames = frames_rgb(result.path)
    tall = result.plan.grid.cells[1]  # 1 s of 2 s
    assert close_to(centre(frames[12], tall), GREEN), "playing"

    # The white square moves a pixel a frame; once the member has ended it stays where its
    # last frame (23) left it.
    def square_at(frame: np.ndarray) -> float:
        strip = frame[tall.y + 2 : tall.y + 6, tall.x : tall.x + tall.width].astype(int).sum(axis=(0, 2))
        return float(np.flatnonzero(strip > strip.max() * 0.8).mean())

    assert square_at(frames[20]) + 2 < square_at(frames[23]), "moving before the end"
    assert square_at(frames[30]) == pytest.approx(square_at(frames[23]), abs=1)
    assert square_at(frames[47]) == pytest.approx(square_at(frames[23]), abs=1), "held to the end"
    ended = frames[40][tall.y : tall.y + tall.height, tall.x : tall.x + tall.width].astype(int)
    edge = ended[tall.height // 4, 4]
    assert edge.max() < max(GREEN) * 0.5 and edge[1] > edge[0], "the last picture, dimmed"
    middle = ended[tall.height // 2 - 10 : tall.height // 2 + 10]
    assert (middle.min(axis=2) > 200).sum() > 20, "white 'ended' text in its middle"
    assert close_to(centre(frames[40], result.plan.grid.cells[0]), RED), "the longest still plays"


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6])
def test_two_to_six_members_each_get_a_cell_inside_the_frame(tmp_path: Path, count: int) -> None:
    clips = [
        solid_clip(tmp_path / f"m{n}.mp4", COLOURS[n], size=(160, 90) if n % 2 else (90, 160), frames=12)
        for n in range(count)
    ]
    labels = [CellLabel(f"Model {n}", "Provider") for n in range(count)]
    result = render_side_by_side(clips, labels, tmp_path / "side.mp4")
    grid = result.plan.grid
    first = frames_rgb(result.path)[0]
    boxes = []
    for cell, colour in zip(grid.cells, COLOURS, strict=False):
        assert cell.x >= 0 and cell.x + cell.width <= grid.width
        assert cell.y >= 0 and cell.caption_box[3] <= grid.height
        assert all(v % 2 == 0 for v in (cell.x, cell.y, cell.width, cell.height, cell.caption_height))
        assert close_to(centre(first, cell), colour)
        boxes.append((cell.x, cell.y, cell.x + cell.width, cell.caption_box[3]))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "cells do not overlap"


def test_members_at_different_frame_rates_share_the_highest_constant_rate(tmp_path: Path) -> None:
    clips = [
        solid_clip(tmp_path / "a.mp4", RED, frames=24, fps=24),  # 1 s
        solid_clip(tmp_path / "b.mp4", BLUE, frames=45, fps=30),  # 1.5 s
    ]
    result = render_side_by_side(clips, [CellLabel("a"), CellLabel("b")], tmp_path / "side.mp4")
    info = probe(result.path)
    assert info.fps == 30 and info.frames == 45
    assert abs(info.duration - 1.5) <= 1 / 30


def test_large_members_are_scaled_down_to_fit_1920_wide(tmp_path: Path) -> None:
    clips = [solid_clip(tmp_path / f"{n}.mp4", COLOURS[n], size=(1280, 720), frames=2) for n in range(2)]
    result = render_side_by_side(clips, [CellLabel("a"), CellLabel("b")], tmp_path / "side.mp4")
    grid = result.plan.grid
    assert grid.width <= 1920 and grid.height <= 1080
    assert grid.columns == 2 and grid.cells[0].height < 720


def test_progress_rises_to_one_once_the_file_is_in_place(tmp_path: Path, mixed: list[Path]) -> None:
    seen: list[tuple[float, bool]] = []
    dest = tmp_path / "side.mp4"

    def progress(fraction: float) -> None:
        seen.append((fraction, dest.exists()))

    render_side_by_side(mixed, LABELS, dest, progress=progress)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and len(fractions) > 10
    assert 0 < fractions[0] < 0.1 and fractions[-1] == 1.0
    assert seen[-1][1] and not any(exists for f, exists in seen[:-1]), "1.0 only once the file exists"


@pytest.mark.parametrize("count", [0, 1, 7])
def test_a_wrong_number_of_videos_is_refused(tmp_path: Path, count: int) -> None:
    clip = solid_clip(tmp_path / "a.mp4", RED, frames=2)
    with pytest.raises(ValueError, match=rf"videos: .*2 to 6 videos; got {count}\."):
        render_side_by_side([clip] * count, [CellLabel()] * count, tmp_path / "side.mp4")
    assert not (tmp_path / "side.mp4").exists()


def test_labels_must_match_the_videos(tmp_path: Path) -> None:
    clip = solid_clip(tmp_path / "a.mp4", RED, frames=2)
    with pytest.raises(ValueError, match=r"labels: one label per video.*got 1 for 2"):
        render_side_by_side([clip, clip], [CellLabel()], tmp_path / "side.mp4")


def test_a_missing_or_unreadable_member_is_refused_by_number_and_name(tmp_path: Path) -> None:
    clip = solid_clip(tmp_path / "a.mp4", RED, frames=2)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    from PIL import Image

    still = tmp_path / "still.png"
    Image.new("RGB", (64, 64), RED).save(still)
    dest = tmp_path / "side.mp4"
    dest.write_bytes(b"an earlier export")
    cases = [
        (tmp_path / "gone.mp4", r"video 2: .*gone\.mp4 is missing"),
        (text, r"video 2: notes\.mp4 is not a readable video"),
        (still, r"video 2: still\.png is a still image"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            render_side_by_side([clip, bad], [CellLabel(), CellLabel()], dest)
    assert dest.read_bytes() == b"an earlier export", "nothing is written for refused input"


def test_a_failure_while_encoding_leaves_no_file_and_stops_the_worker(
    tmp_path: Path, mixed: list[Path]
) -> None:
    before = set(threading.enumerate())
    dest = tmp_path / "side.mp4"

    def progress(fraction: float) -> None:
        if fraction > 0.3:
            raise RuntimeError("the caller gave up")

    with pytest.raises(RuntimeError, match="gave up"):
        render_side_by_side(mixed, LABELS, dest, progress=progress)
    assert list(tmp_path.glob("side.mp4*")) == [] and list(tmp_path.glob(".side.mp4*")) == []
    assert not [t for t in set(threading.enumerate()) - before if t.name == "render-frames"]


def test_labels_read_as_model_then_provider_time_and_price() -> None:
    assert CellLabel("Dreamina 3.0 Pro", "RunComfy", 48.4, 0.6).lines() == (
        "Dreamina 3.0 Pro",
        "RunComfy · 48 s · $0.60",
    )
    assert CellLabel("M", "P", 125, 0.0825).lines() == ("M", "P · 2 min 05 s · $0.083")
    assert CellLabel("M").lines() == ("M", "")
    assert CellLabel().lines() == ("", "")


def test_a_caption_line_shrinks_to_fit_then_is_cut_with_an_ellipsis() -> None:
    font, text = fit_line("Dreamina 3.0 Pro", 20, 400)
    assert (text, font.size) == ("Dreamina 3.0 Pro", 20), "fits as it is"
    wide = font.getlength("Dreamina 3.0 Pro")
    font, text = fit_line("Dreamina 3.0 Pro", 20, int(wide * 0.85))
    assert text == "Dreamina 3.0 Pro" and 14 <= font.size < 20
    assert font.getlength(text) <= wide * 0.85
    font, text = fit_line("Dreamina 3.0 Pro image-to-video 1080p", 20, 120)
    assert text.endswith("…") and text.startswith("Dream") and font.getlength(text) <= 120
