"""Image preflight, fit and prepare_input, on odd images made on the fly (tests/images.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from jobs.image_fit import fit_image, prepare_input
from jobs.images import MAX_FILE_BYTES, PreflightReport, preflight
from providers.base import ValidationError
from providers.catalog import IMAGE_RULES, ImageRules
from tests import images as odd

RULES = IMAGE_RULES


def only_issue(report: PreflightReport) -> tuple[str, str, bool]:
    assert not report.ok
    (issue,) = report.issues
    return issue.rule, issue.message, issue.fixable


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


# --- preflight: images that pass --------------------------------------------------------


def test_a_good_jpeg_passes_with_its_facts(tmp_path: Path) -> None:
    path = odd.good_jpeg(tmp_path)
    report = preflight(path)
    assert report.ok and not report.issues and not report.fixable
    assert (report.width, report.height, report.format) == (1280, 720, "JPEG")
    assert report.bytes == path.stat().st_size
    assert report.summary().startswith("The image is ready: 1280×720 JPEG")


def test_an_alpha_channel_with_nothing_transparent_is_not_an_issue(tmp_path: Path) -> None:
    assert preflight(odd.opaque_rgba_png(tmp_path)).ok


def test_exif_rotation_gives_upright_sides_and_a_note_not_an_error(tmp_path: Path) -> None:
    report = preflight(odd.exif_rotated_jpeg(tmp_path, orientation=6))
    assert report.ok
    assert (report.width, report.height) == (600, 800)  # stored 800×600
    assert report.orientation == 6
    assert report.notes == ("EXIF says rotate 90° clockwise; the studio sends it upright.",)
    assert "sends it upright" in report.summary()


def test_a_camera_mpo_is_an_ordinary_jpeg(tmp_path: Path) -> None:
    path = odd.mpo_jpeg(tmp_path)
    with Image.open(path) as image:
        assert image.format == "MPO" and getattr(image, "n_frames", 1) == 2
    report = preflight(path)
    assert report.ok and report.format == "JPEG"
    prepared = prepare_input(path, RULES, tmp_path / "in", fit=False)
    # Sent as a plain single-picture JPEG: providers that read the container refuse MPO.
    with Image.open(prepared.path) as sent:
        assert sent.format == "JPEG" and getattr(sent, "n_frames", 1) == 1
    assert any("MPO" in change for change in prepared.changes)


def test_a_jpeg_named_png_passes_with_a_note(tmp_path: Path) -> None:
    path = odd.good_jpeg(tmp_path, name="photo.png")
    report = preflight(path)
    assert report.ok and report.format == "JPEG"
    assert "named .png but is really a JPEG" in " ".join(report.notes)


# --- preflight: one test per rule ----------------------------------------------------


def test_bytes_rule_names_the_size_and_the_limit(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.too_big_bytes(tmp_path)))
    assert (rule, fixable) == ("bytes", True)
    assert message == "The image is 5.9 MB; the limit is 4.7 MB."


def test_max_side_rule(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.too_large_sides(tmp_path)))
    assert (rule, fixable) == ("max_side", True)
    assert "5000×3000" in message and "at most 4096 px" in message


def test_min_side_rule(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.too_small(tmp_path)))
    assert (rule, fixable) == ("min_side", True)
    assert "300×200" in message and "at least 320 px" in message


@pytest.mark.parametrize("maker", [odd.too_wide, odd.too_tall])
def test_ratio_rule_both_ways(tmp_path: Path, maker: odd.Maker) -> None:
    rule, message, fixable = only_issue(preflight(maker(tmp_path)))
    assert (rule, fixable) == ("ratio", True)
    assert "4:1" in message and "the limit is 3:1" in message


def test_ratio_just_over_the_limit_is_not_rounded_onto_it(tmp_path: Path) -> None:
    path = tmp_path / "nearly.png"
    Image.new("RGB", (1204, 400), "gray").save(path)  # 3.01:1
    rule, message, _ = only_issue(preflight(path))
    assert rule == "ratio" and "3.01:1" in message


@pytest.mark.parametrize(("maker", "name"), [(odd.webp_still, "WEBP"), (odd.bmp_still, "BMP")])
def test_format_rule_for_other_still_formats(tmp_path: Path, maker: odd.Maker, name: str) -> None:
    rule, message, fixable = only_issue(preflight(maker(tmp_path)))
    assert (rule, fixable) == ("format", True)
    assert message == f"The image is in {name} format; the providers take JPEG or PNG only."


def test_animated_gif_breaks_format_and_animation_rules(tmp_path: Path) -> None:
    report = preflight(odd.animated_gif(tmp_path))
    assert [issue.rule for issue in report.issues] == ["format", "animated"]
    assert report.fixable
    assert "12 animation frames" in report.issues[1].message


def test_apng_is_a_png_but_animated(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.apng(tmp_path)))
    assert (rule, fixable) == ("animated", True)
    assert "3 animation frames" in message and "one still image" in message


def test_multipage_tiff_counts_pages(tmp_path: Path) -> None:
    report = preflight(odd.multipage_tiff(tmp_path))
    assert {issue.rule for issue in report.issues} == {"format", "animated"}
    assert any("3 pages" in issue.message for issue in report.issues)


def test_cmyk_rule(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.cmyk_jpeg(tmp_path)))
    assert (rule, fixable) == ("cmyk", True)
    assert "CMYK" in message and "need RGB" in message


def test_alpha_rule_only_for_real_transparency(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.rgba_png(tmp_path)))
    assert (rule, fixable) == ("alpha", True)
    assert "transparent" in message and "no transparency" in message


@pytest.mark.parametrize("maker", [odd.png_16bit, odd.png_16bit_gray])
def test_bit_depth_rule_for_16_bit_png(tmp_path: Path, maker: odd.Maker) -> None:
    rule, message, fixable = only_issue(preflight(maker(tmp_path)))
    assert (rule, fixable) == ("bit_depth", True)
    assert "16 bits per channel" in message and "8-bit" in message


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = odd.decompression_bomb(tmp_path)
    assert path.stat().st_size < 100_000  # yet 400 megapixels once decoded
    report = preflight(path)
    rule, message, fixable = only_issue(report)
    assert (rule, fixable) == ("bomb", False)
    assert "20000×20000" in message and "400 megapixels" in message and "89 megapixels" in message
    assert "decompression bomb" in message
    assert not report.fixable


def test_the_pixel_limit_is_checked_before_any_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between Pillow's limit and twice it, Pillow only warns; our own check must refuse,
    # and must do so before decoding: this file is also truncated, so a decode would
    # have reported 'unreadable' instead.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300_000)
    path = odd.truncated_png(tmp_path)  # 800×600 = 480,000 pixels
    rule, message, _ = only_issue(preflight(path))
    assert rule == "bomb" and "800×600" in message


# --- preflight: files that are not usable images ---------------------------------------


def test_truncated_png(tmp_path: Path) -> None:
    report = preflight(odd.truncated_png(tmp_path))
    rule, message, fixable = only_issue(report)
    assert (rule, fixable) == ("unreadable", False)
    assert "cut short (truncated)" in message and "download it again" in message


def test_truncated_jpeg(tmp_path: Path) -> None:
    rule, message, _ = only_issue(preflight(odd.truncated_jpeg(tmp_path)))
    assert rule == "unreadable" and "truncated" in message


def test_a_text_file_named_png(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.text_as_png(tmp_path)))
    assert (rule, fixable) == ("not_image", False)
    assert message == "This file is not an image: it contains text."


def test_an_empty_file(tmp_path: Path) -> None:
    rule, message, _ = only_issue(preflight(odd.empty_file(tmp_path)))
    assert rule == "not_image" and "empty" in message


@pytest.mark.parametrize("name", ["drawing.svg", "drawing.png"])
def test_svg_is_named_as_such_whatever_the_file_name(tmp_path: Path, name: str) -> None:
    report = preflight(odd.svg_text(tmp_path, name=name))
    rule, message, fixable = only_issue(report)
    assert (rule, fixable, report.format) == ("format", False, "SVG")
    assert message == "This is an SVG drawing; export it as PNG or JPEG."


def test_heic_gets_its_own_advice(tmp_path: Path) -> None:
    rule, message, fixable = only_issue(preflight(odd.fake_heic(tmp_path)))
    assert (rule, fixable) == ("format", False)
    assert message.startswith("HEIC photos aren't supported by the providers; export it as JPEG")


def test_a_missing_file(tmp_path: Path) -> None:
    rule, message, _ = only_issue(preflight(tmp_path / "nowhere.png"))
    assert rule == "unreadable" and "missing" in message


def test_a_folder_instead_of_a_file_is_a_report_not_a_crash(tmp_path: Path) -> None:
    rule, _, fixable = only_issue(preflight(tmp_path))
    assert rule == "unreadable" and not fixable


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "giant.jpg"
    with path.open("wb") as handle:  # sparse: costs no disk, and must cost no memory
        handle.write(b"\xff\xd8\xff\xe0")
        handle.truncate(MAX_FILE_BYTES + 1)
    rule, message, fixable = only_issue(preflight(path))
    assert (rule, fixable) == ("bytes", False)
    assert "209.7 MB" in message and "4.7 MB" in message


@pytest.mark.parametrize("kind", sorted(odd.ODD_IMAGES))
def test_preflight_never_raises_and_summary_ends_with_what_to_do(tmp_path: Path, kind: str) -> None:
    report = preflight(odd.ODD_IMAGES[kind](tmp_path))
    summary = report.summary()
    if report.ok:
        assert summary.startswith("The image is ready")
    elif report.fixable:
        assert summary.endswith(
            "Turn on 'Fit image' and the studio will fix this for you, or choose another image."
        )
    else:
        assert summary.endswith(f"Choose another image ({RULES.describe()}).")
    for issue in report.issues:
        assert issue.message in summary


# --- fit ---------------------------------------------------------------------------


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


# --- prepare_input -------------------------------------------------------------------


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
