"""What the bad-input tests share: the studio's limits and image-fit settings, the launched studio they
send to, image makers and a look at what reached the providers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import tests.images as odd
from tests.fakes.media import sample_video


def make_image(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if name == "good":
        return odd.good_png(folder)
    if name == "video":
        target = folder / "clip.png"
        target.write_bytes(sample_video().read_bytes())
        return target
    maker: Callable[[Path], Path] = odd.ODD_IMAGES[name]
    return maker(folder)


@pytest.fixture(name="image_folder", scope="module")
def image_folder_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-images")
