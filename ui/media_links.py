"""Owner-only media: which served file each viewer may fetch, and signed URLs for the API.

Gradio serves a component's file from its own cache under `/gradio_api/file=<cache>/<hash>/
<name>`, and that route checks no owner. So every video, poster, input image and export
the page is given is a symbolic link with a recognisable name (`dreamina_…`), recorded
here as issued to one viewer for an hour; `ui/gate.py` answers 404 to a request for such a
name from anyone it was not issued to (or after the hour). The media folders themselves
are not in `allowed_paths`.

A viewer is who the gate can recognise on a plain file request: a signed-in user's name,
a public visitor's signed cookie. Where the request carries nothing to recognise (a local
studio's one owner, a public demo's API client), the link is a bearer link for the hour.

The API's job records carry `…_url`s of the gate's own route, `/studio-media/<expiry>.
<signature>/<folder>/<file>`, signed with the server secret for the same viewer and hour.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from jobs.settings import Settings
from ui import visitor_id

ANYONE = "*"
RENEWABLE_SECONDS = 24 * 3600
ROUTE = "/studio-media/"
_MEDIA_NAME = re.compile(r"^dreamina[-_][^/]*\.(mp4|webp|png|jpe?g|zip)$", re.I)
_FOLDERS = ("videos", "posters", "inputs")


def is_media_name(name: str) -> bool:
    """A name the studio gives the files it serves (download names, posters, exports)."""
    return bool(_MEDIA_NAME.match(name))


def viewer_for(settings: Settings, owner: str) -> str:
    """Who may fetch an owner's file: the owner when a file request can be recognised as
    theirs (a signed-in user, a public visitor's cookie), else anyone holding the link."""
    if settings.auth or settings.allowed_users:
        return owner
    if settings.public and owner.startswith("browser-"):
        return owner
    return ANYONE


class MediaLinks:
    """Issued served names, per viewer, in memory; and the signed API URLs."""

    def __init__(self, settings: Settings, root: Path | None = None, clock: object = time.time) -> None:
        self._settings = settings
        # One folder per data folder: each app prunes its own links by its own link life, so
        # an app with short links must never sweep another app's (tests run several at once).
        studio = hashlib.sha256(str(Path(settings.data_dir).resolve()).encode()).hexdigest()[:16]
        self._root = root or Path(tempfile.gettempdir()) / "dreamina-studio-served" / studio
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, dict[str, float]] = {}  # served name -> {viewer: expiry}
        # (viewer, source, name) -> the link already made for it, reused while it is valid
        self._made: dict[tuple[str, str, str], Path] = {}
        self._pruned = 0.0

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    @property
    def lifetime(self) -> int:
        """Seconds a link works after it is issued (STUDIO_MEDIA_LINK_SECONDS, an hour)."""
        return self._settings.media_link_seconds

    @property
    def secret(self) -> bytes:
        return visitor_id.studio_secret(self._settings.data_dir)

    # --- the page: served names ---------------------------------------------------------

    def page_file(self, owner: str, source: str | Path | None, name: str) -> str | None:
        """A link named `name` (which must be a media name) to `source`, issued to the
        owner's viewer for `lifetime` seconds; None when the source is missing. The same
        file under the same name for the same viewer gets the same link while it is valid
        (its hour renewed), so a file shown again is one URL and one folder, not another."""
        if not source or not Path(source).is_file():
            return None
        assert is_media_name(name), name
        resolved = Path(source).resolve()
        viewer = viewer_for(self._settings, owner)
        key = (viewer, str(resolved), name)
        with self._lock:
            made = self._made.get(key)
        if made is not None and self.allows(viewer, name) and _points_to(made, resolved):
            self.issue(owner, name)
            with contextlib.suppress(OSError):
                os.utime(made.parent)  # the folder's age is the link's (see _prune)
            return str(made)
        folder = self._root / secrets.token_hex(8)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        try:
            target.symlink_to(resolved)
        except OSError:  # a file system without symbolic links
            shutil.copyfile(source, target)
        self.issue(owner, name)
        with self._lock:
            self._made[key] = target
        return str(target)

    def issue(self, owner: str, name: str) -> None:
        now = self._now()
        with self._lock:
            self._issued.setdefault(name, {})[viewer_for(self._settings, owner)] = now + self.lifetime
            if now - self._pruned > 60:
                self._prune(now)

    def renew(self, owner: str, links: list[str]) -> int:
        """An open page's links (their server paths, as the page holds them) issued again
        to the owner's viewer for `lifetime` seconds, and kept on disk: only names once
        issued to that viewer count (a page cannot claim another viewer's file), and the
        URLs stay the same. Returns how many were renewed."""
        now, viewer, renewed = self._now(), viewer_for(self._settings, owner), 0
        root = self._root.resolve()
        for link in links:
            path = Path(link)
            if not is_media_name(path.name) or path.parent.parent.resolve() != root:
                continue
            with self._lock:
                viewers = self._issued.get(path.name, {})
                if viewer not in viewers:
                    continue
                viewers[viewer] = now + self.lifetime
            try:
                os.utime(path.parent)  # the folder's age is the link's (see _prune)
            except OSError:
                continue
            renewed += 1
        return renewed

    def _prune(self, now: float) -> None:
        self._pruned = now
        for name in list(self._issued):
            # Expired records are kept a day: a page asleep that long may still renew them.
            viewers = {v: t for v, t in self._issued[name].items() if t > now - RENEWABLE_SECONDS}
            if viewers:
                self._issued[name] = viewers
            else:
                del self._issued[name]
        self._made = {key: link for key, link in self._made.items() if key[2] in self._issued}
        if self._root.is_dir():  # links older than their hour serve nobody
            for folder in self._root.iterdir():
                try:
                    if now - folder.stat().st_mtime > 2 * self.lifetime:
                        shutil.rmtree(folder, ignore_errors=True)
                except OSError:
                    continue

    def linked_source(self, owner: str, link: str) -> Path | None:
        """The media file behind `link` when it is a link this studio issued to the owner's
        viewer (Reuse settings puts a job's start image in the form as one, and the page
        sends it back as the image); None for any other path."""
        path = Path(link)
        if not is_media_name(path.name) or path.parent.parent.resolve() != self._root.resolve():
            return None
        if not self.allows(viewer_for(self._settings, owner), path.name):
            return None
        target = path.resolve()
        media = Path(self._settings.data_dir).resolve()
        if target.parent.name not in _FOLDERS or not target.is_relative_to(media) or not target.is_file():
            return None
        return target

    def allows(self, viewer: str | None, name: str) -> bool:
        """May `viewer` (None: unrecognised) fetch the served file called `name`?"""
        now = self._now()
        with self._lock:
            issued = self._issued.get(name, {})
            return any(
                expiry > now and (who == ANYONE or (viewer is not None and who == viewer))
                for who, expiry in issued.items()
            )

    # --- the API: signed URLs -------------------------------------------------------------

    def api_url(self, root_url: str, owner: str, source: str | None, name: str | None = None) -> str | None:
        """A signed URL for a file under the media folders, for the owner's viewer. `name`
        (a media name) ends the URL, so a client saving it by its last segment (gradio_client
        does) saves the file under its download name; it is not part of the signature."""
        if not source:
            return None
        path = Path(source)
        relative = f"{path.parent.name}/{path.name}"
        if path.parent.name not in _FOLDERS or not path.is_file():
            return None
        expiry = int(self._now()) + self.lifetime
        signature = visitor_id.sign(
            self.secret, f"media|{relative}|{expiry}|{viewer_for(self._settings, owner)}"
        )
        tail = f"/{name}" if name and is_media_name(name) else ""
        return f"{root_url.rstrip('/')}{ROUTE}{expiry}.{signature}/{relative}{tail}"

    def anyone_url(self, root_url: str, source: str | None) -> str | None:
        """A signed URL like api_url's that anyone holding it may fetch until it expires:
        for a caller that fetches or shows the file without the owner's sign-in (an MCP
        agent, whose host renders the video; ui/mcp_tools.py)."""
        if not source:
            return None
        path = Path(source)
        relative = f"{path.parent.name}/{path.name}"
        if path.parent.name not in _FOLDERS or not path.is_file():
            return None
        expiry = int(self._now()) + self.lifetime
        signature = visitor_id.sign(self.secret, f"media|{relative}|{expiry}|{ANYONE}")
        return f"{root_url.rstrip('/')}{ROUTE}{expiry}.{signature}/{relative}"

    def api_file(self, token: str, relative: str, viewer: str | None) -> Path | None:
        """The file a signed URL names, if its signature holds for `viewer` (or anyone) and
        it has not expired; else None."""
        expiry_text, _, signature = token.partition(".")
        folder, _, name = relative.partition("/")
        name, _, tail = name.partition("/")
        relative = f"{folder}/{name}"
        if (
            not expiry_text.isdigit()
            or folder not in _FOLDERS
            or not name
            or "/" in name
            or name.startswith(".")
            or (tail and not is_media_name(tail))
        ):
            return None
        if int(expiry_text) < self._now():
            return None
        for who in (ANYONE, viewer):
            if who is None:
                continue
            expected = visitor_id.sign(self.secret, f"media|{relative}|{expiry_text}|{who}")
            if secrets.compare_digest(expected, signature):
                path = Path(self._settings.data_dir) / folder / name
                return path if path.is_file() else None
        return None


def _points_to(link: Path, source: Path) -> bool:
    """Is `link` still on disk and still the file `source` (a symbolic link to it, or the
    copy made where links are not possible)?"""
    try:
        return link.resolve() == source or (link.is_file() and not link.is_symlink())
    except OSError:
        return False
