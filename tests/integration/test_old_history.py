"""History written before the job locator existed (schema v1): the engine opens it, resumes
its unfinished jobs from their bare request ids, and its rows can be reused."""

from __future__ import annotations

from pathlib import Path

from jobs import rules
from jobs.records import HistoryQuery
from providers.base import SubmitRequest
from providers.catalog import get_model
from tests.fakes import FakeProviders
from tests.integration.test_engine import RC_PRO_T2V, WS_T2V_720, make_providers, make_settings, started
from tests.old_schema import write_v1


async def test_a_v1_history_opens_resumes_and_reuses(tmp_path: Path, fake_providers: FakeProviders) -> None:
    fake_providers.set_timing(queue_seconds=0.2, run_seconds=0.3)
    settings = make_settings(tmp_path / "data", fake_providers)
    # Two jobs the providers hold, submitted by the studio "before the upgrade": only their
    # request ids were stored.
    adapters = make_providers(settings)
    rc = await adapters["runcomfy"].submit(  # type: ignore[attr-defined]
        SubmitRequest(
            get_model(RC_PRO_T2V), "old queued job", {"aspect_ratio": "16:9", "frames": 121, "seed": 5}
        )
    )
    ws = await adapters["wavespeed"].submit(  # type: ignore[attr-defined]
        SubmitRequest(
            get_model(WS_T2V_720), "old running job", {"aspect_ratio": "1:1", "duration": 5, "seed": 6}
        )
    )
    for adapter in adapters.values():
        await adapter.aclose()  # type: ignore[attr-defined]
    common = {"owner": "alice", "kind": "t2v", "created_at": 100.0, "submitted_at": 101.0}
    write_v1(
        settings.db_path,
        [
            {
                **common,
                "id": "old-rc",
                "model": RC_PRO_T2V,
                "provider": "runcomfy",
                "prompt": "old queued job",
                "options": '{"aspect_ratio": "16:9", "frames": 121, "seed": 5}',
                "seed": 5,
                "request_id": rc.request_id,
                "state": "queued",
            },
            {
                **common,
                "id": "old-ws",
                "model": WS_T2V_720,
                "provider": "wavespeed",
                "prompt": "old running job",
                "options": '{"aspect_ratio": "1:1", "duration": 5, "seed": 6}',
                "seed": 6,
                "request_id": ws.request_id,
                "state": "running",
                "created_at": 110.0,
            },
            {
                **common,
                "id": "old-done",
                "model": "simulator/dreamina-3-0/text-to-video",
                "provider": "simulator",
                "prompt": "old finished job",
                "options": '{"aspect_ratio": "9:16", "frames": 121, "resolution": "720P", "seed": 7}',
                "seed": 7,
                "request_id": "sim-" + "0" * 32,
                "state": "succeeded",
                "created_at": 90.0,
                "simulated": 1,
            },
        ],
    )
    # A far-off deadline: these rows were "submitted" at t=100 (1970).
    engine = await started(make_settings(tmp_path / "data", fake_providers, job_deadline_seconds=1e12))
    try:
        # Opens: every old row is in the history, the finished one untouched.
        page = engine.history("alice", HistoryQuery(state=None))
        assert {r.id for r in page.items} == {"old-rc", "old-ws", "old-done"}
        done = engine.get("alice", "old-done")
        assert done.state == "succeeded" and done.locator == {} and done.options["aspect_ratio"] == "9:16"

        # Resumes: the unfinished ones are watched again from their bare request ids.
        for job_id in ("old-rc", "old-ws"):
            final = await engine.wait("alice", job_id, timeout=30)
            assert final.state == "succeeded", (job_id, final.error_message)
            assert final.video_path and Path(final.video_path).is_file()
            assert final.job_locator == final.request_id and final.locator == {}
        assert (
            len(fake_providers.submits("runcomfy")) == 1 and len(fake_providers.submits("wavespeed")) == 1
        ), "resuming never submits again"

        # Reuses: an old row's settings make a new, valid request for the same model.
        for job_id in ("old-rc", "old-done"):
            old = engine.get("alice", job_id)
            assert rules.can_reuse(engine.registry, old)
            again = rules.build_request(engine.registry, old.kind, old.model, old.prompt, old.options)
            checked = rules.check_request(engine.registry, again)
            assert checked.options == old.options
        reused = await engine.submit(
            "alice",
            rules.build_request(
                engine.registry, "t2v", RC_PRO_T2V, "old queued job", engine.get("alice", "old-rc").options
            ),
        )
        assert (await engine.wait("alice", reused.id, timeout=30)).state == "succeeded"
    finally:
        await engine.close()
