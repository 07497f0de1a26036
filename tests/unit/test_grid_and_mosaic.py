"""The comparison grid's arithmetic and the group's poster mosaic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jobs.grid import layout
from jobs.mosaic import make_poster_mosaic
from tests.clips import BLUE, GREEN, RED

WIDE, TALL = 16 / 9, 9 / 16


def boxes_overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def test_three_wide_members_take_two_rows_when_that_makes_them_taller() -> None:
    grid = layout([WIDE] * 3, max_width=1920, max_height=1080, gap=8)
    assert (grid.columns, grid.rows) == (2, 2)
    one_row_height = (1920 - 4 * 8) / 3 / WIDE  # the tallest three in a row could be
    assert grid.cells[0].height > one_row_height + 100
    last = grid.cells[2]
    assert abs((last.x + last.width / 2) - grid.width / 2) <= 2, "a short last row is centred"


def test_two_members_sit_side_by_side_and_never_grow_past_the_tallest_source() -> None:
    grid = layout([WIDE, WIDE], max_width=1920, max_height=1080, max_cell_height=360, gap=4)
    assert (grid.columns, grid.rows) == (2, 1)
    assert grid.cells[0].height == 360


@pytest.mark.parametrize(
    "aspects",
    [[WIDE] * 6, [TALL] * 6, [WIDE, TALL, 1.0], [21 / 9] * 5, [TALL, WIDE], [4 / 3, 3 / 4, 1.0, 21 / 9]],
)
def test_every_layout_fits_its_bounds_on_even_coordinates_without_overlap(aspects: list[float]) -> None:
    grid = layout(aspects, max_width=1920, max_height=1080, caption_height=lambda h: h // 8, gap=8)
    assert grid.width <= 1920 and grid.height <= 1080 and grid.width % 2 == 0 and grid.height % 2 == 0
    assert len(grid.cells) == len(aspects) and len({c.height for c in grid.cells}) == 1
    boxes = []
    for cell, aspect in zip(grid.cells, aspects, strict=True):
        assert all(v % 2 == 0 for v in (cell.x, cell.y, cell.width, cell.height, cell.caption_height))
        assert cell.caption_height >= cell.height // 8 - 1
        assert abs(cell.width / cell.height - aspect) < 0.03
        box = (cell.x, cell.y, cell.x + cell.width, cell.caption_box[3])
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= grid.width and box[3] <= grid.height
        boxes.append(box)
    assert not any(boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_a_grid_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        layout([WIDE] * 6, max_width=20, max_height=10, gap=8)
    with pytest.raises(ValueError, match="positive"):
        layout([WIDE, 0.0], max_width=1920, max_height=1080)


def poster(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (480, 270)) -> Path:
    Image.new("RGB", size, colour).save(path, "WEBP", quality=90)
    return path


def test_the_mosaic_tiles_every_poster_in_order_into_a_small_webp(tmp_path: Path) -> None:
    posters = [poster(tmp_path / f"{n}.webp", c) for n, c in enumerate((RED, GREEN, BLUE))]
    dest = make_poster_mosaic(posters, tmp_path / "group" / "mosaic.webp")
    with Image.open(dest) as opened:
        assert opened.format == "WEBP"
        assert opened.width <= 480 and opened.height <= 270
        pixels = np.asarray(opened.convert("RGB")).astype(int)
    grid = layout([16 / 9] * 3, max_width=480, max_height=270, gap=2)
    for cell, colour in zip(grid.cells, (RED, GREEN, BLUE), strict=True):
        middle = pixels[cell.y + cell.height // 2, cell.x + cell.width // 2]
        assert np.abs(middle - colour).max() < 20
    assert not list((tmp_path / "group").glob(".*")), "no temporary file left behind"


def test_a_member_without_a_poster_gets_a_neutral_tile(tmp_path: Path) -> None:
    posters = [poster(tmp_path / "a.webp", RED, (270, 480)), None, tmp_path / "deleted.webp"]
    dest = make_poster_mosaic(posters, tmp_path / "mosaic.webp")
    grid = layout([9 / 16] * 3, max_width=480, max_height=270, gap=2)
    with Image.open(dest) as opened:
        pixels = np.asarray(opened.convert("RGB")).astype(int)
    for cell in grid.cells[1:]:
        middle = pixels[cell.y + cell.height // 2, cell.x + cell.width // 2]
        assert np.abs(middle - (52, 52, 60)).max() < 12 and middle.max() - middle.min() < 16, "grey"


def test_a_mosaic_of_nothing_too_many_or_an_unreadable_poster_is_refused(tmp_path: Path) -> None:
    good = poster(tmp_path / "a.webp", RED)
    with pytest.raises(ValueError, match=r"posters: .*1 to 6 posters; got 0"):
        make_poster_mosaic([], tmp_path / "m.webp")
    with pytest.raises(ValueError, match=r"got 7"):
        make_poster_mosaic([good] * 7, tmp_path / "m.webp")
    broken = tmp_path / "broken.webp"
    broken.write_bytes(b"RIFF0000WEBPnot really")
    with pytest.raises(ValueError, match=r"poster 2: broken\.webp is not a readable picture"):
        make_poster_mosaic([good, broken], tmp_path / "m.webp")
    assert not (tmp_path / "m.webp").exists()
