"""History operations on top of the store: delete a job, export jobs, keep under the size cap.

Every file operation here is confined to the media folders inside `settings.data_dir`
(videos, posters, inputs): a path in a row that points anywhere else (the database itself,
a hand-edited row, a symlink planted in a media folder) is left alone, never removed and
never read into an export.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
import zipfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jobs import job_words
from jobs.records import TERMINAL_STATES, HistoryQuery, JobRecord
from jobs.settings import Settings
from jobs.store import JobStore
from providers import atomic
from providers.base import StudioError

CAP_NOTE = job_words.TEMPLATES["storage_cap"]
EXPORT_TTL_SECONDS = 3600
_EXPORT_PAGE = 200
_COPY_CHUNK = 1024 * 1024


class JobActiveError(StudioError):
    """The job is still running, so it cannot be deleted yet."""


class NothingToExportError(StudioError):
    """None of the requested jobs are in the owner's history."""


def _inside(path: str | None, root: Path) -> Path | None:
    """`path` as an absolute path if it names something inside `root`, else None.

    Both the spelled path (with `..` collapsed) and the real path (symlinks followed) must be
    inside: the first stops a link *outside* that points in from being unlinked, the second
    stops a link *inside* that points out from being read or trusted.
    """
    if not path:
        return None
    root_real = Path(os.path.realpath(root))
    root_abs = Path(os.path.abspath(root))
    spelled = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    if not (spelled.is_relative_to(root_abs) or spelled.is_relative_to(root_real)):
        return None
    if not real.is_relative_to(root_real) or real == root_real:
        return None
    return spelled


def _media_file(path: str | None, settings: Settings) -> Path | None:
    """`path` if it lies inside one of the media folders, else None."""
    for folder in settings.media_dirs:
        inside = _inside(path, folder)
        if inside is not None:
            return inside
    return None


def _remove_file(store: JobStore, settings: Settings, path: str | None) -> int:
    """Remove one job file if it is inside a media folder, a regular file, and no other
    job still names it. Returns the bytes freed (0 when nothing was removed)."""
    target = _media_file(path, settings)
    if target is None or path is None or store.references(path) > 0:
        return 0
    try:
        if not target.is_file():
            return 0
        size = target.stat().st_size
        target.unlink()
    except FileNotFoundError:
        return 0
    return size


def delete_job(store: JobStore, settings: Settings, owner: str, job_id: str) -> bool:
    """Delete one of the owner's finished jobs: its row, then its video, poster and input image.

    False when the owner has no such job. Raises JobActiveError for a job that is still
    running (cancel it first). The row goes first: a crash between the two steps leaves an
    orphan file, never a history entry whose video has vanished.
    """
    removed = store.delete(job_id, owner, only_states=TERMINAL_STATES)
    if removed is None:
        still_there = store.get(job_id, owner)
        if still_there is not None and not still_there.terminal:
            raise JobActiveError(
                f"This job is still {still_there.state}. Cancel it first, then delete it once it has stopped."
            )
        return False
    # A job that failed mid-download may have left its partial file beside the video's name.
    partial = f"{removed.video_path}.part" if removed.video_path else None
    for path in (removed.video_path, partial, removed.poster_path, removed.input_image):
        _remove_file(store, settings, path)
    return True


def _owner_jobs(store: JobStore, owner: str, job_ids: Sequence[str] | None) -> Iterator[JobRecord]:
    """The owner's jobs by id (others' and unknown ids skipped), or all of them, newest first."""
    if job_ids is not None:
        for job_id in dict.fromkeys(job_ids):  # de-duplicated, order kept
            record = store.get(job_id, owner)
            if record is not None:
                yield record
        return
    cursor: str | None = None
    while True:
        page = store.list(owner, HistoryQuery(limit=_EXPORT_PAGE, before=cursor))
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def shareable_url(url: str | None) -> str | None:
    """A provider URL without its query string: signed CDN links carry credentials there.
    Not a local one (the simulator's file:// URL is a path on this server)."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _add_file(archive: zipfile.ZipFile, source: Path, name: str) -> bool:
    """Stream `source` into the archive in chunks; False if it cannot be read."""
    try:
        with open(source, "rb") as src:
            info = zipfile.ZipInfo.from_file(source, name)
            info.compress_type = zipfile.ZIP_STORED  # MP4 and WebP are already compressed
            with archive.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, _COPY_CHUNK)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return False
    return True


def _metadata(record: JobRecord, video: str | None, poster: str | None) -> dict[str, Any]:
    """The record as shared outside the studio: archive-relative names, not local paths,
    and not who owned it (an owner id is a credential)."""
    data = record.to_dict()
    data.pop("owner", None)
    data["video_path"] = video
    data["poster_path"] = poster
    data["input_image"] = Path(record.input_image).name if record.input_image else None
    data["remote_url"] = shareable_url(record.remote_url)
    return data


def export_jobs(
    store: JobStore, settings: Settings, owner: str, job_ids: Sequence[str] | None, dest_dir: Path
) -> Path:
    """Write a zip of the owner's jobs (`job_ids`, or all when None) into `dest_dir`.

    Layout: `videos/<id>.mp4`, `posters/<id>.webp` (the source's own extension when it has
    one) and `metadata/<id>.json` per job. Other owners' ids are skipped silently. Raises
    NothingToExportError when no job is left. The zip appears under its final name only
    when complete.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    final = dest_dir / f"dreamina-export-{stamp}-{secrets.token_hex(4)}.zip"
    partial = final.with_name(f".{final.name}.part")
    count = 0
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for record in _owner_jobs(store, owner, job_ids):
                names: dict[str, str | None] = {}
                for kind, path, default in (
                    ("videos", record.video_path, ".mp4"),
                    ("posters", record.poster_path, ".webp"),
                ):
                    source = _media_file(path, settings)
                    name = f"{kind}/{record.id}{(source.suffix.lower() if source else '') or default}"
                    names[kind] = name if source and _add_file(archive, source, name) else None
                metadata = _metadata(record, names["videos"], names["posters"])
                archive.writestr(
                    f"metadata/{record.id}.json",
                    json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True),
                )
                count += 1
        if count == 0:
            raise NothingToExportError("There is nothing to export: none of these jobs are in your history.")
        atomic.commit(partial, final, "none")  # a temporary file, made again on request
    finally:
        partial.unlink(missing_ok=True)
    return final


def export_dir() -> Path:
    """Where export zips wait for the web layer to serve (it copies them into its cache)."""
    return Path(tempfile.gettempdir()) / "dreamina-studio-exports"


def export_to_temp(
    store: JobStore, settings: Settings, owner: str, job_ids: Sequence[str] | None, now: float
) -> Path:
    """export_jobs into export_dir(), first removing its zips older than EXPORT_TTL_SECONDS.
    Blocking (zip, file removal): the engine runs it in a worker thread."""
    dest = export_dir()
    cutoff = now - EXPORT_TTL_SECONDS
    if dest.is_dir():
        for old in dest.iterdir():
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < cutoff:
                    old.unlink()
    return export_jobs(store, settings, owner, job_ids, dest)


def data_dir_bytes(settings: Settings) -> int:
    """Bytes of every file under the media folders (videos, posters, inputs): what the
    size cap limits. The database is left out; it is small and cannot be trimmed here."""
    total = 0
    for folder in settings.media_dirs:
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    continue  # removed while we walked
    return total


def enforce_size_cap(store: JobStore, settings: Settings, keep: Collection[str] = ()) -> list[str]:
    """Keep the media folders under `settings.max_data_bytes` by removing the files of the
    oldest finished jobs first. Rows stay in history with their paths cleared and a note.
    Returns the ids of the jobs whose files were removed; [] when no cap is set or it is met.
    Jobs that are still running, and the jobs in `keep` (the one that just finished: a person
    told "done" must find their video), are never touched.
    """
    cap = settings.max_data_bytes
    if cap is None:
        return []
    total = data_dir_bytes(settings)
    affected: list[str] = []
    while total > cap:
        batch = [r for r in store.finished_with_files_oldest_first(limit=50 + len(keep)) if r.id not in keep]
        if not batch:
            break  # what is left belongs to running or kept jobs (or lives outside the media folders)
        for record in batch:
            if total <= cap:
                break
            # Clear the row first so a crash leaves a note, not a link to a missing file;
            # then each file is removed only once no row names it.
            noted: dict[str, object] = {}
            if not (record.note and CAP_NOTE in record.note):
                # The note's code with it: the cap's own sentence, or none for a note joined to it.
                said = job_words.say("storage_cap")
                note = _join(record.note, said) if record.note else said
                noted = {"note": note, "note_code": said.code if note is said else None, "note_params": {}}
            store.update(record.id, video_path=None, poster_path=None, input_image=None, **noted)
            for path in (record.video_path, record.poster_path, record.input_image):
                total -= _remove_file(store, settings, path)
            affected.append(record.id)
    return affected


def _join(existing: str | None, addition: str) -> str:
    return f"{existing}; {addition}" if existing else addition
