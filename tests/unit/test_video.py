"""Video probe, browser-safe re-encode and poster, on small clips made with PyAV."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from jobs.video import ensure_browser_playable, is_faststart, make_poster, playable_with_poster, probe

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def make_clip(
    path: Path,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    size: tuple[int, int] = (320, 240),
    frames: int = 24,
    container: str | None = None,
    audio: bool = False,
    faststart: bool = False,
) -> Path:
    """A one-second 24 fps clip whose first frame is red and the rest blue."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        sound = out.add_stream("aac", rate=44100) if audio else None
        for index in range(frames):
            pixels = np.empty((size[1], size[0], 3), np.uint8)
            pixels[:] = RED if index == 0 else BLUE
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))
        if sound is not None:
            for _ in range(43):  # about one second of silence
                chunk = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                chunk.sample_rate = 44100
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def first_frame_rgb(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        image = frame.to_image()
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int], slack: int = 30) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


# --- probe ---------------------------------------------------------------------------


def test_probe_reads_an_h264_mp4(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4")
    info = probe(path)
    assert (info.codec, info.pix_fmt, info.container) == ("h264", "yuv420p", "mp4")
    assert (info.width, info.height) == (320, 240)
    assert info.frames == 24
    assert info.fps == pytest.approx(24.0)
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.bytes == path.stat().st_size
    assert info.browser_playable


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "container", "name"),
    [
        ("mpeg4", "yuv420p", None, "clip.mp4"),
        ("libx264", "yuv444p", None, "clip.mp4"),
        ("libx264", "yuv420p", "matroska", "clip.mkv"),
        ("libx264", "yuv420p", "mov", "clip.mov"),
    ],
)
def test_probe_tells_what_a_browser_cannot_play(
    tmp_path: Path, codec: str, pix_fmt: str, container: str | None, name: str
) -> None:
    info = probe(make_clip(tmp_path / name, codec=codec, pix_fmt=pix_fmt, container=container))
    assert not info.browser_playable
    assert info.pix_fmt == pix_fmt
    assert info.codec == ("mpeg4" if codec == "mpeg4" else "h264")


def test_probe_refuses_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video at all\n" * 50)
    with pytest.raises(ValueError, match=r"notes\.mp4 is not a readable video"):
        probe(path)


def test_probe_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing"):
        probe(tmp_path / "gone.mp4")


# --- ensure_browser_playable ----------------------------------------------------------


def test_a_playable_faststart_video_is_left_alone(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4", faststart=True)
    assert is_faststart(path)
    before = digest(path)
    info = ensure_browser_playable(path)
    assert info.browser_playable
    assert digest(path) == before


def test_an_mpeg4_video_is_reencoded_in_place_to_h264(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4", codec="mpeg4")
    info = ensure_browser_playable(path)
    assert (info.codec, info.pix_fmt, info.container) == ("h264", "yuv420p", "mp4")
    assert info.browser_playable and is_faststart(path)
    assert info.frames == 24
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert close_to(first_frame_rgb(path), RED)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left


def test_yuv444_odd_sized_mkv_with_sound_becomes_a_playable_mp4(tmp_path: Path) -> None:
    path = make_clip(
        tmp_path / "clip.mkv", pix_fmt="yuv444p", size=(321, 241), container="matroska", audio=True
    )
    info = ensure_browser_playable(path)
    assert info.browser_playable
    assert (info.width, info.height) == (320, 240)  # yuv420p needs even sides
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_a_playable_video_with_its_index_at_the_end_is_remuxed_not_reencoded(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mp4")
    assert not is_faststart(path)
    with av.open(str(path)) as container:
        packets_before = [bytes(p) for p in container.demux(video=0) if p.size]
    ensure_browser_playable(path)
    assert is_faststart(path)
    with av.open(str(path)) as container:
        packets_after = [bytes(p) for p in container.demux(video=0) if p.size]
    assert packets_after == packets_before  # the very same compressed frames


def test_h264_in_quicktime_is_moved_into_mp4_without_reencoding(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mov", container="mov")
    assert probe(path).container == "mov"
    with av.open(str(path)) as container:
        packets_before = [bytes(p) for p in container.demux(video=0) if p.size]
    info = ensure_browser_playable(path)
    assert info.browser_playable and info.container == "mp4"
    with av.open(str(path)) as container:
        packets_after = [bytes(p) for p in container.demux(video=0) if p.size]
    assert packets_after == packets_before


def test_h264_in_matroska_is_reencoded_with_every_frame(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mkv", container="matroska")
    info = ensure_browser_playable(path)
    assert info.browser_playable and info.frames == 24
    assert close_to(first_frame_rgb(path), RED)


def test_ensure_on_a_broken_file_raises_and_leaves_it_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    before = digest(path)
    with pytest.raises(ValueError):
        ensure_browser_playable(path)
    assert digest(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["broken.mp4"]


# --- poster --------------------------------------------------------------------------


def test_poster_is_a_webp_of_the_first_frame_at_the_requested_width(tmp_path: Path) -> None:
    video = make_clip(tmp_path / "clip.mp4", size=(640, 360))
    poster = make_poster(video, tmp_path / "posters" / "clip.webp", max_width=200)
    assert poster == tmp_path / "posters" / "clip.webp"
    with Image.open(poster) as image:
        assert image.format == "WEBP"
        assert image.width == 200
        assert abs(image.height - 360 * 200 / 640) <= 0.5  # aspect kept
        pixel = image.convert("RGB").getpixel((100, 56))
    assert isinstance(pixel, tuple) and close_to((pixel[0], pixel[1], pixel[2]), RED)


def test_poster_of_a_narrow_video_is_not_upscaled(tmp_path: Path) -> None:
    poster = make_poster(make_clip(tmp_path / "clip.mp4"), tmp_path / "p.webp")
    with Image.open(poster) as image:
        assert image.size == (320, 240)


def test_poster_of_a_non_video_raises_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("nope")
    with pytest.raises(ValueError):
        make_poster(path, tmp_path / "p.webp")
    assert not (tmp_path / "p.webp").exists()


# --- both at once: what a finishing job runs ------------------------------------------


@pytest.mark.parametrize(
    ("name", "clip"),
    [
        ("index at the end (remuxed)", {}),
        ("quicktime (remuxed)", {"container": "mov"}),
        ("mpeg4 (re-encoded)", {"codec": "mpeg4"}),
        ("odd-sized yuv444 mkv with sound (re-encoded)", {"container": "matroska", "pix_fmt": "yuv444p", "size": (321, 241), "audio": True}),
        ("already playable (left alone)", {"faststart": True}),
    ],
)
def test_playable_with_poster_says_what_a_fresh_probe_of_the_result_says(
    tmp_path: Path, name: str, clip: dict[str, object]
) -> None:
    suffix = {"mov": ".mov", "matroska": ".mkv"}.get(str(clip.get("container")), ".mp4")
    path = make_clip(tmp_path / f"clip{suffix}", **clip)  # type: ignore[arg-type]
    poster = tmp_path / "posters" / "clip.webp"
    info = playable_with_poster(path, poster, max_width=200)
    assert is_faststart(path) and info.browser_playable, name
    # The facts it returns without probing the result again are the result's own.
    fresh = probe(path)
    assert (info.width, info.height, info.codec, info.pix_fmt, info.frames, info.bytes, info.container) == (
        fresh.width, fresh.height, fresh.codec, fresh.pix_fmt, fresh.frames, fresh.bytes, fresh.container
    ), name
    assert abs(info.duration - fresh.duration) <= 0.05, name
    with Image.open(poster) as image:  # the first picture, from the one read of the original
        assert image.format == "WEBP" and image.width == 200
        pixel = image.convert("RGB").getpixel((100, image.height // 2))
    assert isinstance(pixel, tuple) and close_to((pixel[0], pixel[1], pixel[2]), RED), name


def test_playable_with_poster_of_a_broken_file_raises_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    before = digest(path)
    with pytest.raises(ValueError):
        playable_with_poster(path, tmp_path / "p.webp")
    assert digest(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["broken.mp4"]
