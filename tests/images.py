"""Odd test images, made on the fly in a temp folder (no binary fixtures in the repo).

Each maker takes a folder and returns the path of a fresh file. `ODD_IMAGES` maps a kind
name to its maker, so any test can loop over every awkward input a person might pick:

    from tests.images import ODD_IMAGES, good_jpeg
    path = ODD_IMAGES["cmyk_jpeg"](tmp_path)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ORIENTATION_TAG = 0x0112
# Two colours that survive JPEG well, so a test can tell which side ended up where.
RED = (220, 30, 30)
BLUE = (30, 30, 220)


def _noise(width: int, height: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


def _photo_like(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus grain: compresses like a photo, unlike pure noise. Built from
    broadcast rows and a tiled grain patch, so a 15-megapixel one takes well under a second."""
    rng = np.random.default_rng(seed)
    x = np.arange(width, dtype=np.uint16)
    y = np.arange(height, dtype=np.uint16)[:, None]
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[..., 0] = (x // 16) % 256
    pixels[..., 1] = (y // 16) % 256
    pixels[..., 2] = ((x + y) // 32) % 256
    grain = rng.integers(0, 24, (256, 256, 3), dtype=np.uint8)
    reps = (-(-height // 256), -(-width // 256), 1)
    pixels //= 2
    pixels += np.tile(grain, reps)[:height, :width]
    return pixels


def _two_tone(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: rotation and mirroring are visible in the pixels."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    """A PNG from parts, for kinds Pillow will not write (16-bit RGB, bombs)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def good_jpeg(folder: Path, size: tuple[int, int] = (1280, 720), name: str = "good.jpg") -> Path:
    path = folder / name
    Image.fromarray(_photo_like(*size)).save(path, "JPEG", quality=90)
    return path


def good_png(folder: Path, size: tuple[int, int] = (800, 600), name: str = "good.png") -> Path:
    path = folder / name
    _two_tone(*size).save(path, "PNG")
    return path


def mpo_jpeg(folder: Path) -> Path:
    """What many phones save: a JPEG with a second (preview or depth) picture appended."""
    path = folder / "phone.jpg"
    main = Image.fromarray(_photo_like(1024, 768))
    main.save(path, "MPO", save_all=True, append_images=[_two_tone(320, 240)], quality=90)
    return path


def cmyk_jpeg(folder: Path) -> Path:
    path = folder / "print.jpg"
    Image.new("CMYK", (800, 600), (0, 200, 200, 0)).save(path, "JPEG", quality=90)
    return path


def png_16bit(folder: Path) -> Path:
    """16-bit RGB: Pillow reads it as 8-bit RGB, so only the header tells."""
    width, height = 480, 360
    row = np.linspace(0, 65535, width * 3, dtype=">u2").tobytes()
    raw = b"".join(b"\x00" + row for _ in range(height))
    path = folder / "deep.png"
    path.write_bytes(raw_png(width, height, 16, 2, zlib.compress(raw)))
    return path


def png_16bit_gray(folder: Path) -> Path:
    values = (np.arange(480 * 360).reshape(360, 480) * 7 % 65536).astype(np.uint16)
    path = folder / "deep-gray.png"
    Image.fromarray(values).save(path, "PNG")
    return path


def animated_gif(folder: Path, frames: int = 12) -> Path:
    images = [Image.new("RGB", (400, 400), (i * 20, 100, 200 - i * 10)) for i in range(frames)]
    path = folder / "loop.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=80, loop=0)
    return path


def apng(folder: Path, frames: int = 3) -> Path:
    images = [Image.new("RGB", (500, 400), (50 + i * 60, 80, 80)) for i in range(frames)]
    path = folder / "moving.png"
    images[0].save(path, "PNG", save_all=True, append_images=images[1:], duration=100)
    return path


def multipage_tiff(folder: Path, pages: int = 3) -> Path:
    images = [Image.new("RGB", (640, 480), (30, 60 * i, 90)) for i in range(pages)]
    path = folder / "scan.tiff"
    images[0].save(path, save_all=True, append_images=images[1:])
    return path


def webp_still(folder: Path) -> Path:
    path = folder / "still.webp"
    Image.fromarray(_photo_like(900, 600)).save(path, "WEBP", quality=85)
    return path


def bmp_still(folder: Path) -> Path:
    path = folder / "paint.bmp"
    _two_tone(640, 480).save(path, "BMP")
    return path


def exif_rotated_jpeg(folder: Path, orientation: int = 6) -> Path:
    """Stored 800×600 (red left, blue right) with an EXIF tag saying how to turn it: for
    6 the upright photo is 600×800 with red on top."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    path = folder / f"rotated-{orientation}.jpg"
    _two_tone(800, 600).save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


def rgba_png(folder: Path) -> Path:
    """A see-through corner on an opaque red picture."""
    image = Image.new("RGBA", (640, 480), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 320, 240))
    path = folder / "cutout.png"
    image.save(path, "PNG")
    return path


def opaque_rgba_png(folder: Path) -> Path:
    """An alpha channel with nothing see-through: harmless, and not an issue."""
    path = folder / "opaque-alpha.png"
    Image.new("RGBA", (640, 480), (*BLUE, 255)).save(path, "PNG")
    return path


def truncated_png(folder: Path) -> Path:
    path = folder / "cut.png"
    Image.fromarray(_noise(800, 600)).save(path, "PNG", compress_level=1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])
    return path


def truncated_jpeg(folder: Path) -> Path:
    path = good_jpeg(folder, name="cut.jpg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_as_png(folder: Path) -> Path:
    path = folder / "notes.png"
    path.write_text("These are my notes, not a picture.\n" * 20, encoding="utf-8")
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.png"
    path.write_bytes(b"")
    return path


def decompression_bomb(folder: Path, side: int = 20_000) -> Path:
    """A valid 1-bit PNG of side×side black pixels: a few KB on disk, hundreds of MB
    once decoded. Compressed in slices so making it needs no big buffer either."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    rows_per_slice = 1000
    idat = bytearray()
    for start in range(0, side, rows_per_slice):
        idat += compressor.compress(row * min(rows_per_slice, side - start))
    idat += compressor.flush()
    path = folder / "bomb.png"
    path.write_bytes(raw_png(side, side, 1, 0, bytes(idat)))
    return path


def svg_text(folder: Path, name: str = "drawing.svg") -> Path:
    path = folder / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">'
        '<rect width="800" height="600" fill="teal"/></svg>\n',
        encoding="utf-8",
    )
    return path


def fake_heic(folder: Path) -> Path:
    """An ISO-BMFF 'ftyp' box with the HEIC brand, then junk: enough for any sniffer."""
    ftyp = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1heic"
    path = folder / "IMG_0001.HEIC"
    path.write_bytes(struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00" * 2000)
    return path


def too_wide(folder: Path, size: tuple[int, int] = (1600, 400)) -> Path:
    """4:1, over the 3:1 limit, with a marker column in the middle to check the crop."""
    path = folder / "panorama.jpg"
    Image.fromarray(_photo_like(*size)).save(path, "JPEG", quality=90)
    return path


def too_tall(folder: Path) -> Path:
    return too_wide(folder, (400, 1600))


def too_small(folder: Path, size: tuple[int, int] = (300, 200)) -> Path:
    path = folder / "thumb.png"
    _two_tone(*size).save(path, "PNG")
    return path


def too_large_sides(folder: Path, size: tuple[int, int] = (5000, 3000)) -> Path:
    path = folder / "huge.jpg"
    Image.fromarray(_photo_like(*size)).save(path, "JPEG", quality=85)
    return path


def too_big_bytes(folder: Path, side: int = 1400) -> Path:
    """Noise does not compress: a 1400×1400 PNG of it is about 5.9 MB, sides all fine."""
    path = folder / "noisy.png"
    Image.fromarray(_noise(side, side)).save(path, "PNG", compress_level=0)
    return path


def big_png_4096(folder: Path, kind: str = "noise") -> Path:
    """The benchmark's worst case: 4096×4096, about 50 MB of noise ('noise'), or a
    photo-like picture with grain ('photo'). Stored uncompressed so making it is quick."""
    pixels = _noise(4096, 4096, seed=1) if kind == "noise" else _photo_like(4096, 4096, seed=1)
    path = folder / f"big-{kind}.png"
    Image.fromarray(pixels).save(path, "PNG", compress_level=0)
    return path


Maker = Callable[[Path], Path]

# Every odd kind, by name. Fixable ones first; the rest are refused.
FIXABLE: dict[str, Maker] = {
    "cmyk_jpeg": cmyk_jpeg,
    "png_16bit": png_16bit,
    "png_16bit_gray": png_16bit_gray,
    "animated_gif": animated_gif,
    "apng": apng,
    "multipage_tiff": multipage_tiff,
    "webp": webp_still,
    "bmp": bmp_still,
    "rgba_png": rgba_png,
    "too_wide": too_wide,
    "too_tall": too_tall,
    "too_small": too_small,
    "too_large_sides": too_large_sides,
    "too_big_bytes": too_big_bytes,
}
UNFIXABLE: dict[str, Maker] = {
    "truncated_png": truncated_png,
    "truncated_jpeg": truncated_jpeg,
    "text_as_png": text_as_png,
    "empty_file": empty_file,
    "decompression_bomb": decompression_bomb,
    "svg_text": svg_text,
    "fake_heic": fake_heic,
}
ODD_IMAGES: dict[str, Maker] = {
    **FIXABLE,
    **UNFIXABLE,
    "exif_rotated_jpeg": exif_rotated_jpeg,
    "opaque_rgba_png": opaque_rgba_png,
    "mpo_jpeg": mpo_jpeg,
}
