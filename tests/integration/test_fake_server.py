"""The fake providers' server: output files (Range, HEAD, large and concurrent), the faults
and scripted outcomes tests use, and its control API and command line. (Each provider's
endpoints: test_fake_runcomfy.py, test_fake_wavespeed.py.)

Lifecycle tests move a job through its states by back-dating `created_at` instead of
sleeping, so they are exact and fast on a busy machine.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes import FakeProviders
from tests.integration.fake_kit import RC, RC_AUTH, WS, WS_AUTH, age, rc_get, rc_submit, ws_get, ws_submit

# --- Files ------------------------------------------------------------------------------


def test_output_file_supports_range_head_and_only_exists_after_success(slow_fake, client):
    rid = rc_submit(slow_fake, client).json()["request_id"]
    url = f"{slow_fake.base_url}/files/out/{rid}.mp4"
    assert client.get(url).status_code == 404
    age(slow_fake, rid, 30)
    full = client.get(url)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.content[4:8] == b"ftyp"
    size = len(full.content)
    head = client.head(url)
    assert (head.status_code, head.headers["content-length"], head.content) == (200, str(size), b"")
    part = client.get(url, headers={"Range": "bytes=100-"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert part.content == full.content[100:]
    assert client.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    slow_fake.expire_outputs()
    assert client.get(url).status_code == 404


def test_expired_outcome_succeeds_but_its_output_is_gone(slow_fake, client):
    job_id = ws_submit(slow_fake, client, body={"prompt": "a [fake:expired]"}).json()["data"]["id"]
    age(slow_fake, job_id, 30)
    data = ws_get(slow_fake, client, job_id).json()["data"]
    assert data["status"] == "completed"
    assert client.get(data["outputs"][0]).status_code == 404


def test_serve_file_streams_a_large_file_intact_over_one_keepalive_connection(
    fake_providers, client, tmp_path
):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(24 * 1024 * 1024))
    url = fake_providers.serve_file(big)
    for _ in range(3):
        assert hashlib.sha256(client.get(url).content).digest() == hashlib.sha256(big.read_bytes()).digest()
    ports = {r.client_port for r in fake_providers.requests}
    assert len(ports) == 1
    named = client.get(fake_providers.serve_file(big, "frame.png"), headers={"Range": "bytes=-10"})
    assert (named.status_code, named.headers["content-type"], named.content) == (
        206,
        "image/png",
        big.read_bytes()[-10:],
    )


async def test_sixty_concurrent_clients_are_all_served(fake_providers):
    async def one(index: int) -> str:
        async with httpx.AsyncClient(timeout=30) as c:
            submit = await c.post(
                f"{fake_providers.base_url}/v1/models/{RC}/pro/text-to-video",
                json={"prompt": f"cat {index}"},
                headers=RC_AUTH,
            )
            rid = submit.json()["request_id"]
            status = await c.get(f"{fake_providers.base_url}/v1/requests/{rid}/status", headers=RC_AUTH)
            return status.json()["request_id"]

    ids = await asyncio.gather(*(one(i) for i in range(60)))
    assert len(set(ids)) == 60 == len(fake_providers.jobs)


# --- Faults -----------------------------------------------------------------------------


def test_status_fault_hits_times_requests_in_the_provider_shape(fake_providers, client):
    rid = rc_submit(fake_providers, client).json()["request_id"]
    fake_providers.add_fault("status", "status", status=503, times=2)
    answers = [rc_get(fake_providers, client, rid, "status") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json()["error_code"] == 500001
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=502)
    failed = ws_submit(fake_providers, client)
    assert failed.status_code == 502 and failed.json()["code"] == 502 and failed.json()["data"] is None
    assert len(fake_providers.jobs) == 1  # the faulted submit created nothing


def test_429_carries_retry_after(fake_providers, client):
    fake_providers.add_fault("result", "status", status=429)
    fake_providers.add_fault("result", "status", status=429, retry_after=7)
    fake_providers.add_fault("result", "status", status=500, body={"custom": True})
    answers = [rc_get(fake_providers, client, "x", "result") for _ in range(3)]
    assert [a.headers.get("retry-after") for a in answers] == ["1", "7", None]
    assert answers[2].json() == {"custom": True}


def test_provider_filter_and_wildcard(fake_providers, client):
    fake_providers.add_fault("submit", "status", provider="wavespeed", status=500)
    assert rc_submit(fake_providers, client).status_code == 200
    assert ws_submit(fake_providers, client).status_code == 500
    fake_providers.add_fault("*", "status", status=418)
    assert client.get(f"{fake_providers.base_url}/__fake__/health").status_code == 200  # control is exempt
    assert rc_get(fake_providers, client, "x", "status").status_code == 418


def test_wavespeed_poll_is_hit_by_a_status_fault(fake_providers, client):
    job_id = ws_submit(fake_providers, client).json()["data"]["id"]
    fake_providers.add_fault("status", "status", provider="wavespeed", status=503)
    assert ws_get(fake_providers, client, job_id).status_code == 503
    assert ws_get(fake_providers, client, job_id).status_code == 200


def test_slow_fault_delays_then_answers_normally(fake_providers, client):
    rid = rc_submit(fake_providers, client).json()["request_id"]
    fake_providers.add_fault("status", "slow", delay=2.0)
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{fake_providers.base_url}/v1/requests/{rid}/status", headers=RC_AUTH, timeout=0.2)
    fake_providers.add_fault("status", "slow", delay=0.05)
    assert rc_get(fake_providers, client, rid, "status").json()["request_id"] == rid


def test_hang_never_answers_and_does_not_block_stop(client):
    fake = FakeProviders().start()
    fake.add_fault("submit", "hang")
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"{fake.base_url}/v1/models/{RC}/pro/text-to-video",
            json={"prompt": "a"},
            headers=RC_AUTH,
            timeout=0.3,
        )
    stopper = __import__("threading").Thread(target=fake.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    assert fake.jobs == {}


def test_reset_closes_without_a_response_and_creates_no_job(fake_providers, client):
    fake_providers.add_fault("submit", "reset")
    with pytest.raises(httpx.TransportError):
        rc_submit(fake_providers, client)
    assert fake_providers.jobs == {} and len(fake_providers.submits()) == 1
    assert rc_submit(fake_providers, client).status_code == 200


@pytest.mark.parametrize("provider", ["runcomfy", "wavespeed"])
def test_reset_after_submit_creates_the_job_but_sends_nothing(fake_providers, client, provider):
    fake_providers.add_fault("submit", "reset_after_submit")
    with pytest.raises(httpx.TransportError):
        (rc_submit if provider == "runcomfy" else ws_submit)(fake_providers, client)
    assert [job.provider for job in fake_providers.jobs.values()] == [provider]


def test_slow_after_submit_creates_the_job_before_answering(fake_providers, client):
    fake_providers.add_fault("submit", "slow_after_submit", delay=2.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"{fake_providers.base_url}/api/v3/{WS}/text-to-video-720p",
            json={"prompt": "a"},
            headers=WS_AUTH,
            timeout=0.3,
        )
    assert len(fake_providers.jobs) == 1


def test_download_reset_sends_part_of_the_body_then_closes(slow_fake, client):
    rid = rc_submit(slow_fake, client).json()["request_id"]
    age(slow_fake, rid, 30)
    url = f"{slow_fake.base_url}/files/out/{rid}.mp4"
    size = int(client.head(url).headers["content-length"])
    for after_bytes, expected in ((1000, 1000), (None, size // 2)):
        slow_fake.add_fault("download", "reset", after_bytes=after_bytes)
        received = bytearray()
        with pytest.raises(httpx.TransportError), client.stream("GET", url) as response:
            assert response.headers["content-length"] == str(size)
            for chunk in response.iter_raw():
                received += chunk
        assert len(received) == expected
    rest = client.get(url, headers={"Range": f"bytes={expected}-"})
    assert bytes(received) + rest.content == client.get(url).content


def test_download_fault_can_be_narrowed_to_the_job_provider(slow_fake, client):
    rc_id = rc_submit(slow_fake, client).json()["request_id"]
    ws_id = ws_submit(slow_fake, client).json()["data"]["id"]
    for job_id in (rc_id, ws_id):
        age(slow_fake, job_id, 30)
    slow_fake.add_fault("download", "status", provider="wavespeed", status=403)
    assert client.get(f"{slow_fake.base_url}/files/out/{rc_id}.mp4").status_code == 200
    assert client.get(f"{slow_fake.base_url}/files/out/{ws_id}.mp4").status_code == 403


def test_malformed_json_and_error_in_200(fake_providers, client):
    rid = rc_submit(fake_providers, client).json()["request_id"]
    job_id = ws_submit(fake_providers, client).json()["data"]["id"]
    fake_providers.add_fault("status", "malformed_json", times=2)
    for response in (rc_get(fake_providers, client, rid, "status"), ws_get(fake_providers, client, job_id)):
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            response.json()
    fake_providers.add_fault("result", "error_in_200", times=2)
    runcomfy = rc_get(fake_providers, client, rid, "result")
    wavespeed = ws_get(fake_providers, client, job_id)
    assert runcomfy.status_code == wavespeed.status_code == 200
    assert runcomfy.json()["error_code"] == 500001 and runcomfy.json()["error_message"]
    assert wavespeed.json()["code"] != 200 and wavespeed.json()["message"]


def test_unknown_fault_kind_is_refused(fake_providers):
    with pytest.raises(ValueError):
        fake_providers.add_fault("submit", "explode")


# --- Outcomes ---------------------------------------------------------------------------


def test_next_outcome_queues_in_order_and_prompt_markers_script_jobs(slow_fake, client):
    slow_fake.next_outcome("moderation")
    slow_fake.next_outcome("slow=42")
    first = rc_submit(slow_fake, client).json()["request_id"]
    second = rc_submit(slow_fake, client).json()["request_id"]
    third = rc_submit(slow_fake, client, body={"prompt": "cat [fake:unreachable_input] [fake:slow=3]"}).json()
    plain = rc_submit(slow_fake, client).json()["request_id"]
    jobs = slow_fake.jobs
    assert (jobs[first].outcome, jobs[second].outcome, jobs[plain].outcome) == (
        "moderation",
        "success",
        "success",
    )
    assert (jobs[second].run_seconds, jobs[third["request_id"]].run_seconds) == (42, 3)
    assert jobs[third["request_id"]].outcome == "unreachable_input"
    age(slow_fake, first, 30)
    message = rc_get(slow_fake, client, first, "result").json()["error"]["message"]
    assert "content moderation" in message and "sensitive" in message


def test_set_timing_applies_to_new_jobs(fake_providers, client):
    fake_providers.set_timing(queue_seconds=50, run_seconds=60)
    rid = rc_submit(fake_providers, client).json()["request_id"]
    assert (fake_providers.jobs[rid].queue_seconds, fake_providers.jobs[rid].run_seconds) == (50, 60)
    assert rc_get(fake_providers, client, rid, "status").json()["status"] == "in_queue"


# --- Control API and CLI ----------------------------------------------------------------


def test_control_api_scripts_the_fake_from_outside(fake_providers, client):
    base = f"{fake_providers.base_url}/__fake__"
    assert (
        client.post(
            f"{base}/config", json={"queue_seconds": 30, "run_seconds": 30, "queue_length": 5}
        ).status_code
        == 200
    )
    assert (
        client.post(f"{base}/faults", json=[{"op": "submit", "kind": "status", "status": 500}]).status_code
        == 200
    )
    assert client.post(f"{base}/faults", json={"op": "submit", "kind": "nope"}).status_code == 400
    assert client.post(f"{base}/outcome", json={"outcome": "failed"}).status_code == 200
    assert client.post(f"{base}/outcome", json={"outcome": "maybe"}).status_code == 400
    assert rc_submit(fake_providers, client).status_code == 500
    rid = rc_submit(fake_providers, client).json()["request_id"]
    status = rc_get(fake_providers, client, rid, "status").json()
    assert (status["status"], status["queue_position"]) == ("in_queue", 5)
    [job] = client.get(f"{base}/jobs").json()
    assert (job["id"], job["outcome"], job["state"], job["payload"]) == (
        rid,
        "failed",
        "queued",
        {"prompt": "a cat"},
    )
    recorded = client.get(f"{base}/requests").json()
    submits = [r for r in recorded if r["op"] == "submit"]
    assert len(submits) == 2 and json.loads(base64.b64decode(submits[1]["body_b64"])) == {"prompt": "a cat"}
    fake_providers.jobs[rid].created_at -= 100
    assert client.post(f"{base}/expire").status_code == 200
    assert client.get(f"{fake_providers.base_url}/files/out/{rid}.mp4").status_code == 404
    assert client.post(f"{base}/reset").status_code == 200
    assert fake_providers.jobs == {} and client.get(f"{base}/jobs").json() == []
    assert [r.op for r in fake_providers.requests] == ["jobs"]


def test_python_dash_m_runs_the_fake_by_hand():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes", "--queue-seconds", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Fake providers at http://127.0.0.1:")
        base_url = first.split(" at ")[1].strip()
        keys = process.stdout.readline() + process.stdout.readline()
        assert FakeProviders.RUNCOMFY_KEY in keys and FakeProviders.WAVESPEED_KEY in keys
        assert httpx.get(f"{base_url}/__fake__/health").json()["ok"] is True
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
