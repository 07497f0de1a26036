"""The provider-fault table's parts, used by tests/reliability/test_faults_engine.py: a
`Scenario` (one fault, injected into the local fake, and the end it must reach), `fault`, the
extra checks some scenarios make, and the rows for the faults that come after a job was
accepted: 429 storms, 5xx bursts, hangs, resets and malformed answers while polling and
downloading, jobs the provider ran and failed, and expired output URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.records import JobRecord
from tests.fakes import FakeProviders
from tests.fakes.media import sample_video
from tests.reliability.harness import MODELS

Check = Callable[[JobRecord, FakeProviders], list[str]]


@dataclass(frozen=True)
class Scenario:
    """One fault. `expect` is the end state, or "refused" when submit raises and no row
    may remain. `submits` is how many submit POSTs the fake must have seen in the end,
    after an engine restart too (a submit is never repeated)."""

    name: str
    model: str
    expect: str
    kind: str | None = None
    says: tuple[str, ...] = ()
    faults: tuple[dict[str, Any], ...] = ()
    outcome: str | None = None
    prompt: str = "a lighthouse at dawn"
    unreachable: bool = False
    submits: int = 1
    queue_seconds: float = 0.0
    run_seconds: float = 0.05
    check: Check | None = None


def fault(op: str, kind: str, **options: Any) -> dict[str, Any]:
    return {"op": op, "kind": kind, **options}


# --- extra checks ----------------------------------------------------------------------


def spaced_by_retry_after(op: str, seconds: float) -> Check:
    """The polls after each 429 waited at least Retry-After (a lower bound: never flaky)."""

    def check(record: JobRecord, fake: FakeProviders) -> list[str]:
        times = [r.at for r in fake.requests if r.op == op]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)][:3]
        short = [round(g, 3) for g in gaps if g < seconds * 0.9]
        return [f"polls came {short} s apart despite Retry-After {seconds}"] if short or len(gaps) < 3 else []

    return check


def resumed_with_range(record: JobRecord, fake: FakeProviders) -> list[str]:
    problems = []
    if not any(r.op == "download" and r.header("Range") for r in fake.requests):
        problems.append("the cut download was not resumed with a Range request")
    if record.video_bytes != sample_video().stat().st_size:
        problems.append(f"saved {record.video_bytes} bytes, the video has {sample_video().stat().st_size}")
    return problems


def keeps_remote_url_and_request_id(record: JobRecord, fake: FakeProviders) -> list[str]:
    problems = []
    if not record.request_id or record.request_id not in fake.jobs:
        problems.append("the request id was not kept")
    if not record.remote_url or record.request_id not in (record.remote_url or ""):
        problems.append(f"the remote URL was not kept: {record.remote_url!r}")
    if record.video_path and Path(record.video_path).exists():
        problems.append("a video file exists for an expired output")
    return problems


def outcome_unknown_kept(record: JobRecord, fake: FakeProviders) -> list[str]:
    problems = []
    if "not sent again" not in (record.error_message or ""):
        problems.append("the message does not say the job was not sent again")
    if record.prompt != "a lighthouse at dawn" or not record.created_at:
        problems.append("the job row lost its request details")
    return problems


# --- the table -------------------------------------------------------------------------

RC, WS, RC_I, WS_I = MODELS["rc_t2v"], MODELS["ws_t2v"], MODELS["rc_i2v"], MODELS["ws_i2v"]

RUNNING_SCENARIOS: tuple[Scenario, ...] = (
    # 429 storms with Retry-After, while polling and while downloading
    Scenario(
        "429 storm on RunComfy /status, Retry-After 0.5",
        RC,
        "succeeded",
        faults=(fault("status", "status", status=429, retry_after=0.5, times=3),),
        check=spaced_by_retry_after("status", 0.5),
    ),
    Scenario(
        "429 storm on WaveSpeed /result, Retry-After 0.5",
        WS,
        "succeeded",
        faults=(fault("result", "status", status=429, retry_after=0.5, times=3),),
        check=spaced_by_retry_after("result", 0.5),
    ),
    Scenario(
        "429 storm outlasting the adapter's retries",
        RC,
        "succeeded",
        faults=(fault("status", "status", status=429, retry_after=0.2, times=7),),
    ),
    Scenario(
        "429 storm on the video download",
        WS,
        "succeeded",
        faults=(fault("download", "status", status=429, retry_after=0.2, times=3),),
    ),
    # 5xx bursts
    Scenario(
        "503 burst on RunComfy /status",
        RC,
        "succeeded",
        faults=(fault("status", "status", status=503, times=5),),
    ),
    Scenario(
        "500 burst on RunComfy /result",
        RC,
        "succeeded",
        faults=(fault("result", "status", status=500, times=3),),
    ),
    Scenario(
        "502 burst on WaveSpeed /result",
        WS,
        "succeeded",
        faults=(fault("result", "status", status=502, times=5),),
    ),
    Scenario(
        "504 on WaveSpeed /result", WS, "succeeded", faults=(fault("result", "status", status=504, times=2),)
    ),
    Scenario(
        "503 burst on the video download",
        RC,
        "succeeded",
        faults=(fault("download", "status", status=503, times=2),),
    ),
    Scenario(
        "503 burst on WaveSpeed's image upload",
        WS_I,
        "succeeded",
        faults=(fault("upload", "status", status=503, times=2),),
    ),
    # hung responses
    Scenario("hung RunComfy /status", RC, "succeeded", faults=(fault("status", "hang"),)),
    Scenario("hung RunComfy /result", RC, "succeeded", faults=(fault("result", "hang", times=2),)),
    Scenario("hung WaveSpeed /result", WS, "succeeded", faults=(fault("result", "hang", times=2),)),
    Scenario(
        "slow video download (headers late)", WS, "succeeded", faults=(fault("download", "slow", delay=0.4),)
    ),
    # connection resets
    Scenario(
        "reset mid-poll on RunComfy /status", RC, "succeeded", faults=(fault("status", "reset", times=2),)
    ),
    Scenario(
        "reset mid-poll, more than the adapter retries",
        WS,
        "succeeded",
        faults=(fault("result", "reset", times=6),),
    ),
    Scenario(
        "reset mid-download after 4 KB",
        RC,
        "succeeded",
        faults=(fault("download", "reset", after_bytes=4000),),
        check=resumed_with_range,
    ),
    Scenario(
        "reset mid-download twice",
        WS,
        "succeeded",
        faults=(fault("download", "reset", after_bytes=3000, times=2),),
        check=resumed_with_range,
    ),
    # malformed JSON and errors dressed as HTTP 200
    Scenario(
        "malformed JSON from RunComfy /status",
        RC,
        "succeeded",
        faults=(fault("status", "malformed_json", times=2),),
    ),
    Scenario(
        "malformed JSON from RunComfy /result", RC, "succeeded", faults=(fault("result", "malformed_json"),)
    ),
    Scenario(
        "malformed JSON from WaveSpeed /result",
        WS,
        "succeeded",
        faults=(fault("result", "malformed_json", times=2),),
    ),
    Scenario(
        "server error inside HTTP 200 (RunComfy poll)",
        RC,
        "succeeded",
        faults=(fault("status", "error_in_200"),),
    ),
    Scenario(
        "server error inside HTTP 200 (WaveSpeed poll)",
        WS,
        "succeeded",
        faults=(fault("result", "error_in_200", times=2),),
    ),
    Scenario(
        "auth error inside HTTP 200 while polling",
        RC,
        "failed",
        kind="auth",
        says=("RunComfy refused the API key", "HTTP 200"),
        faults=(fault("status", "error_in_200", status=401),),
    ),
    Scenario(
        "job unknown to the provider (404 on /status)",
        RC,
        "failed",
        kind="not_found",
        says=("does not know this request",),
        faults=(fault("status", "status", status=404),),
    ),
    # jobs the provider ran and failed
    Scenario(
        "moderation (RunComfy)",
        RC,
        "failed",
        kind="moderation",
        says=("content filter", "content moderation"),
        prompt="a lighthouse at dawn [fake:moderation]",
    ),
    Scenario(
        "moderation (WaveSpeed task code 1200)",
        WS,
        "failed",
        kind="moderation",
        says=("content filter",),
        outcome="moderation",
    ),
    Scenario(
        "unreachable input URL (WaveSpeed task code 1402)",
        WS_I,
        "failed",
        kind="job_failed",
        says=("could not download the input image",),
        outcome="unreachable_input",
    ),
    Scenario(
        "unreachable input URL (RunComfy)",
        RC_I,
        "failed",
        kind="job_failed",
        says=("download the input image",),
        outcome="unreachable_input",
    ),
    Scenario(
        "generation failed on the provider",
        WS,
        "failed",
        kind="job_failed",
        says=("could not make this video", "Task execution failed"),
        outcome="failed",
    ),
    Scenario(
        "success reported without a video URL",
        RC,
        "failed",
        kind="job_failed",
        says=("sent no video URL",),
        faults=(
            fault("result", "error_in_200", body={"request_id": "x", "status": "succeeded", "output": {}}),
        ),
    ),
    # expired output URLs
    Scenario(
        "expired output URL (RunComfy)",
        RC,
        "failed",
        kind="expired",
        says=("no longer has this video", "request id is kept"),
        outcome="expired",
        check=keeps_remote_url_and_request_id,
    ),
    Scenario(
        "expired output URL (WaveSpeed)",
        WS,
        "failed",
        kind="expired",
        says=("no longer has this video",),
        outcome="expired",
        check=keeps_remote_url_and_request_id,
    ),
)
