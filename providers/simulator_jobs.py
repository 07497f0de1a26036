"""The simulator's job records: one small JSON file per job (written atomically and
durably, so a restart carries on the same jobs), the copy of its input image, and its seed.
Used by providers/simulator.py."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from providers import atomic
from providers.base import ProviderError
from providers.catalog import SEED_MAX

_REQUEST_ID = re.compile(r"sim-[0-9a-f]{32}")


def load_job(job_path: Callable[[str], Path], request_id: str) -> dict[str, Any]:
    """The record of `request_id` (its file is `job_path(request_id)`), or ProviderError
    not_found for an unknown, malformed or unreadable one."""
    # The id becomes a file name: anything but our own shape is unknown, never a path.
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise ProviderError("not_found", f"The simulator has no job {str(request_id)[:80]!r}.")
    try:
        data = json.loads(job_path(request_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProviderError("not_found", f"The simulator has no job {request_id}.") from None
    except (OSError, ValueError) as exc:
        raise ProviderError("not_found", f"The simulator's record of {request_id} is unreadable.") from exc
    if not isinstance(data, dict):
        raise ProviderError("not_found", f"The simulator's record of {request_id} is unreadable.")
    return data


def keep_image(work_dir: Path, image: Path, request_id: str) -> tuple[Path, str, tuple[int, int]]:
    """Copy the image into work_dir; return the copy, its content hash and its upright size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            width, height = opened.size
            # EXIF orientations 5-8 are quarter turns: the upright picture is transposed.
            if opened.getexif().get(0x0112) in (5, 6, 7, 8):
                width, height = height, width
    except (OSError, UnidentifiedImageError) as exc:
        raise ProviderError(
            "validation",
            "Image: the simulator could not read it as a picture. Use a JPEG or PNG.",
            field="image",
        ) from exc
    folder = work_dir / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{request_id}{image.suffix.lower()[:8]}"
    atomic.copy_file(image, copy, "file")
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    return copy, digest, (width, height)


def seed_of(value: object, request_id: str) -> int:
    """The seed as sent; a random one (-1, missing) is derived from the request id, so it is
    stable across polls and restarts (the engine normally resolves it before submit)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEED_MAX:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) <= SEED_MAX:
        return int(value)
    return int(hashlib.sha256(request_id.encode()).hexdigest()[:8], 16) % (SEED_MAX + 1)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically and durably: a crash or power cut leaves the old record or the new."""
    atomic.write_text(path, json.dumps(data, ensure_ascii=False, sort_keys=True), "file")
