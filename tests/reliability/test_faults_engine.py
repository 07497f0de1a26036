"""Provider faults through the job engine: every fault a hosted video API throws at the
studio, injected into the real local fake, is run as one scenario on its own fake and its own
data folder, a few at a time, and must end in the right state, with a message a person
understands, and with no paid job lost or sent twice (an engine restart resends nothing). The
rows for faults after a job was accepted are in tests/reliability/fault_table.py; the rows for
faults at submit, refused for sure or of unknown outcome, are here; a failure lists every
scenario that went wrong.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from jobs.records import HistoryQuery, JobRecord
from providers.base import ProviderError, next_step
from tests.fakes import FakeProviders
from tests.images import good_png
from tests.reliability.engine_kit import i2v, run_async, settings_for, started_engine, t2v
from tests.reliability.fault_table import (
    RC,
    RUNNING_SCENARIOS,
    WS,
    WS_I,
    Scenario,
    fault,
    outcome_unknown_kept,
)

OWNER = "alice"

SUBMIT_SCENARIOS: tuple[Scenario, ...] = (
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

SCENARIOS = RUNNING_SCENARIOS + SUBMIT_SCENARIOS

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
