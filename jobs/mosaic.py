"""A comparison's poster: its members' posters tiled into one WebP, for the history entry.

The members' posters are the WebPs jobs/video.py makes; a member without one (failed,
cancelled, or its files deleted) gets a neutral tile in its place, so the mosaic always
shows how many members the group had. Blocking (Pillow): call it from a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.grid import layout

if TYPE_CHECKING:
    from PIL import Image

MAX_POSTERS = 6
_BACKGROUND = (16, 16, 20)
_MISSING = (52, 52, 60)
_MISSING_ASPECT = 16 / 9
_GAP = 2


def make_poster_mosaic(
    posters: Sequence[Path | None], dest: Path, *, max_width: int = 480, max_height: int = 270
) -> Path:
    """Tile `posters` (1 to 6, in order; None or a missing file for a member without one) at
    one common height into a WebP at most `max_width` x `max_height`, written atomically.

    Raises ValueError for a count outside 1 to 6, or a file that is not a readable picture.
    """
    from PIL import Image as PILImage

    if not 1 <= len(posters) <= MAX_POSTERS:
        raise ValueError(f"posters: a poster mosaic takes 1 to {MAX_POSTERS} posters; got {len(posters)}.")
    pictures: list[Image.Image | None] = [_open(n, p) for n, p in enumerate(posters, 1)]
    present = [p for p in pictures if p is not None]
    missing_aspect = present[0].width / present[0].height if present else _MISSING_ASPECT
    aspects = [p.width / p.height if p is not None else missing_aspect for p in pictures]
    grid = layout(aspects, max_width=max_width, max_height=max_height, gap=_GAP)
    canvas = PILImage.new("RGB", (grid.width, grid.height), _BACKGROUND)
    for cell, picture in zip(grid.cells, pictures, strict=True):
        if picture is None:
            canvas.paste(_MISSING, (cell.x, cell.y, cell.x + cell.width, cell.y + cell.height))
        else:
            # reducing_gap: a fast box pre-shrink, then Lanczos; a poster is 480 px, a tile ~240.
            tile = picture.resize((cell.width, cell.height), PILImage.Resampling.LANCZOS, reducing_gap=2.0)
            canvas.paste(tile, (cell.x, cell.y))
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    try:
        canvas.save(temp, "WEBP", quality=80)
        os.replace(temp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return dest


def _open(number: int, path: Path | None) -> Image.Image | None:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if path is None or not Path(path).is_file():
        return None
    try:
        with PILImage.open(path) as opened:
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"poster {number}: {Path(path).name} is not a readable picture ({exc}).") from exc
