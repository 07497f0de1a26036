"""Where each member of a comparison goes in a grid: pictures at one common height, a caption
strip under each, rows centred, every coordinate even (yuv420p halves them for colour).

Shared by the side-by-side video (jobs/side_by_side.py) and the poster mosaic
(jobs/mosaic.py). Pure arithmetic: no imaging library is touched here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One member's place: its picture at (x, y), `width` x `height`, and its caption strip
    of `caption_height` directly below, as wide as the picture."""

    x: int
    y: int
    width: int
    height: int
    caption_height: int

    @property
    def caption_box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the caption strip."""
        top = self.y + self.height
        return self.x, top, self.x + self.width, top + self.caption_height


@dataclass(frozen=True)
class Grid:
    """A canvas of `width` x `height` holding `cells` in the order the members were given."""

    width: int
    height: int
    columns: int
    rows: int
    cells: tuple[Cell, ...]


def even(value: float) -> int:
    """The nearest even integer, at least 2."""
    return max(2, round(value / 2) * 2)


def layout(
    aspects: Sequence[float],
    *,
    max_width: int,
    max_height: int,
    max_cell_height: int | None = None,
    caption_height: Callable[[int], int] = lambda _height: 0,
    gap: int = 0,
) -> Grid:
    """The grid with the tallest common picture height that fits `max_width` x `max_height`.

    `aspects` are the members' width/height ratios, in order (row by row). Every column count
    is tried and the one giving the tallest pictures wins; on a tie, the one with fewer rows.
    `max_cell_height` keeps the pictures from being enlarged past their sources;
    `caption_height(h)` is the strip under a picture `h` tall; `gap` separates cells and
    frames the canvas. Raises ValueError when nothing fits (a limit too small for the count).
    """
    if not aspects:
        raise ValueError("a grid needs at least one cell")
    if any(not math.isfinite(a) or a <= 0 for a in aspects):
        raise ValueError(f"aspect ratios must be positive, got {list(aspects)}")
    gap = even(gap) if gap > 0 else 0

    def caption(height: int) -> int:
        strip = caption_height(height)
        return even(strip) if strip > 0 else 0

    ceiling = min(max_height, max_cell_height or max_height)
    best: Grid | None = None
    for columns in range(len(aspects), 0, -1):  # fewest rows first, so a tie keeps them
        rows = [list(aspects[i : i + columns]) for i in range(0, len(aspects), columns)]
        height = _tallest_fit(rows, ceiling, max_width, max_height, caption, gap)
        if height is None or (best is not None and height <= best.cells[0].height):
            continue
        best = _place(rows, height, caption(height), gap, columns)
    if best is None:
        raise ValueError(f"{len(aspects)} cells do not fit in {max_width}x{max_height}")
    return best


def _row_width(row: Sequence[float], height: int, gap: int) -> int:
    return sum(even(height * a) for a in row) + gap * (len(row) + 1)


def _tallest_fit(
    rows: list[list[float]],
    ceiling: int,
    max_width: int,
    max_height: int,
    caption_height: Callable[[int], int],
    gap: int,
) -> int | None:
    # Width and height both grow with the picture height, so the first fit from the top wins.
    for height in range(ceiling - ceiling % 2, 1, -2):
        total_h = len(rows) * (height + caption_height(height)) + gap * (len(rows) + 1)
        if total_h <= max_height and max(_row_width(r, height, gap) for r in rows) <= max_width:
            return height
    return None


def _place(rows: list[list[float]], height: int, caption: int, gap: int, columns: int) -> Grid:
    width = max(_row_width(r, height, gap) for r in rows)
    cells = []
    y = gap
    for row in rows:
        x = (width - _row_width(row, height, gap)) // 4 * 2 + gap  # centred, kept even
        for aspect in row:
            cell_w = even(height * aspect)
            cells.append(Cell(x, y, cell_w, height, caption))
            x += cell_w + gap
        y += height + caption + gap
    return Grid(width=width, height=y, columns=columns, rows=len(rows), cells=tuple(cells))
