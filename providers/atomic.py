"""Writing a file so that a reader sees the old file or the whole new one, never a part:
write beside it under a temporary name, then rename over it. Used by every layer (it sits
here because providers/ imports nothing above it).

Each caller states the durability it needs:

- "none": atomic against a crash of this process; after a power cut the file may be
  missing or empty. For what can be made again (a poster, an export zip, a render cache).
- "file": the data is fsynced before the rename, so after a power cut the file is the old
  one or the whole new one. For records and inputs a job depends on.
- "full": also fsyncs the folder, so the rename itself survives a power cut. For a
  finished download, whose loss would mean fetching a paid video again (or never: the
  provider's URL expires).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

Durability = Literal["none", "file", "full"]


def temp_beside(dest: Path, suffix: str = ".part") -> Path:
    """A fresh hidden name in dest's folder (same file system, so the rename is atomic)."""
    return dest.with_name(f".{dest.name}.{secrets.token_hex(4)}{suffix}")


def fsync_dir(folder: Path) -> None:
    # Makes a rename durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(temp: Path, dest: Path, durable: Durability) -> None:
    """Move a finished temporary file over `dest` with the stated durability."""
    if durable != "none":
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
    os.replace(temp, dest)
    if durable == "full":
        fsync_dir(dest.parent)


@contextlib.contextmanager
def replacing(dest: Path, durable: Durability, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path to write `dest`'s new content to; when the block ends
    normally it replaces `dest` (see commit), when it raises it is removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_beside(dest, suffix)
    try:
        yield temp
        commit(temp, dest, durable)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(dest: Path, data: bytes, durable: Durability) -> None:
    with replacing(dest, durable) as temp:
        temp.write_bytes(data)


def write_text(dest: Path, text: str, durable: Durability) -> None:
    with replacing(dest, durable) as temp:
        temp.write_text(text, encoding="utf-8")


def copy_file(source: Path, dest: Path, durable: Durability) -> None:
    with replacing(dest, durable) as temp:
        shutil.copyfile(source, temp)
