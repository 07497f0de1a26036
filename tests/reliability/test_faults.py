"""Provider faults, end to end: every fault a hosted video API throws at the studio, injected
into the real local fake, driven through the job engine (and a few through the running
app). Each ends in the right state, with a message a person understands, and no paid job
is ever lost or sent twice.

The engine table runs every scenario on its own fake and its own data folder, a few at a
time; a failure lists every scenario that went wrong.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.records import HistoryQuery, JobRecord
from providers.base import ProviderError, next_step
from tests.fakes import FakeProviders
from tests.fakes.media import sample_video
from tests.images import good_png
from tests.reliability.engine_kit import i2v, run_async, settings_for, started_engine, t2v
from tests.reliability.harness import MODELS, refusal, request_bytes, wait_for_job

OWNER = "alice"
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

SCENARIOS: tuple[Scenario, ...] = (
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
    # submit: refused for sure (no row, nothing billed) ...
    Scenario(
        "provider unreachable at submit (RunComfy)",
        RC,
        "refused",
        kind="network",
        says=("Could not connect to RunComfy", "nothing was sent"),
        unreachable=True,
        submits=0,
    ),
    Scenario(
        "provider unreachable at submit (WaveSpeed image upload)",
        WS_I,
        "refused",
        kind="network",
        says=("No answer from 127.0.0.1",),
        unreachable=True,
        submits=0,
    ),
    Scenario(
        # A 429 is a definite refusal (nothing created): sent again after Retry-After.
        "429 at submit",
        RC,
        "succeeded",
        submits=2,
        faults=(fault("submit", "status", status=429, retry_after=1),),
    ),
    Scenario(
        "401 at submit",
        WS,
        "refused",
        kind="auth",
        says=("refused the API key",),
        faults=(fault("submit", "status", status=401),),
    ),
    Scenario(
        "402 insufficient balance at submit",
        RC,
        "refused",
        kind="insufficient_balance",
        says=("balance is too low", "Top up"),
        faults=(fault("submit", "status", status=402),),
    ),
    Scenario(
        "422 naming a field at submit",
        RC,
        "refused",
        kind="validation",
        says=("refused the request", "too spicy"),
        faults=(
            fault(
                "submit",
                "status",
                status=422,
                body={
                    "error_code": 422001,
                    "error_message": "Validation Error",
                    "detail": [{"loc": ["body", "prompt"], "msg": "too spicy", "type": "value_error"}],
                },
            ),
        ),
    ),
    Scenario(
        "500 at submit",
        WS,
        "refused",
        kind="server",
        says=("internal error",),
        faults=(fault("submit", "status", status=500),),
    ),
    Scenario(
        "error inside HTTP 200 at submit",
        RC,
        "refused",
        kind="server",
        says=("internal error",),
        faults=(fault("submit", "error_in_200"),),
    ),
    Scenario(
        "401 on WaveSpeed's image upload",
        WS_I,
        "refused",
        kind="auth",
        says=("refused the API key",),
        faults=(fault("upload", "status", status=401),),
        submits=0,
    ),
    # ... or of unknown outcome: kept, marked, never sent again
    Scenario(
        "connection reset after the submit was handled",
        RC,
        "failed",
        kind="submit_unknown",
        says=("did not answer after the job was sent",),
        faults=(fault("submit", "reset_after_submit"),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "submit answered after the client gave up",
        WS,
        "failed",
        kind="submit_unknown",
        says=("did not answer after the job was sent",),
        faults=(fault("submit", "slow_after_submit", delay=6),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "hung submit",
        RC,
        "failed",
        kind="submit_unknown",
        says=("did not answer",),
        faults=(fault("submit", "hang"),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "connection reset before any answer to the submit",
        WS,
        "failed",
        kind="submit_unknown",
        says=("did not answer",),
        faults=(fault("submit", "reset"),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "502 from a gateway at submit",
        RC,
        "failed",
        kind="submit_unknown",
        says=("gateway answered HTTP 502",),
        faults=(fault("submit", "status", status=502),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "504 from a gateway at submit",
        WS,
        "failed",
        kind="submit_unknown",
        says=("gateway answered HTTP 504",),
        faults=(fault("submit", "status", status=504),),
        check=outcome_unknown_kept,
    ),
    Scenario(
        "malformed JSON answer to the submit",
        RC,
        "failed",
        kind="submit_unknown",
        says=("no request id",),
        faults=(fault("submit", "malformed_json"),),
        check=outcome_unknown_kept,
    ),
)

_PYTHON_WORDS = re.compile(r"Traceback|Exception\b|<class|NoneType|\bNone\b|\{'|\[\]")


def message_problems(message: str, kind: str | None, says: tuple[str, ...]) -> list[str]:
    """A message a person understands: the expected words, what to do next, no Python."""
    problems = [
        f"message lacks {word!r}: {message!r}" for word in says if word.lower() not in message.lower()
    ]
    field_step = kind == "validation" and re.search(r"Change the [a-z ]+ and try again\.$", message)
    if kind and not (message.endswith(next_step(kind)) or field_step):  # type: ignore[arg-type]
        problems.append(f"message does not end with the next step for {kind}: {message!r}")
    if _PYTHON_WORDS.search(message) or len(message) > 600:
        problems.append(f"message reads like a program, not a person: {message!r}")
    return problems


async def run_scenario(case: Scenario, root: Path, image: Path) -> list[str]:
    fake = FakeProviders(
        queue_seconds=case.queue_seconds, run_seconds=case.run_seconds, queue_length=1
    ).start()
    problems: list[str] = []
    try:
        for spec in case.faults:
            fake.add_fault(**spec)
        if case.outcome:
            fake.next_outcome(case.outcome)
        settings = settings_for(root / "data", None if case.unreachable else fake.base_url)
        request = (
            i2v(case.model, image, prompt=case.prompt)
            if "image-to" in case.model
            else t2v(case.model, case.prompt)
        )
        engine = await started_engine(settings)
        final: JobRecord | None = None
        try:
            try:
                record = await engine.submit(OWNER, request)
            except ProviderError as refused:
                if case.expect != "refused":
                    return [f"submit refused ({refused.kind}: {refused.message}); expected {case.expect}"]
                if refused.kind != case.kind:
                    problems.append(f"refused as {refused.kind}, expected {case.kind}")
                problems += message_problems(refused.message, case.kind, case.says)
                if engine.history(OWNER, HistoryQuery(state=None)).items:
                    problems.append("a refused submit left a job row behind")
            else:
                if case.expect == "refused":
                    return [f"submit was accepted ({record.state}); expected a refusal"]
                final = await engine.wait(OWNER, record.id, timeout=90)
                if final.state != case.expect:
                    problems.append(f"ended {final.state} ({final.error_kind}: {final.error_message})")
                if case.expect == "succeeded":
                    if not (final.video_path and Path(final.video_path).stat().st_size and final.poster_path):
                        problems.append("succeeded without a saved video and poster")
                else:
                    if final.error_kind != case.kind:
                        problems.append(f"error kind {final.error_kind}, expected {case.kind}")
                    problems += message_problems(final.error_message or "", case.kind, case.says)
                if case.check:
                    problems += case.check(final, fake)
        finally:
            await engine.close()
        leftovers = [p.name for p in (root / "data").rglob("*.part")]
        if leftovers:
            problems.append(f"partial files left behind: {leftovers}")
        # A restart resumes unfinished jobs only; a finished or unknown one is never resent.
        submits_before = len(fake.submits())
        again = await started_engine(settings)
        try:
            await asyncio.sleep(0.3)
            if final is not None:
                after = again.get(OWNER, final.id)
                if after is None or after.state != final.state:
                    problems.append(f"after a restart the job is {after and after.state}, was {final.state}")
        finally:
            await again.close()
        if len(fake.submits()) != submits_before or submits_before != case.submits:
            problems.append(f"the fake saw {len(fake.submits())} submits; expected exactly {case.submits}")
    finally:
        fake.stop()
    return problems


def test_every_provider_fault_ends_in_the_right_state_with_a_clear_message(tmp_path: Path) -> None:
    image = good_png(tmp_path)

    async def run_all() -> dict[str, list[str]]:
        gate = asyncio.Semaphore(12)  # two cores: a dozen scenarios at a time

        async def one(index: int, case: Scenario) -> tuple[str, list[str]]:
            async with gate:
                try:
                    return case.name, await run_scenario(case, tmp_path / f"case-{index}", image)
                except Exception as exc:  # a crash in one scenario must not hide the others
                    return case.name, [f"crashed: {type(exc).__name__}: {exc}"]

        return dict(await asyncio.gather(*(one(i, c) for i, c in enumerate(SCENARIOS))))

    results = run_async(run_all)
    failed = {name: problems for name, problems in results.items() if problems}
    print(f"\nfaults tried: {len(SCENARIOS)}; handled correctly: {len(SCENARIOS) - len(failed)}")
    assert len(SCENARIOS) >= 40
    assert not failed, "\n".join(f"- {name}: {'; '.join(p)}" for name, p in failed.items())


# --- through the running app -------------------------------------------------------------


def _job_id_from(message: str) -> str:
    match = re.search(r"Job (\S+) (failed|cancelled)", message)
    assert match, f"the error does not name the job: {message!r}"
    return match.group(1)


def test_faults_through_the_app_end_right_and_explain_themselves(canary_studio: Any) -> None:
    """A 429 storm, a 5xx burst, a reset mid-download, a moderated job, an expired output and
    a submit of unknown outcome, each through /text_to_video on the running app."""
    fake, app = canary_studio.fake, canary_studio.app
    client = app.client()
    model = MODELS["rc_t2v"]
    tried = 0

    # Recovered faults: the job still lands, once.
    before = len(fake.submits())
    for op, kind, options in (
        ("status", "status", {"status": 429, "retry_after": 0.3, "times": 6}),
        ("result", "status", {"status": 503, "times": 2}),
        ("download", "reset", {"after_bytes": 5000}),
        ("status", "malformed_json", {"times": 1}),
    ):
        fake.fault(op, kind, provider="runcomfy", **options)
        video, job = client.predict(prompt=f"fault {op} {kind}", model=model, api_name="/text_to_video")
        tried += 1
        assert job["state"] == "succeeded" and video, (op, kind, job)
        assert client.predict(job_id=job["id"], api_name="/job")["state"] == "succeeded"
    assert len(fake.submits()) - before == tried

    # A moderated job: failed, and the person is told why and what to do.
    message = refusal(client, "/text_to_video", prompt="a storm [fake:moderation]", model=model)
    tried += 1
    assert "content filter" in message and "Rephrase it" in message
    record = client.predict(job_id=_job_id_from(message), api_name="/job")
    assert record["state"] == "failed" and record["error_kind"] == "moderation"

    # An expired output: failed as expired, remote URL and request id kept.
    fake.outcome("expired")
    message = refusal(client, "/text_to_video", prompt="a quiet harbour", model=MODELS["ws_t2v"])
    tried += 1
    record = client.predict(job_id=_job_id_from(message), api_name="/job")
    assert record["state"] == "failed" and record["error_kind"] == "expired", record
    assert record["request_id"] and record["request_id"] in record["remote_url"]
    assert "no longer has this video" in message

    # A submit whose outcome is unknown: marked so, in history, never sent again.
    before = len(fake.submits())
    fake.fault("submit", "reset_after_submit", provider="runcomfy")
    message = refusal(client, "/text_to_video", prompt="a paper boat", model=model)
    tried += 1
    job_id = _job_id_from(message)
    record = client.predict(job_id=job_id, api_name="/job")
    assert record["state"] == "failed" and record["error_kind"] == "submit_unknown"
    assert "not sent again" in message and "dashboard" in message
    assert job_id in {
        item["id"] for item in client.predict(limit=50, state="failed", api_name="/history")["items"]
    }
    assert len(fake.submits()) - before == 1

    # A definite refusal at submit leaves no half-made job behind.
    total = client.predict(limit=1, api_name="/history")["total"]
    fake.fault("submit", "status", provider="wavespeed", status=402)
    message = refusal(client, "/text_to_video", prompt="a red kite", model=MODELS["ws_t2v"])
    tried += 1
    assert "balance is too low" in message and "Top up" in message
    assert client.predict(limit=1, api_name="/history")["total"] == total
    print(f"\nfaults tried through the app: {tried}")


def test_a_key_echoed_back_in_a_provider_error_never_reaches_the_person(canary_studio: Any) -> None:
    """Providers sometimes quote the request in an error. The studio cuts the key out of
    what it shows and stores (see test_secrets for the full search)."""
    fake, app, canary = canary_studio.fake, canary_studio.app, canary_studio.canary
    client = app.client()
    echo = {"error_code": 400004, "error_message": f"Invalid token {canary} for this account"}
    fake.fault("submit", "status", provider="runcomfy", status=401, body=echo)
    message = refusal(client, "/text_to_video", prompt="an echo", model=MODELS["rc_t2v"])
    assert canary not in message and "Invalid token *** for this account" in message
    # A poll reaches RunComfy's /status, or /result alone once an end is expected
    # (providers/runcomfy.py): under load either may be the first, so both echo.
    for op in ("status", "result"):
        fake.fault(op, "error_in_200", provider="runcomfy", body=echo)
    message = refusal(client, "/text_to_video", prompt="an echo while polling", model=MODELS["rc_t2v"])
    assert canary not in message and "***" in message
    record = client.predict(job_id=_job_id_from(message), api_name="/job")
    assert record["error_kind"] == "auth" and canary not in str(record)
    # The fake really saw the canary as the bearer token: the search above is not vacuous.
    assert any(canary.encode() in request_bytes(r) for r in fake.submits())


def test_the_app_keeps_serving_after_the_faults(canary_studio: Any) -> None:
    client = canary_studio.app.client()
    video, job = client.predict(prompt="after the storm", model=MODELS["ws_t2v"], api_name="/text_to_video")
    assert job["state"] == "succeeded" and video
    assert wait_for_job(client, job["id"])["state"] == "succeeded"
