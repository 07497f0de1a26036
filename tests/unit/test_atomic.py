"""providers/atomic.py: a reader sees the old file or the whole new one, and a failed
write leaves neither a partial file nor a stray temporary one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from providers import atomic


@pytest.mark.parametrize("durable", ["none", "file", "full"])
def test_a_write_replaces_the_whole_file(tmp_path: Path, durable: atomic.Durability) -> None:
    dest = tmp_path / "sub" / "record.json"
    atomic.write_text(dest, "old", durable)
    atomic.write_text(dest, "new", durable)
    assert dest.read_text() == "new"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["record.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "video.mp4"
    dest.write_bytes(b"old video")
    with pytest.raises(RuntimeError), atomic.replacing(dest, "file") as temp:
        temp.write_bytes(b"half a vid")
        raise RuntimeError("encoder crashed")
    assert dest.read_bytes() == b"old video"
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]


def test_durability_decides_the_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    counts = {}
    for durable in ("none", "file", "full"):
        synced.clear()
        atomic.write_bytes(tmp_path / f"{durable}.bin", b"x", durable)  # type: ignore[arg-type]
        counts[durable] = len(synced)
    assert counts == {"none": 0, "file": 1, "full": 2}, "full also syncs the folder"


def test_copy_file_copies_whole(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(os.urandom(100_000))
    atomic.copy_file(source, tmp_path / "out" / "copy.png", "file")
    assert (tmp_path / "out" / "copy.png").read_bytes() == source.read_bytes()
