"""Which SQLite journal the data folder can take: WAL on a local disk, the DELETE journal
with exclusive locking on a network or bucket mount.

WAL needs shared memory (the -shm file, mmap'd) that every process sees coherently; network
file systems and FUSE mounts (a Hugging Face storage bucket, NFS, SMB, 9p) do not promise
that, and SQLite documents WAL as unsafe there. The DELETE journal with exclusive locking
takes one lock for the connection's life and needs no shared memory.

The folder's file system is read from /proc/mounts (the longest mount point containing the
folder); `STUDIO_DB_JOURNAL` = wal | delete overrides the detection.

The DELETE journal costs the store more than its fsyncs: each is made inside COMMIT, under
the store's lock (see JobStore._transaction), where WAL fsyncs its log after letting go.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Journal = Literal["wal", "delete"]

NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "virtiofs",
        "davfs",
        "s3fs",
        "ncpfs",
        "beegfs",
        "ocfs2",
        "gfs2",
    }
)


@dataclass(frozen=True)
class JournalChoice:
    journal: Journal
    reason: str  # for the start-up log


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mount_of(folder: Path, mounts_table: str) -> tuple[str, str] | None:
    """(mount point, file system type) of the mount holding `folder`, from /proc/mounts text."""
    path = str(folder)
    best: tuple[str, str] | None = None
    for line in mounts_table.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point, fstype = _unescape(parts[1]), parts[2]
        inside = path == point or path.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fstype)
    return best


def is_network(fstype: str) -> bool:
    return fstype in NETWORK_TYPES or fstype.startswith("fuse")


def choose_journal(folder: Path, setting: str = "auto", mounts_table: str | None = None) -> JournalChoice:
    """The journal for a database in `folder`. `setting` is Settings.db_journal."""
    if setting in ("wal", "delete"):
        return JournalChoice(setting, f"STUDIO_DB_JOURNAL={setting}")  # type: ignore[arg-type]
    if mounts_table is None:
        try:
            mounts_table = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return JournalChoice("wal", "no /proc/mounts to read; assuming a local disk")
    folder = Path(folder).resolve()
    found = mount_of(folder, mounts_table)
    if found is None:
        return JournalChoice("wal", "mount not found; assuming a local disk")
    point, fstype = found
    if is_network(fstype):
        return JournalChoice("delete", f"{point} is a {fstype} mount (network or bucket)")
    return JournalChoice("wal", f"{point} is a local {fstype} file system")
