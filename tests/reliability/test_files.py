"""Files: the server hands out the media folders and nothing else (whatever the path
tricks), the data folder stays under STUDIO_MAX_DATA_MB by dropping the oldest videos
first, and Gradio's cache of returned files is set to be cleaned.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import jobs.history as history_ops
from jobs.history import CAP_NOTE, data_dir_bytes
from jobs.service import Studio
from jobs.settings import Settings
from tests.fakes import FakeProviders
from tests.reliability.engine_kit import providers_for, run_async, settings_for, started_engine, t2v
from tests.reliability.harness import (
    MODELS,
    REPO,
    AppProcess,
    FakeProcess,
    app_env,
    fake_process,
    noisy_video,
    running_app,
)
from tests.reliability.readback import stored_files

CAP_MB = 1
VIDEO_FRAMES = 10  # a 320×240 noise video of 10 frames is about 440 KB: three exceed 1 MiB


@dataclass
class CappedStudio:
    fake: FakeProcess
    app: AppProcess
    video: Path


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CappedStudio]:
    root = tmp_path_factory.mktemp("files")
    video = noisy_video(root / "output.mp4", frames=VIDEO_FRAMES)
    assert 300_000 < video.stat().st_size < CAP_MB * 1024 * 1024 / 2.2
    with fake_process(root / "fake", queue_seconds=0, run_seconds=0.2, output_video=video) as fake:
        env = app_env(
            root / "app",
            fake_url=fake.url,
            runcomfy_key="rc-test-key",
            wavespeed_key="ws-test-key",
            extra={"STUDIO_MAX_DATA_MB": str(CAP_MB)},
        )
        with running_app(root / "app", env) as app:
            yield CappedStudio(fake, app, video)


def raw_status(port: int, target: str) -> int:
    """GET `target` byte for byte (no client-side normalisation of ../ or %2e)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64)
    return int(head.split(b" ")[1])


def test_only_the_media_folders_are_served(capped: CappedStudio) -> None:
    app = capped.app
    _, job = app.client().predict(prompt="a file to serve", model=MODELS["rc_t2v"], api_name="/text_to_video")
    files = stored_files(app, job["id"])
    data, videos = app.data_dir, Path(str(files["video_path"])).parent
    (data / "notes.txt").write_text("not for the web")
    (videos / "planted-link.mp4").symlink_to(data / "studio.sqlite3")
    file_url = "/gradio_api/file="

    # The media are served only through the signed URLs the API gives (and the page's
    # owner-only links), never by their path on the server.
    served = [job["video_url"], job["poster_url"]]
    refused = [
        str(files["video_path"]),
        str(files["poster_path"]),
        str(data / "studio.sqlite3"),
        str(data / "studio.sqlite3-wal"),
        str(data / "notes.txt"),
        str(data / "simulator"),
        str(data),
        str(videos),
        str(videos) + "/",
        str(videos / "planted-link.mp4"),
        str(REPO / "app.py"),
        str(REPO / ".env"),
        "/etc/passwd",
        "/proc/self/environ",  # holds the API keys
        str(app.cache_dir),
        # traversal out of a media folder, spelled every way
        f"{videos}/../studio.sqlite3",
        f"{videos}/%2e%2e/studio.sqlite3",
        f"{videos}/..%2fstudio.sqlite3",
        f"{videos}/%2e%2e%2fstudio.sqlite3",
        f"{videos}/%252e%252e%252fstudio.sqlite3",
        f"{videos}/..%5cstudio.sqlite3",
        f"{videos}/..\\studio.sqlite3",
        f"{videos}/..;/studio.sqlite3",
        f"{videos}/./../../data/studio.sqlite3",
        f"{files['video_path']}%00.mp4",
        "videos/../studio.sqlite3",
        "../../../../../../etc/passwd",
        "%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "//etc/passwd",
    ]
    other_routes = [
        "/file=/etc/passwd",
        "/gradio_api/file/etc/passwd",
        "/static/../app.py",
        "/assets/../../app.py",
        "/gradio_api/static/../../app.py",
        "/favicon.ico/../app.py",
    ]
    for url in served:
        assert httpx.get(url, timeout=30).status_code == 200, url
    allowed_through = {path: raw_status(app.port, file_url + path) for path in refused}
    allowed_through.update({route: raw_status(app.port, route) for route in other_routes})
    leaks = {path: code for path, code in allowed_through.items() if code < 400}
    print(f"\nfiles: {len(allowed_through)} paths outside the media folders tried; served: {len(leaks)}")
    assert not leaks, leaks


def test_the_data_folder_stays_under_its_cap_oldest_videos_first(capped: CappedStudio) -> None:
    app, client = capped.app, capped.app.client()
    jobs = [
        client.predict(prompt=f"capped {i}", model=MODELS["ws_t2v"], api_name="/text_to_video")[1]
        for i in range(4)
    ]
    settings = Settings(data_dir=app.data_dir)
    assert data_dir_bytes(settings) <= CAP_MB * 1024 * 1024
    records = [client.predict(job_id=job["id"], api_name="/job") for job in jobs]
    kept = [r for r in records if r["video_url"]]
    dropped = [r for r in records if not r["video_url"]]
    assert dropped and kept, [(r["id"], r["video_url"]) for r in records]
    assert max(r["created_at"] for r in dropped) < min(r["created_at"] for r in kept), "not oldest first"
    assert records[-1]["id"] in {r["id"] for r in kept}
    assert Path(str(stored_files(app, records[-1]["id"])["video_path"])).is_file()
    for record in dropped:
        assert record["state"] == "succeeded" and CAP_NOTE in (record["note"] or "")
        assert record["poster_url"] is None and record["request_id"] and record["remote_url"]
    history_ids = {item["id"] for item in client.predict(limit=50, api_name="/history")["items"]}
    assert {r["id"] for r in records} <= history_ids, "a capped job vanished from history"


def test_the_size_cap_frees_the_disk_space_of_the_videos_it_drops(capped: CappedStudio) -> None:
    client = capped.app.client()
    first = client.predict(prompt="soon dropped", model=MODELS["ws_t2v"], api_name="/text_to_video")[1]
    video = Path(str(stored_files(capped.app, first["id"])["video_path"]))
    # Download names are symbolic links: no other name (a hard link) holds the video's bytes,
    # so removing this one file frees them. (Comparing inodes later would be fooled by reuse.)
    assert os.stat(video).st_nlink == 1
    for i in range(3):
        client.predict(prompt=f"pushes it out {i}", model=MODELS["ws_t2v"], api_name="/text_to_video")
    assert client.predict(job_id=first["id"], api_name="/job")["video_url"] is None
    assert not video.exists(), "the dropped video is still on disk"


# --- the cap through the engine -------------------------------------------------------------


def test_the_engine_applies_the_cap_after_each_saved_video(tmp_path: Path) -> None:
    video = noisy_video(tmp_path / "out.mp4", frames=VIDEO_FRAMES)
    size = video.stat().st_size

    async def scenario() -> list[Any]:
        with FakeProviders(queue_seconds=0, run_seconds=0.05, output_video=video) as fake:
            settings = settings_for(tmp_path / "data", fake.base_url, max_data_bytes=int(size * 2.5))
            engine = await started_engine(settings)
            try:
                finals = []
                for i in range(5):
                    record = await engine.submit("alice", t2v(MODELS["rc_t2v"], f"engine cap {i}"))
                    finals.append(await engine.wait("alice", record.id, timeout=60))
                    # The cap runs right after the job is saved: wait (bounded) for it.
                    for _ in range(100):
                        if data_dir_bytes(settings) <= settings.max_data_bytes:
                            break
                        await asyncio.sleep(0.05)
                    assert data_dir_bytes(settings) <= settings.max_data_bytes
                return [engine.get("alice", r.id) for r in finals]
            finally:
                await engine.close()

    records = run_async(scenario)
    have_video = [bool(r.video_path) for r in records]
    assert have_video == [False, False, False, True, True], have_video
    assert all(r.state == "succeeded" for r in records)
    assert all(CAP_NOTE in (r.note or "") for r in records[:3])


def test_the_cap_never_deletes_the_video_that_just_finished(tmp_path: Path) -> None:
    video = noisy_video(tmp_path / "out.mp4", frames=VIDEO_FRAMES)

    async def scenario() -> Any:
        with FakeProviders(queue_seconds=0, run_seconds=0.05, output_video=video) as fake:
            settings = settings_for(
                tmp_path / "data", fake.base_url, max_data_bytes=video.stat().st_size // 2
            )
            engine = await started_engine(settings)
            try:
                record = await engine.submit("alice", t2v(MODELS["rc_t2v"], "bigger than the cap"))
                await engine.wait("alice", record.id, timeout=60)
                for _ in range(40):  # the cap runs right after the save; give it 2 s
                    await asyncio.sleep(0.05)
                return engine.get("alice", record.id)
            finally:
                await engine.close()

    record = run_async(scenario)
    assert record.state == "succeeded" and record.video_path and Path(record.video_path).is_file()


# --- Gradio's cache -------------------------------------------------------------------------


def test_gradios_cache_is_set_to_be_cleaned_and_holds_what_the_app_returns(
    capped: CappedStudio, tmp_path: Path
) -> None:
    from ui.gate import Guard
    from ui.layout import build_demo

    settings = Settings(data_dir=tmp_path / "data")
    studio = Studio(settings, providers_for(settings))
    studio.start()
    try:
        demo = build_demo(settings, studio, Guard(settings))
    finally:
        studio.stop()
    frequency, age = demo.delete_cache  # type: ignore[misc]
    assert 0 < frequency <= 3600 and 0 < age <= 24 * 3600, demo.delete_cache
    # The API hands out a signed URL of the stored video, not a copy in Gradio's cache (and
    # never a server path); the page's copies live in Gradio's cache, which that setting cleans.
    video, _ = capped.app.client().predict(prompt="cached", model=MODELS["rc_t2v"], api_name="/text_to_video")
    assert video["path"] == video["url"] and "/studio-media/" in video["url"], video
    assert not list(capped.app.cache_dir.rglob(video["orig_name"]))
    assert not history_ops.data_dir_bytes(settings)
