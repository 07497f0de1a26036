"""jobs.image_fit (fit_image, prepare_input): every fixable kind of image turned into an accepted one
(transparency flattened onto white, CMYK converted, EXIF orientation applied, the middle cropped or
padded within the ratio, upscaled, brought under the byte limit), what cannot be fixed refused with
the reason, and prepare copying a good image under an unguessable name, fixing one only when asked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from jobs.image_fit import fit_image, prepare_input
from jobs.images import preflight
from providers.base import ValidationError
from providers.catalog import IMAGE_RULES, ImageRules
from tests import images as odd

RULES = IMAGE_RULES


def assert_within_rules(path: Path, rules: ImageRules = RULES) -> None:
    """The fitted file, checked with Pillow directly rather than through preflight."""
    assert path.stat().st_size < rules.max_bytes
    with Image.open(path) as image:
        assert image.format in rules.formats
        assert getattr(image, "n_frames", 1) == 1
        assert image.mode in ("RGB", "L", "P")
        width, height = image.size
    assert max(width, height) <= rules.max_side
    assert min(width, height) >= rules.min_side
    assert max(width, height) / min(width, height) <= rules.max_ratio
    assert preflight(path, rules).ok


def colour_at(path: Path, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(path) as image:
        pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 24) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


EXPECTED_CHANGE = {
    "cmyk_jpeg": "Converted CMYK to RGB",
    "png_16bit": "Converted 16-bit colour to 8-bit",
    "png_16bit_gray": "Converted 16-bit colour to 8-bit",
    "animated_gif": "Used the first of 12 animation frames",
    "apng": "Used the first of 3 animation frames",
    "multipage_tiff": "Used the first of 3 pages",
    "webp": "Converted WEBP to JPEG (quality 92)",
    "bmp": "Converted BMP to PNG",
    "rgba_png": "Flattened transparency onto white",
    "too_wide": "Cropped to 3:1 from 4:1",
    "too_tall": "Cropped to 3:1 from 4:1",
    "too_small": "Scaled up from 300×200 to 480×320",
    "too_large_sides": "Scaled down from 5000×3000 to 4096×2458",
    "too_big_bytes": "to get under 4.7 MB",
}


@pytest.mark.parametrize("kind", sorted(odd.FIXABLE))
def test_fit_turns_every_fixable_kind_into_an_accepted_image(tmp_path: Path, kind: str) -> None:
    source = odd.FIXABLE[kind](tmp_path)
    assert preflight(source).fixable
    out = tmp_path / "out"
    out.mkdir()

    result = fit_image(source, RULES, out)

    assert result.path.parent == out
    assert result.report.ok
    assert_within_rules(result.path)
    assert any(EXPECTED_CHANGE[kind] in change for change in result.changes), result.changes


def test_fit_flattens_transparency_onto_white(tmp_path: Path) -> None:
    result = fit_image(odd.rgba_png(tmp_path), RULES, tmp_path / "flat.png")
    assert close_to(colour_at(result.path, (10, 10)), (255, 255, 255))  # was see-through
    assert close_to(colour_at(result.path, (600, 400)), odd.RED)


def test_fit_converts_cmyk_colours_faithfully(tmp_path: Path) -> None:
    result = fit_image(odd.cmyk_jpeg(tmp_path), RULES, tmp_path / "rgb.jpg")
    red, green, blue = colour_at(result.path, (400, 300))
    assert red > 200 and green < 90 and blue < 90  # no magenta/yellow ink = red on screen


def test_fit_applies_exif_orientation_and_drops_the_tag(tmp_path: Path) -> None:
    result = fit_image(odd.exif_rotated_jpeg(tmp_path, orientation=6), RULES, tmp_path / "upright.jpg")
    assert (result.report.width, result.report.height) == (600, 800)
    assert close_to(colour_at(result.path, (300, 100)), odd.RED)  # the left half went on top
    assert close_to(colour_at(result.path, (300, 700)), odd.BLUE)
    with Image.open(result.path) as image:
        assert image.getexif().get(0x0112, 1) == 1
    assert result.report.orientation == 1
    assert "Turned it upright as its EXIF orientation says (rotate 90° clockwise)" in result.changes


def test_fit_crops_the_middle_and_keeps_it_sharp(tmp_path: Path) -> None:
    path = tmp_path / "banner.png"
    banner = Image.new("RGB", (1600, 400), odd.BLUE)
    banner.paste(odd.RED, (799, 0, 801, 400))  # a 2-pixel line at the very centre
    banner.save(path)
    result = fit_image(path, RULES, tmp_path / "out")
    assert (result.report.width, result.report.height) == (1200, 400)
    assert colour_at(result.path, (599, 200)) == odd.RED  # exact: a crop, not a resample
    assert colour_at(result.path, (600, 200)) == odd.RED
    assert colour_at(result.path, (602, 200)) == odd.BLUE


def test_fit_can_pad_instead_of_crop(tmp_path: Path) -> None:
    result = fit_image(odd.too_wide(tmp_path), RULES, tmp_path / "padded", mode="pad")
    assert (result.report.width, result.report.height) == (1600, 534)
    assert "Padded to 3:1 from 4:1 with black bars" in result.changes
    assert close_to(colour_at(result.path, (800, 2)), (0, 0, 0))
    assert_within_rules(result.path)


def test_fit_keeps_the_ratio_within_the_limit_after_rounding(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (6000, 2000), "teal").save(path)
    result = fit_image(path, RULES, tmp_path / "out")
    assert (result.report.width, result.report.height) == (4096, 1366)
    assert "Scaled down from 6000×2000 to 4096×1366" in result.changes
    assert_within_rules(result.path)


def test_fit_upscales_a_small_wide_image_without_breaking_the_ratio(tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    Image.new("RGB", (900, 300), "navy").save(path)
    result = fit_image(path, RULES, tmp_path / "out")
    assert (result.report.width, result.report.height) == (960, 320)
    assert_within_rules(result.path)


def test_fit_of_a_file_path_sets_the_suffix_of_the_format_chosen(tmp_path: Path) -> None:
    result = fit_image(odd.too_big_bytes(tmp_path), RULES, tmp_path / "fitted.png")
    assert result.path == tmp_path / "fitted.jpg"
    assert result.report.format == "JPEG"
    assert not (tmp_path / "fitted.png").exists()


def test_fit_brings_a_4096_noise_png_under_the_byte_limit(tmp_path: Path) -> None:
    source = odd.big_png_4096(tmp_path)
    assert preflight(source).has("bytes")
    result = fit_image(source, RULES, tmp_path / "fitted")
    assert_within_rules(result.path)
    # Noise is the worst case: it has to shrink, and is said to.
    assert any(change.startswith("Scaled down from 4096×4096") for change in result.changes)
    assert result.report.bytes > RULES.max_bytes * 0.6  # not crushed far below the limit


def test_fit_honours_other_rules(tmp_path: Path) -> None:
    strict = ImageRules(max_bytes=100_000, max_side=1000, min_side=500, max_ratio=2.0)
    result = fit_image(odd.too_large_sides(tmp_path), strict, tmp_path / "out")
    assert_within_rules(result.path, strict)
    assert result.report.bytes < 100_000


@pytest.mark.parametrize("kind", sorted(odd.UNFIXABLE))
def test_fit_refuses_what_cannot_be_fixed_with_the_reason(tmp_path: Path, kind: str) -> None:
    source = odd.UNFIXABLE[kind](tmp_path)
    with pytest.raises(ValidationError) as caught:
        fit_image(source, RULES, tmp_path / "out.png")
    assert caught.value.field == "image"
    assert caught.value.message == preflight(source).summary()
    assert not list(tmp_path.glob("out*"))


def test_prepare_copies_a_good_image_unchanged_under_an_unguessable_name(tmp_path: Path) -> None:
    source = odd.good_jpeg(tmp_path)
    inputs = tmp_path / "data" / "inputs"

    result = prepare_input(source, RULES, inputs, fit=False)

    assert result.changes == ()
    assert result.path.parent == inputs and result.path.suffix == ".jpg"
    assert len(result.path.stem) >= 20 and "good" not in result.path.name
    assert hashlib.sha256(result.path.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert result.report.ok
    again = prepare_input(source, RULES, inputs, fit=False)
    assert again.path != result.path


def test_prepare_gives_a_mislabelled_jpeg_the_right_suffix(tmp_path: Path) -> None:
    result = prepare_input(odd.good_jpeg(tmp_path, name="photo.png"), RULES, tmp_path / "in", fit=False)
    assert result.path.suffix == ".jpg" and result.report.notes == ()


def test_prepare_sends_a_rotated_photo_upright(tmp_path: Path) -> None:
    result = prepare_input(odd.exif_rotated_jpeg(tmp_path, orientation=8), RULES, tmp_path / "in", fit=False)
    assert (result.report.width, result.report.height) == (600, 800)
    assert close_to(colour_at(result.path, (300, 700)), odd.RED)  # 90° counter-clockwise: left to bottom
    assert any("upright" in change for change in result.changes)


def test_prepare_without_fit_refuses_a_fixable_image_and_suggests_fit(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    with pytest.raises(ValidationError) as caught:
        prepare_input(odd.too_small(tmp_path), RULES, inputs, fit=False)
    assert caught.value.field == "image"
    assert "300×200" in caught.value.message and "Turn on 'Fit image'" in caught.value.message
    assert list(inputs.iterdir()) == []


def test_prepare_with_fit_fixes_a_fixable_image(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    result = prepare_input(odd.animated_gif(tmp_path), RULES, inputs, fit=True)
    assert result.path.parent == inputs
    assert_within_rules(result.path)
    assert "Used the first of 12 animation frames" in result.changes


def test_prepare_with_fit_still_refuses_the_unfixable(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        prepare_input(odd.fake_heic(tmp_path), RULES, tmp_path / "in", fit=True)
    assert caught.value.field == "image"
    assert "HEIC" in caught.value.message
