"""Crash: ten paid jobs in flight (queued, running, one mid-download) when the app is killed
with SIGKILL. Started again on the same data folder, it finishes every one of them without
sending any submit twice, and the database is intact.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.reliability.harness import MODELS, AppProcess, app_env, fake_process, wait_until
from tests.reliability.readback import all_history, stored_files, wait_for_job

KEYS = {"runcomfy_key": "rc-test-key", "wavespeed_key": "ws-test-key"}  # tests.fakes' own keys


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_sigkill_with_ten_jobs_in_flight_loses_none_and_resubmits_none(tmp_path: Path) -> None:
    with fake_process(tmp_path / "fake", queue_seconds=0, run_seconds=0.5) as fake:
        app = AppProcess(tmp_path / "app", app_env(tmp_path / "app", fake_url=fake.url, **KEYS))
        try:
            app.start()
            client = app.client()
            in_flight: list[Any] = []

            def send(count: int, model: str, label: str) -> None:
                wanted = len(fake.jobs()) + count
                for i in range(count):
                    in_flight.append(
                        client.submit(prompt=f"{label} {i}", model=model, api_name="/text_to_video")
                    )
                wait_until(lambda: len(fake.jobs()) >= wanted, 30, f"{wanted} jobs at the fake")

            # One job that finishes at once and then hangs in its download (headers held 8 s).
            fake.fault("download", "slow", delay=8)
            send(1, MODELS["rc_t2v"], "downloading")
            # Four that run for a while, on both providers.
            fake.config(queue_seconds=0, run_seconds=15)
            send(2, MODELS["rc_t2v"], "running")
            send(2, MODELS["ws_t2v"], "running")
            # Five that wait in the queue.
            fake.config(queue_seconds=10, run_seconds=1, queue_length=5)
            send(3, MODELS["rc_t2v"], "queued")
            send(2, MODELS["ws_t2v"], "queued")

            def spread() -> dict[str, str] | None:
                items = client.predict(limit=50, state="", api_name="/history")["items"]
                states = {item["id"]: item["state"] for item in items}
                seen = set(states.values())
                ready = len(states) == 10 and {"downloading", "running", "queued"} <= seen
                return states if ready and "submitting" not in seen else None

            before = wait_until(spread, 30, "ten jobs queued, running and downloading")
            request_ids = {
                i["id"]: i["request_id"]
                for i in client.predict(limit=50, state="", api_name="/history")["items"]
            }
            assert all(request_ids.values())

            app.kill9()
            assert integrity(app.data_dir / "studio.sqlite3") == "ok", "the crash damaged the database"

            app.start()
            client = app.client()
            finals = {job_id: wait_for_job(client, job_id, timeout=120) for job_id in before}
            not_done = {
                job_id: (r["state"], r["error_message"])
                for job_id, r in finals.items()
                if r["state"] != "succeeded"
            }
            assert not not_done, f"jobs lost in the crash: {not_done}"
            for job_id, record in finals.items():
                assert record["request_id"] == request_ids[job_id], "a job got a new request id: resubmitted"
                files = stored_files(app, job_id)
                assert (
                    Path(str(files["video_path"])).stat().st_size > 0
                    and Path(str(files["poster_path"])).is_file()
                )
            history = all_history(client, state="")
            assert sorted(item["id"] for item in history) == sorted(before), (
                "history is not exactly the ten jobs"
            )
            assert len(fake.submits()) == 10, "a job was submitted twice"
            assert not list(app.data_dir.rglob("*.part")), "a partial download was left behind"
            print(
                f"\ncrash: states at SIGKILL {sorted(before.values())}; all 10 succeeded after restart; 10 submits"
            )
        finally:
            app.stop()
        assert integrity(app.data_dir / "studio.sqlite3") == "ok"
