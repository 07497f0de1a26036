"""Content-coding for the studio's two compressing middlewares (ui/frontend_assets.py,
ui/compress_off_loop.py): which encoding a client takes, and a body in it."""

from __future__ import annotations

import gzip

import brotli

GZIP_LEVEL = 6


def accepted(accept_encoding: str, choices: tuple[str, ...]) -> str | None:
    """Which of `choices` to send for this Accept-Encoding header: the one with the highest
    quality value, ties going to the earlier choice; None when the client refuses them all.
    identity is acceptable unless refused by name (or by `*` without being named)."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        token, _, params = item.strip().partition(";")
        token = token.strip().lower()
        if not token:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[token] = max(quality, qualities.get(token, 0.0))
    star = qualities.get("*")

    def quality_of(choice: str) -> float:
        if choice in qualities:
            return qualities[choice]
        if star is not None:
            return star
        return 1.0 if choice == "identity" else 0.0

    best = max(choices, key=lambda c: (quality_of(c), -choices.index(c)))
    return best if quality_of(best) > 0 else None


def compress(body: bytes, encoding: str, brotli_quality: int) -> bytes:
    """`body` in `encoding` (br, gzip, or identity: as it is). Both compressors let go of the
    GIL while they work, so this belongs on a worker thread."""
    if encoding == "br":
        return bytes(brotli.compress(body, quality=brotli_quality))
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return body
