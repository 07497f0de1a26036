"""An MCP caller's input image, given as an http(s) URL or a data: URI, as a local file.

Agents cannot upload files, so generate_video takes the image as text. Nothing here trusts
it: a data URI is decoded only up to the upload size limit; a URL is fetched only from a
public address (every address its host resolves to is checked, the connection is pinned
to the checked address through safehttpx, Gradio's SSRF-safe transport, and each redirect
is checked again), with a time limit and the same size limit. The file is then checked by
the studio's ordinary image rules (jobs/images.py) when the job is submitted, exactly like
an upload from the page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import re
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from safehttpx import AsyncSecureTransport, matches_domain_whitelist

from providers.base import ValidationError

MAX_REDIRECTS = 3
FETCH_SECONDS = 30.0
_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.S
)
_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/webp": ".webp"}

# Hugging Face's own hosts resolve to private addresses from inside a Space (split DNS);
# Gradio trusts these names for the same reason (gradio.processing_utils).
TRUSTED_HOSTS = ["hf.co", "huggingface.co", "*.hf.co", "*.huggingface.co"]

Resolver = Callable[[str, int], Awaitable[list[str]]]


def _refuse(words: str) -> ValidationError:
    return ValidationError("image", f"Image: {words}")


def is_public_address(address: str) -> bool:
    """True for an address on the public internet (not private, loopback, link-local,
    multicast, reserved or unspecified)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise _refuse(f"the URL's host {host!r} cannot be resolved ({error.strerror}).") from None
    return [str(info[4][0]) for info in infos]


def _write(folder: Path, data: bytes, mime: str) -> Path:
    path = folder / ("image" + _SUFFIX.get(mime.lower(), ".bin"))
    path.write_bytes(data)
    return path


def from_data_uri(value: str, limit_bytes: int, folder: Path) -> Path:
    """A data:[mime];base64,... image written into `folder`."""
    match = _DATA_URI.match(value.strip())
    if not match:
        raise _refuse("a data URI must look like data:image/png;base64,<data>.")
    encoded = re.sub(r"\s+", "", match.group("data"))
    if len(encoded) * 3 // 4 > limit_bytes:
        raise _refuse(f"the data URI is over this studio's {limit_bytes // (1024 * 1024)} MB limit.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("the data URI's base64 is not valid.") from None
    if not data:
        raise _refuse("the data URI is empty.")
    return _write(folder, data, match.group("mime") or "")


async def from_url(
    url: str,
    limit_bytes: int,
    folder: Path,
    *,
    resolve: Resolver = _resolve,
    allowed: Callable[[str], bool] = is_public_address,
    timeout: float = FETCH_SECONDS,
) -> Path:
    """Download an http(s) image URL from a public address into `folder` (see the module
    docstring). `resolve` and `allowed` exist for tests, which have no public internet."""
    try:
        return await asyncio.wait_for(_fetch(url, limit_bytes, folder, resolve, allowed), timeout)
    except TimeoutError:
        raise _refuse(f"the URL did not answer with the whole image within {timeout:.0f} s.") from None


async def _fetch(
    url: str, limit_bytes: int, folder: Path, resolve: Resolver, allowed: Callable[[str], bool]
) -> Path:
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _refuse("give an http(s) URL or a data: URI.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await resolve(parts.hostname, port)
        trusted = matches_domain_whitelist(parts.hostname, TRUSTED_HOSTS)
        if not addresses or not (trusted or all(allowed(a) for a in addresses)):
            raise _refuse(
                f"the URL's host {parts.hostname!r} is not a public internet address; "
                "give a public URL or a data: URI."
            )
        transport = AsyncSecureTransport(addresses[0])
        async with (
            httpx.AsyncClient(transport=transport, follow_redirects=False) as client,
            client.stream("GET", url, headers={"accept": "image/*"}) as response,
        ):
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise _refuse(f"the URL answered HTTP {response.status_code}, not an image.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit_bytes:
                raise _refuse(f"the file is over this studio's {limit_bytes // (1024 * 1024)} MB limit.")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data.extend(chunk)
                if len(data) > limit_bytes:
                    raise _refuse(f"the file is over this studio's {limit_bytes // (1024 * 1024)} MB limit.")
            mime = response.headers.get("content-type", "").split(";")[0].strip()
            return _write(folder, bytes(data), mime)
    raise _refuse(f"the URL redirected more than {MAX_REDIRECTS} times.")


async def image_file(value: str, limit_bytes: int) -> Path:
    """The caller's image (URL or data URI) as a file in a new temporary folder; the caller
    deletes the folder once the job is submitted (the engine keeps its own copy)."""
    text = value.strip()
    folder = Path(tempfile.mkdtemp(prefix="studio-mcp-image-"))
    try:
        if text.lower().startswith("data:"):
            return await asyncio.to_thread(from_data_uri, text, limit_bytes, folder)
        if text.lower().startswith(("http://", "https://")):
            return await from_url(text, limit_bytes, folder)
    except BaseException:
        remove(folder)
        raise
    remove(folder)
    raise _refuse("give an http(s) URL or a data: URI (data:image/png;base64,...).")


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
