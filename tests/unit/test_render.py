"""The simulator's renderer: real H.264 that browsers play, exact sizes and frame counts,
reproducible per seed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from providers import render
from providers.catalog import get_model, nominal_size

SIM_T2V = get_model("simulator/dreamina-3-0/text-to-video")
RATIOS = SIM_T2V.param("aspect_ratio").choices  # type: ignore[union-attr]
PROMPT = "A lighthouse on a rocky cliff at dawn, waves crashing below, seagulls circling"


def probe(path: Path) -> dict[str, object]:
    """What a player sees: codec, pixel format, size, rate, and every decoded frame's hash."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        hashes = [hashlib.sha256(f.to_ndarray().tobytes()).hexdigest() for f in container.decode(stream)]
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "rate": stream.average_rate,
            "hashes": hashes,
        }


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            size = len(data) - pos
        boxes.append(data[pos + 4 : pos + 8].decode("latin-1"))
        pos += size
    return boxes


def t2v(
    tmp_path: Path, name: str, *, prompt: str = PROMPT, size=(640, 360), frames: int = 121, seed: int = 7
) -> Path:  # type: ignore[no-untyped-def]
    width, height = size
    return render.render_text_to_video(
        prompt, width=width, height=height, frames=frames, seed=seed, dest=tmp_path / name
    )


# --- preview_size ------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["720P", "1080P"])
@pytest.mark.parametrize("ratio", RATIOS)
def test_preview_keeps_the_exact_aspect_ratio_with_even_sides(resolution: str, ratio: str) -> None:
    nominal_w, nominal_h = nominal_size(resolution, ratio)
    width, height = render.preview_size(nominal_w, nominal_h)
    assert Fraction(width, height) == Fraction(nominal_w, nominal_h)
    assert width % 2 == 0 and height % 2 == 0
    assert 320 < max(width, height) <= 640, "as large as the limit allows, never over it"


def test_preview_is_never_smaller_than_the_best_common_divisor() -> None:
    # 21:9 at 720P is 1456x624: the largest divisor gives 364x156; the exact ratio allows more.
    assert render.preview_size(1456, 624) == (630, 270)
    assert render.preview_size(1920, 1088) == (600, 340)
    assert render.preview_size(1280, 720) == (640, 360)


def test_preview_of_a_small_image_is_not_upscaled_and_an_odd_ratio_stays_close() -> None:
    assert render.preview_size(320, 240) == (320, 240)
    assert render.preview_size(400, 300, max_side=1000) == (400, 300)
    width, height = render.preview_size(1001, 667)  # 1001:667 has no even multiple under 640
    assert width % 2 == 0 and height % 2 == 0 and max(width, height) <= 640
    assert abs(width / height - 1001 / 667) < 0.01
    with pytest.raises(ValueError):
        render.preview_size(1, 100)


# --- Text-to-video -------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", RATIOS)
def test_each_aspect_ratio_renders_playable_h264_of_the_requested_shape(tmp_path: Path, ratio: str) -> None:
    size = render.preview_size(*nominal_size("720P", ratio))
    info = probe(t2v(tmp_path, "out.mp4", size=size))
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == size
    assert Fraction(*size) == Fraction(*nominal_size("720P", ratio))
    assert info["rate"] == 24
    assert len(info["hashes"]) == 121  # type: ignore[arg-type]


def test_241_frames_make_a_ten_second_video(tmp_path: Path) -> None:
    path = t2v(tmp_path, "long.mp4", size=(480, 272), frames=241)
    info = probe(path)
    assert len(info["hashes"]) == 241  # type: ignore[arg-type]
    with av.open(str(path)) as container:
        assert container.duration / av.time_base == pytest.approx(241 / 24, abs=0.05)


def test_the_same_seed_gives_identical_frames_and_another_seed_does_not(tmp_path: Path) -> None:
    first = probe(t2v(tmp_path, "a.mp4", seed=11))["hashes"]
    again = probe(t2v(tmp_path, "b.mp4", seed=11))["hashes"]
    other = probe(t2v(tmp_path, "c.mp4", seed=12))["hashes"]
    assert first == again
    assert not set(first) & set(other)  # type: ignore[arg-type]


def test_the_prompt_is_drawn_into_the_frames(tmp_path: Path) -> None:
    one = probe(t2v(tmp_path, "a.mp4", prompt="a red fox", frames=2))["hashes"]
    two = probe(t2v(tmp_path, "b.mp4", prompt="a blue whale", frames=2))["hashes"]
    assert one != two


def test_the_card_moves_from_frame_to_frame(tmp_path: Path) -> None:
    hashes = probe(t2v(tmp_path, "a.mp4", frames=25))["hashes"]
    assert len(set(hashes)) == 25  # type: ignore[arg-type]


def test_the_moov_atom_comes_before_the_media_data(tmp_path: Path) -> None:
    boxes = top_level_boxes(t2v(tmp_path, "a.mp4", frames=24))
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_long_and_unusual_prompts_render(tmp_path: Path) -> None:
    prompt = ("word " * 150) + "https://example.com/" + "x" * 120 + " שלום עולם 一只猫 🌅"
    assert len(probe(t2v(tmp_path, "a.mp4", prompt=prompt, size=(232, 544), frames=3))["hashes"]) == 3  # type: ignore[arg-type]
    assert len(probe(t2v(tmp_path, "b.mp4", prompt="   ", frames=3))["hashes"]) == 3  # type: ignore[arg-type]


# --- Image-to-video ------------------------------------------------------------------------


def grid_image(path: Path, size: tuple[int, int]) -> Path:
    image = Image.new("RGB", size, (30, 60, 90))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 50):
        draw.line((x, 0, x, size[1]), fill=(230, 230, 230), width=3)
    for y in range(0, size[1], 50):
        draw.line((0, y, size[0], y), fill=(230, 230, 230), width=3)
    draw.ellipse((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill=(220, 120, 40))
    image.save(path)
    return path


@pytest.mark.parametrize("image_size", [(1600, 900), (768, 1024)], ids=["landscape", "portrait"])
def test_an_image_is_animated_at_its_own_aspect_ratio(tmp_path: Path, image_size: tuple[int, int]) -> None:
    image = grid_image(tmp_path / "in.png", image_size)
    size = render.preview_size(*image_size)
    path = render.render_image_to_video(
        image, width=size[0], height=size[1], frames=121, seed=5, dest=tmp_path / "out.mp4"
    )
    info = probe(path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == size and Fraction(*size) == Fraction(*image_size)
    hashes: list[str] = info["hashes"]  # type: ignore[assignment]
    assert len(hashes) == 121 and len(set(hashes)) > 100, "the picture pans"
    assert top_level_boxes(path).index("moov") < top_level_boxes(path).index("mdat")


def test_the_pan_is_reproducible_per_seed(tmp_path: Path) -> None:
    image = grid_image(tmp_path / "in.jpg", (1200, 800))

    def frames(seed: int, name: str) -> list[str]:
        path = render.render_image_to_video(
            image, width=480, height=320, frames=30, seed=seed, dest=tmp_path / name
        )
        return probe(path)["hashes"]  # type: ignore[return-value]

    assert frames(1, "a.mp4") == frames(1, "b.mp4")
    assert frames(1, "a.mp4") != frames(2, "c.mp4")


def halves_image(path: Path, upright: tuple[int, int], orientation: int) -> Path:
    """A JPEG whose upright picture is red above and blue below, stored turned so that its
    EXIF orientation tag is needed to show it upright."""
    picture = Image.new("RGB", upright, (220, 30, 30))
    ImageDraw.Draw(picture).rectangle((0, upright[1] // 2, upright[0], upright[1]), fill=(30, 30, 220))
    stored = {1: picture, 6: picture.transpose(Image.Transpose.ROTATE_90)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


@pytest.mark.parametrize("orientation", [1, 6], ids=["stored-upright", "stored-sideways"])
def test_a_large_jpeg_is_shown_upright_at_the_pan_room_size(tmp_path: Path, orientation: int) -> None:
    # 2400x3200 upright: decoded at a reduced JPEG scale (draft), turned by its EXIF tag.
    image = halves_image(tmp_path / "in.jpg", (2400, 3200), orientation)
    width, height = render.preview_size(2400, 3200)
    planes = render._load_source(image, width, height)
    assert planes[0].shape == (
        render.even(height * render._PAN_ROOM),
        render.even(width * render._PAN_ROOM),
    )
    frame = next(iter(render.image_to_video_frames(image, width=width, height=height, frames=2, seed=3)))
    rgb = frame.to_ndarray(format="rgb24").astype(int)
    top, bottom = rgb[height // 8 : height // 3], rgb[2 * height // 3 : 7 * height // 8]
    assert top[..., 0].mean() > 150 > top[..., 2].mean(), "red on top, as the EXIF tag says"
    assert bottom[..., 2].mean() > 150 > bottom[..., 0].mean()


def test_a_picture_smaller_than_the_video_is_enlarged_and_still_pans(tmp_path: Path) -> None:
    image = grid_image(tmp_path / "small.png", (200, 120))
    path = render.render_image_to_video(
        image, width=320, height=192, frames=24, seed=4, dest=tmp_path / "o.mp4"
    )
    hashes: list[str] = probe(path)["hashes"]  # type: ignore[assignment]
    assert len(hashes) == 24 and len(set(hashes)) > 20


def test_half_pixel_phases_are_the_picture_shifted_by_half_a_pixel() -> None:
    plane = (np.arange(6 * 8, dtype=np.uint8) * 5).reshape(6, 8)
    as_is, right, down, both = render._half_pixel_phases([plane, plane[::2, ::2], plane[::2, ::2]])[0]
    wide = plane.astype(int)
    assert (as_is == plane).all()
    assert (right[:, :-1] == (wide[:, :-1] + wide[:, 1:] + 1) // 2).all() and (
        right[:, -1] == plane[:, -1]
    ).all()
    assert (down[:-1] == (wide[:-1] + wide[1:] + 1) // 2).all()
    expected = (
        ((wide[:-1, :-1] + wide[:-1, 1:] + 1) // 2) + ((wide[1:, :-1] + wide[1:, 1:] + 1) // 2) + 1
    ) // 2
    assert (both[:-1, :-1] == expected).all()


def test_an_unreadable_picture_fails_the_render_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "not-an-image.jpg"
    bad.write_bytes(b"this is not a JPEG")
    out = tmp_path / "out"
    with pytest.raises(OSError):
        render.render_image_to_video(bad, width=320, height=192, frames=24, seed=1, dest=out / "o.mp4")
    assert not out.exists() or list(out.iterdir()) == []


# --- encode_frames ---------------------------------------------------------------------------


def test_encode_frames_takes_arrays_and_images(tmp_path: Path) -> None:
    gradient = np.tile(np.arange(160, dtype=np.uint8), (96, 1))
    rgb = np.stack([gradient, gradient[:, ::-1], np.full_like(gradient, 90)], axis=-1)
    frames = [rgb, Image.fromarray(rgb[:, ::-1]), np.full((144, 160), 128, np.uint8)]  # RGB, Pillow, I420
    info = probe(render.encode_frames(frames, width=160, height=96, dest=tmp_path / "x.mp4"))
    assert info["size"] == (160, 96) and len(info["hashes"]) == 3  # type: ignore[arg-type]


def test_encode_frames_takes_the_callers_x264_options_and_key_frame_interval(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (96, 160, 3), dtype=np.uint8) for _ in range(30)]
    dest = render.encode_frames(
        frames, width=160, height=96, dest=tmp_path / "kept.mp4", fps=10,
        x264_options={"preset": "veryfast", "crf": "20"}, gop_seconds=1,
    )
    with av.open(str(dest)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        keys = sorted(round(float(p.pts * stream.time_base) * 10) for p in packets if p.is_keyframe)
        settings = b"".join(bytes(p) for p in packets[:1])
    assert keys[0] == 0 and len(keys) >= 3  # a key frame at least every second at 10 fps
    assert max(b - a for a, b in zip(keys, keys[1:], strict=False)) <= 10
    assert b"crf=20.0" in settings and b"subme=2" in settings  # x264's own note of its settings: veryfast


def test_a_failed_encode_leaves_no_file_behind(tmp_path: Path) -> None:
    good = np.zeros((96, 160, 3), np.uint8)
    wrong = np.zeros((100, 160, 3), np.uint8)
    with pytest.raises(ValueError, match="100"):
        render.encode_frames([good, wrong], width=160, height=96, dest=tmp_path / "x.mp4")
    with pytest.raises(ValueError):
        render.encode_frames([], width=160, height=96, dest=tmp_path / "y.mp4")
    assert list(tmp_path.iterdir()) == []


def test_an_error_while_drawing_reaches_the_caller_and_stops_the_encode(tmp_path: Path) -> None:
    drawn: list[int] = []
    workers_before = {t for t in threading.enumerate() if t.name == "render-frames"}

    def frames() -> Iterator[np.ndarray]:
        for n in range(10):
            if n == 5:
                raise RuntimeError("drawing broke at frame 5")
            drawn.append(n)
            yield np.zeros((96, 160, 3), np.uint8)

    with pytest.raises(RuntimeError, match="frame 5"):
        render.encode_frames(frames(), width=160, height=96, dest=tmp_path / "x.mp4")
    assert drawn == [0, 1, 2, 3, 4] and list(tmp_path.iterdir()) == []
    workers_after = {t for t in threading.enumerate() if t.name == "render-frames"}
    assert workers_after <= workers_before, "the worker has stopped"


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    dest = tmp_path / "x.mp4"
    dest.write_bytes(b"old")
    t2v(tmp_path, "x.mp4", frames=2)
    assert top_level_boxes(dest)[0] == "ftyp"
