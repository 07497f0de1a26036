"""History operations: deleting a job and its files, exporting jobs as a zip, and keeping
the media folders under the size cap, all confined to the studio's own data folder."""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.history import (
    CAP_NOTE,
    JobActiveError,
    NothingToExportError,
    data_dir_bytes,
    delete_job,
    enforce_size_cap,
    export_jobs,
)
from jobs.records import JobRecord
from jobs.settings import Settings
from jobs.store import JobStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings: Settings) -> Iterator[JobStore]:
    opened = JobStore(settings.db_path)
    opened.open()
    yield opened
    opened.close()


def write(path: Path, content: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return str(path)


def add_job(
    store: JobStore,
    settings: Settings,
    job_id: str,
    owner: str = "alice",
    created_at: float = 100.0,
    state: str = "succeeded",
    size: int = 100,
    **changes: object,
) -> JobRecord:
    """A job with a video, poster and input image of `size` bytes each, as the engine leaves it."""
    record = JobRecord(
        id=job_id,
        owner=owner,
        kind="i2v",
        model="simulator/image-to-video",
        provider="simulator",
        prompt=f"a lighthouse in a storm ({job_id})",
        options={"aspect_ratio": "16:9"},
        state=state,  # type: ignore[arg-type]
        created_at=created_at,
        input_image=write(settings.inputs_dir / f"{job_id}.png", b"I" * size),
        video_path=write(
            settings.videos_dir / f"{job_id}.mp4", f"video of {job_id}".encode().ljust(size, b".")
        ),
        poster_path=write(
            settings.posters_dir / f"{job_id}.webp", f"poster {job_id}".encode().ljust(size, b".")
        ),
        request_id=f"req-{job_id}",
    ).copy(**changes)
    store.insert(record)
    return record


def files_of(record: JobRecord) -> list[Path]:
    return [Path(p) for p in (record.video_path, record.poster_path, record.input_image) if p]


# -- delete ------------------------------------------------------------------------------


def test_delete_removes_the_row_and_its_files(store: JobStore, settings: Settings) -> None:
    record = add_job(store, settings, "a")
    keep = add_job(store, settings, "b")
    assert delete_job(store, settings, "alice", "a") is True
    assert store.get("a") is None
    assert not any(path.exists() for path in files_of(record))
    assert all(path.exists() for path in files_of(keep))
    assert delete_job(store, settings, "alice", "a") is False


def test_delete_also_removes_a_partial_download(store: JobStore, settings: Settings) -> None:
    record = add_job(store, settings, "a", state="failed")
    partial = Path(f"{record.video_path}.part")
    partial.write_bytes(b"half a video")
    assert delete_job(store, settings, "alice", "a") is True
    assert not partial.exists()


def test_delete_of_another_owners_job_does_nothing(store: JobStore, settings: Settings) -> None:
    record = add_job(store, settings, "a", owner="alice")
    assert delete_job(store, settings, "mallory", "a") is False
    assert store.get("a") == record
    assert all(path.exists() for path in files_of(record))


@pytest.mark.parametrize("state", ["submitting", "queued", "running", "downloading"])
def test_delete_refuses_an_active_job(store: JobStore, settings: Settings, state: str) -> None:
    record = add_job(store, settings, "a", state=state)
    with pytest.raises(JobActiveError, match="Cancel it first"):
        delete_job(store, settings, "alice", "a")
    assert store.get("a") == record
    assert all(path.exists() for path in files_of(record))


@pytest.mark.parametrize("state", ["failed", "cancelled"])
def test_delete_accepts_every_finished_state(store: JobStore, settings: Settings, state: str) -> None:
    add_job(store, settings, "a", state=state)
    assert delete_job(store, settings, "alice", "a") is True


def test_delete_never_removes_files_outside_the_media_folders(
    store: JobStore, settings: Settings, tmp_path: Path
) -> None:
    outside = Path(write(tmp_path / "precious.mp4", b"not the studio's"))
    sneaky = Path(write(tmp_path / "also-precious.webp", b"also not"))
    target = Path(write(tmp_path / "target.png", b"linked to"))
    link = settings.inputs_dir / "link.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    store.insert(
        JobRecord(
            id="evil",
            owner="alice",
            kind="i2v",
            model="m",
            provider="simulator",
            prompt="p",
            state="failed",
            video_path=str(outside),
            poster_path=str(settings.posters_dir / ".." / ".." / "also-precious.webp"),  # traversal
            input_image=str(link),  # a link inside that points out
        )
    )
    store.insert(
        JobRecord(
            id="db", owner="alice", kind="t2v", model="m", provider="simulator", prompt="p",
            state="failed", video_path=str(settings.db_path),
        )
    )  # fmt: skip
    assert delete_job(store, settings, "alice", "evil") is True
    assert delete_job(store, settings, "alice", "db") is True
    assert outside.read_bytes() == b"not the studio's"
    assert sneaky.read_bytes() == b"also not"
    assert target.read_bytes() == b"linked to"
    assert settings.db_path.exists() and store.integrity_ok()


def test_delete_keeps_an_input_image_another_job_still_uses(store: JobStore, settings: Settings) -> None:
    first = add_job(store, settings, "a")
    add_job(store, settings, "b", input_image=first.input_image)
    delete_job(store, settings, "alice", "a")
    assert Path(first.input_image).exists()
    delete_job(store, settings, "alice", "b")
    assert not Path(first.input_image).exists()


def test_delete_copes_with_files_already_gone(store: JobStore, settings: Settings) -> None:
    record = add_job(store, settings, "a")
    for path in files_of(record):
        path.unlink()
    assert delete_job(store, settings, "alice", "a") is True


# -- export ------------------------------------------------------------------------------

FORBIDDEN = (b"key", b"token", b"secret", b"bearer")


def test_export_holds_videos_posters_and_metadata_of_the_owners_jobs(
    store: JobStore, settings: Settings, tmp_path: Path
) -> None:
    records = [
        add_job(store, settings, f"job-{n}", created_at=100.0 + n, seed=n, nsfw=False) for n in range(3)
    ]
    add_job(store, settings, "bobs", owner="bob", prompt="bob's private prompt")
    dest = tmp_path / "exports"
    archive_path = export_jobs(store, settings, "alice", [r.id for r in records] + ["bobs", "missing"], dest)

    assert archive_path.parent == dest and archive_path.suffix == ".zip"
    assert [p.name for p in dest.iterdir()] == [archive_path.name]  # no partial file left behind
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.testzip() is None
        names = sorted(archive.namelist())
        assert names == sorted(
            f"{folder}/job-{n}.{ext}"
            for n in range(3)
            for folder, ext in (("videos", "mp4"), ("posters", "webp"), ("metadata", "json"))
        )
        for record in records:
            assert archive.read(f"videos/{record.id}.mp4") == Path(record.video_path).read_bytes()
            assert archive.read(f"posters/{record.id}.webp") == Path(record.poster_path).read_bytes()
            meta = json.loads(archive.read(f"metadata/{record.id}.json"))
            expected = record.to_dict() | {
                "video_path": f"videos/{record.id}.mp4",
                "poster_path": f"posters/{record.id}.webp",
                "input_image": f"{record.id}.png",
            }
            del expected["owner"]  # an owner id is a credential: a shared zip must not carry it
            assert meta == expected
            assert str(settings.data_dir) not in json.dumps(meta)  # no local absolute paths
            assert "alice" not in json.dumps(meta)
    raw = archive_path.read_bytes().lower()
    for word in FORBIDDEN:
        assert word not in raw, word
    assert b"bob" not in raw


def test_export_of_everything_is_only_the_owners_history(
    store: JobStore, settings: Settings, tmp_path: Path
) -> None:
    for n in range(5):
        add_job(store, settings, f"a-{n}", created_at=float(n))
    add_job(store, settings, "b-0", owner="bob")
    with zipfile.ZipFile(export_jobs(store, settings, "alice", None, tmp_path)) as archive:
        metadata = sorted(n for n in archive.namelist() if n.startswith("metadata/"))
    assert metadata == [f"metadata/a-{n}.json" for n in range(5)]


def test_export_of_no_owned_jobs_is_refused(store: JobStore, settings: Settings, tmp_path: Path) -> None:
    add_job(store, settings, "bobs", owner="bob")
    with pytest.raises(NothingToExportError):
        export_jobs(store, settings, "alice", ["bobs"], tmp_path / "out")
    with pytest.raises(NothingToExportError):
        export_jobs(store, settings, "alice", None, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_export_strips_signed_url_queries_and_skips_missing_or_outside_files(
    store: JobStore, settings: Settings, tmp_path: Path
) -> None:
    secret_file = Path(write(tmp_path / "outside.mp4", b"PRIVATE BYTES"))
    record = add_job(
        store,
        settings,
        "a",
        remote_url="https://cdn.example/out/a.mp4?X-Amz-Security-Token=abc&X-Amz-Signature=def",
        video_path=str(secret_file),
    )
    Path(record.poster_path).unlink()
    with zipfile.ZipFile(export_jobs(store, settings, "alice", ["a"], tmp_path / "out")) as archive:
        assert archive.namelist() == ["metadata/a.json"]
        meta = json.loads(archive.read("metadata/a.json"))
    assert meta["remote_url"] == "https://cdn.example/out/a.mp4"
    assert meta["video_path"] is None and meta["poster_path"] is None


def test_export_streams_a_large_video_intact(store: JobStore, settings: Settings, tmp_path: Path) -> None:
    record = add_job(store, settings, "big")
    payload = os.urandom(3 * 1024 * 1024 + 17)  # several copy chunks
    Path(record.video_path).write_bytes(payload)
    with zipfile.ZipFile(export_jobs(store, settings, "alice", ["big"], tmp_path)) as archive:
        assert archive.read("videos/big.mp4") == payload


# -- size cap ----------------------------------------------------------------------------


def test_data_dir_bytes_counts_the_media_folders_only(store: JobStore, settings: Settings) -> None:
    add_job(store, settings, "a", size=1000)
    add_job(store, settings, "b", size=500)
    assert settings.db_path.stat().st_size > 0
    assert data_dir_bytes(settings) == 3 * 1000 + 3 * 500


def test_size_cap_removes_the_oldest_finished_files_first(store: JobStore, settings: Settings) -> None:
    running = add_job(store, settings, "running", created_at=1.0, state="running", size=1000)
    old = add_job(store, settings, "old", created_at=10.0, size=1000, note="slow run")
    middle = add_job(store, settings, "middle", created_at=20.0, size=1000)
    newer = add_job(store, settings, "newer", created_at=30.0, size=1000)
    newest = add_job(store, settings, "newest", created_at=40.0, size=1000)
    capped = dataclasses.replace(settings, max_data_bytes=9_500)  # 15,000 bytes on disk

    assert enforce_size_cap(store, capped) == ["old", "middle"]
    assert data_dir_bytes(capped) <= 9_500
    for gone in (old, middle):
        assert not any(path.exists() for path in files_of(gone))
        row = store.get(gone.id)
        assert row is not None and row.video_path is None and row.poster_path is None
        assert CAP_NOTE in row.note
    assert store.get("old").note == f"slow run; {CAP_NOTE}"
    for kept in (running, newer, newest):
        assert all(path.exists() for path in files_of(kept))
        assert store.get(kept.id) == kept
    assert enforce_size_cap(store, capped) == []  # already under the cap


def test_size_cap_never_touches_running_jobs_even_when_over(store: JobStore, settings: Settings) -> None:
    running = add_job(store, settings, "running", state="downloading", size=1000)
    done = add_job(store, settings, "done", created_at=500.0, size=1000)
    assert enforce_size_cap(store, dataclasses.replace(settings, max_data_bytes=10)) == ["done"]
    assert all(path.exists() for path in files_of(running))
    assert not any(path.exists() for path in files_of(done))


def test_size_cap_never_removes_a_kept_job_even_alone_over_the_cap(store: JobStore, settings: Settings) -> None:
    older = add_job(store, settings, "older", created_at=1.0, size=1000)
    just_done = add_job(store, settings, "just-done", created_at=2.0, size=5000)
    capped = dataclasses.replace(settings, max_data_bytes=100)
    assert enforce_size_cap(store, capped, keep={"just-done"}) == ["older"]
    assert all(path.exists() for path in files_of(just_done))
    assert not any(path.exists() for path in files_of(older))
    assert enforce_size_cap(store, capped, keep={"just-done"}) == []  # and it stops, not loops


def test_no_cap_means_nothing_is_removed(store: JobStore, settings: Settings) -> None:
    record = add_job(store, settings, "a", size=10_000)
    assert settings.max_data_bytes is None
    assert enforce_size_cap(store, settings) == []
    assert all(path.exists() for path in files_of(record))
