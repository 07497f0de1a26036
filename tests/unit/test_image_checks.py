"""jobs.images.preflight on every kind of picture: good JPEGs and PNGs with their facts, each rule
(bytes, sides, ratio, format, animation, pages, CMYK, transparency, bit depth) naming its limit,
decompression bombs refused from the header before any decoding, broken, empty, missing and foreign
files reported without a crash, and a summary that always ends with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from jobs.image_fit import prepare_input
from jobs.images import MAX_FILE_BYTES, PreflightReport, preflight
from providers.catalog import IMAGE_RULES
from tests import images as odd

RULES = IMAGE_RULES


def only_issue(report: PreflightReport) -> tuple[str, str, bool]:
    assert not report.ok
    (issue,) = report.issues
    return issue.rule, issue.message, issue.fixable


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
