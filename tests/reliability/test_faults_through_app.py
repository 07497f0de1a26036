"""Provider faults through the running app: a 429 storm, a 5xx burst, a reset mid-download,
a moderated job, an expired output, a submit of unknown outcome and a refused submit, each
sent through /text_to_video on the shared `canary_studio` (a fake and an app using a canary
key), end right and explain themselves; a key the provider echoes back in an error never
reaches the person; and the app keeps serving afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from tests.reliability.harness import MODELS, refusal
from tests.reliability.readback import request_bytes, wait_for_job


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
