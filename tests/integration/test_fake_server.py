"""The fake providers behave like RunComfy and WaveSpeedAI as providers.md describes them.

Lifecycle tests move a job through its states by back-dating `created_at` instead of
sleeping, so they are exact and fast on a busy machine.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.fakes import FakeProviders
from tests.fakes.media import data_uri, make_image

RC = "bytedance/dreamina-3-0"
WS = "bytedance/dreamina-v3.0"
RC_AUTH = {"Authorization": f"Bearer {FakeProviders.RUNCOMFY_KEY}"}
WS_AUTH = {"Authorization": f"Bearer {FakeProviders.WAVESPEED_KEY}"}


@pytest.fixture
def slow_fake():
    """Jobs sit 10 s in the queue and run 10 s, unless a test back-dates them."""
    with FakeProviders(queue_seconds=10, run_seconds=10, queue_length=2) as fake:
        yield fake


@pytest.fixture
def client():
    with httpx.Client(timeout=10) as c:
        yield c


def age(fake: FakeProviders, job_id: str, seconds: float) -> None:
    fake.jobs[job_id].created_at = time.time() - seconds


def rc_submit(fake, client, model=f"{RC}/pro/text-to-video", body=None, headers=RC_AUTH):
    return client.post(
        f"{fake.base_url}/v1/models/{model}", json=body or {"prompt": "a cat"}, headers=headers
    )


def ws_submit(fake, client, model=f"{WS}/text-to-video-720p", body=None, headers=WS_AUTH):
    return client.post(f"{fake.base_url}/api/v3/{model}", json=body or {"prompt": "a cat"}, headers=headers)


def rc_get(fake, client, request_id, what, **params):
    return client.get(f"{fake.base_url}/v1/requests/{request_id}/{what}", headers=RC_AUTH, params=params)


def ws_get(fake, client, request_id, suffix="/result"):
    return client.get(f"{fake.base_url}/api/v3/predictions/{request_id}{suffix}", headers=WS_AUTH)


# --- RunComfy ---------------------------------------------------------------------------


def test_runcomfy_submit_returns_absolute_urls_and_records_the_job(slow_fake, client):
    response = rc_submit(slow_fake, client, body={"prompt": "a cat", "frames": 241, "seed": 7})
    assert response.status_code == 200
    body = response.json()
    rid = body["request_id"]
    root = f"{slow_fake.base_url}/v1/requests/{rid}"
    assert body == {
        "request_id": rid,
        "status_url": f"{root}/status",
        "result_url": f"{root}/result",
        "cancel_url": f"{root}/cancel",
    }
    job = slow_fake.jobs[rid]
    assert (job.provider, job.model, job.payload) == (
        "runcomfy",
        f"{RC}/pro/text-to-video",
        {"prompt": "a cat", "frames": 241, "seed": 7},
    )
    assert [r.json for r in slow_fake.submits("runcomfy")] == [job.payload]
    assert slow_fake.submits("wavespeed") == []


def test_runcomfy_status_and_result_use_different_words(slow_fake, client):
    rid = rc_submit(slow_fake, client).json()["request_id"]
    seen = []
    for elapsed in (1, 6, 15, 25):
        age(slow_fake, rid, elapsed)
        status = rc_get(slow_fake, client, rid, "status").json()
        result = rc_get(slow_fake, client, rid, "result").json()
        seen.append((status["status"], status.get("queue_position"), result["status"]))
    assert seen == [
        ("in_queue", 2, "in_queue"),
        ("in_queue", 1, "in_queue"),
        ("in_progress", None, "in_progress"),
        ("completed", None, "succeeded"),
    ]
    result = rc_get(slow_fake, client, rid, "result").json()
    assert result["output"] == {"video": f"{slow_fake.base_url}/files/out/{rid}.mp4"}
    assert result["created_at"] < result["finished_at"]
    assert "cost" not in result
    assert rc_get(slow_fake, client, rid, "result", include_cost="true").json()["cost"] == 0.6


def test_runcomfy_failed_job_says_completed_on_status_but_failed_on_result(slow_fake, client):
    slow_fake.next_outcome("failed")
    rid = rc_submit(slow_fake, client).json()["request_id"]
    age(slow_fake, rid, 30)
    assert rc_get(slow_fake, client, rid, "status").json()["status"] == "completed"
    result = rc_get(slow_fake, client, rid, "result").json()
    assert result["status"] == "failed" and "output" not in result
    assert result["error"]["message"]


def test_runcomfy_cancel_answers_202_and_only_cancels_queued_jobs(slow_fake, client):
    queued = rc_submit(slow_fake, client).json()["request_id"]
    running = rc_submit(slow_fake, client).json()["request_id"]
    age(slow_fake, running, 12)
    first = client.post(f"{slow_fake.base_url}/v1/requests/{queued}/cancel", headers=RC_AUTH)
    second = client.post(f"{slow_fake.base_url}/v1/requests/{running}/cancel", headers=RC_AUTH)
    assert first.status_code == second.status_code == 202
    assert first.json() == {"request_id": queued, "status": "cancelled", "outcome": "cancelled"}
    assert second.json() == {"request_id": running, "status": "in_progress", "outcome": "not_cancellable"}
    assert rc_get(slow_fake, client, queued, "status").json()["status"] == "cancelled"
    assert rc_get(slow_fake, client, queued, "result").json()["status"] == "cancelled"
    assert slow_fake.jobs[queued].cancelled and not slow_fake.jobs[running].cancelled
    age(slow_fake, running, 30)
    assert rc_get(slow_fake, client, running, "result").json()["status"] == "succeeded"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "rc-test-key"}])
def test_runcomfy_rejects_a_missing_or_wrong_key(fake_providers, client, headers):
    response = rc_submit(fake_providers, client, headers=headers)
    assert response.status_code == 401
    assert response.json()["error_code"] == 400004
    assert fake_providers.jobs == {}


def test_runcomfy_unknown_model_request_and_foreign_request(fake_providers, client):
    unknown_model = rc_submit(fake_providers, client, model=f"{RC}/ultra/text-to-video")
    assert (unknown_model.status_code, unknown_model.json()["error_code"]) == (404, 400001)
    unknown = rc_get(fake_providers, client, "no-such-id", "status")
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, 404001)
    rid = rc_submit(fake_providers, client).json()["request_id"]
    other = {"Authorization": f"Bearer {FakeProviders.RUNCOMFY_OTHER_KEY}"}
    foreign = client.get(f"{fake_providers.base_url}/v1/requests/{rid}/result", headers=other)
    assert (foreign.status_code, foreign.json()["error_code"]) == (403, 403001)


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (f"{RC}/pro/text-to-video", {"prompt": "a", "resolution": "720P"}, "resolution"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "aspect_ratio": "16:9"}, "aspect_ratio"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "aspect_ratio": "1920x1088(16:9)"}, "aspect_ratio"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "frames": "121"}, "frames"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "frames": 120}, "frames"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "number_of_frames": 121}, "number_of_frames"),
        (f"{RC}/pro/text-to-video", {"prompt": "a", "seed": True}, "seed"),
        (f"{RC}/pro/text-to-video", {"prompt": "x" * 801}, "prompt"),
        (f"{RC}/pro/text-to-video", {"seed": 1}, "prompt"),
        (f"{RC}/text-to-video", {"prompt": "a", "frames": 121}, "frames"),
        (f"{RC}/image-to-video", {"prompt": "a", "image_urls": []}, "image_urls"),
        (f"{RC}/image-to-video", {"prompt": "a", "image_url": "https://x/y.png"}, "image_url"),
        (f"{RC}/pro/image-to-video", {"prompt": "a", "image_urls": ["a.png", "b.png"]}, "image_urls"),
    ],
)
def test_runcomfy_validation_errors_are_422_naming_the_field(fake_providers, client, model, body, field):
    response = rc_submit(fake_providers, client, model=model, body=body)
    assert response.status_code == 422
    error = response.json()
    assert (error["error_code"], error["error_message"]) == (422001, "Validation Error")
    assert field in [entry["loc"][1] for entry in error["detail"]]
    assert fake_providers.jobs == {}


def test_runcomfy_accepts_each_documented_shape(fake_providers, client):
    image = data_uri(make_image(640, 360))
    ok = [
        (f"{RC}/text-to-video", {"prompt": "a", "number_of_frames": 241, "resolution": "1080P", "seed": -1}),
        (
            f"{RC}/image-to-video",
            {
                "prompt": "a",
                "image_urls": [image],
                "number_of_frames": 121,
                "resolution": "720P",
                "seed": 2147483647,
            },
        ),
        (
            f"{RC}/pro/text-to-video",
            {"prompt": "a" * 800, "aspect_ratio": "2176\u00d7928(21:9)", "frames": 121},
        ),
        (f"{RC}/pro/image-to-video", {"prompt": "a", "image_urls": [image], "frames": 241, "seed": 3}),
    ]
    for model, body in ok:
        response = rc_submit(fake_providers, client, model=model, body=body)
        assert response.status_code == 200, (model, response.text)


def _png(width: int, height: int) -> bytes:
    return make_image(width, height)


def _noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, format="PNG", compress_level=0
    )
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 640)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        (data_uri(_png(300, 600)), "shortest side"),
        (data_uri(_png(1600, 400)), "3:1"),
        (data_uri(_png(4100, 400)), "4096"),
        (data_uri(_gif(), "image/png"), "JPEG/PNG"),
        (data_uri(_gif(), "image/gif"), "JPEG/PNG"),
        ("data:image/png;base64,%%%notbase64", "image_uri"),
        ("/home/me/picture.png", "image_uri"),
    ],
    ids=["short-side", "ratio", "too-wide", "gif-as-png", "gif", "bad-base64", "plain-path"],
)
def test_runcomfy_image_checks_reject_bad_images(fake_providers, client, uri, words):
    body = {"prompt": "a", "image_urls": [uri]}
    response = rc_submit(fake_providers, client, model=f"{RC}/image-to-video", body=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert all(entry["loc"][:2] == ["body", "image_urls"] for entry in detail)
    assert any(words in entry["msg"] for entry in detail), detail


def test_runcomfy_rejects_an_image_of_4_7_megabytes_or_more(fake_providers, client):
    big = _noise_png(1300)
    assert len(big) >= 4_700_000
    body = {"prompt": "a", "image_urls": [data_uri(big)]}
    response = rc_submit(fake_providers, client, model=f"{RC}/pro/image-to-video", body=body)
    assert response.status_code == 422
    assert "4.7 MB" in response.json()["detail"][0]["msg"]


def test_runcomfy_image_url_served_by_the_fake_is_checked_and_an_outside_one_fails_later(
    slow_fake, client, tmp_path
):
    small = tmp_path / "small.png"
    small.write_bytes(_png(200, 200))
    good = tmp_path / "good.jpg"
    good.write_bytes(make_image(800, 600, "JPEG"))
    model = f"{RC}/pro/image-to-video"
    rejected = rc_submit(
        slow_fake, client, model=model, body={"prompt": "a", "image_urls": [slow_fake.serve_file(small)]}
    )
    assert rejected.status_code == 422
    accepted = rc_submit(
        slow_fake, client, model=model, body={"prompt": "a", "image_urls": [slow_fake.serve_file(good)]}
    )
    outside = rc_submit(
        slow_fake, client, model=model, body={"prompt": "a", "image_urls": ["https://example.com/a.png"]}
    )
    assert accepted.status_code == outside.status_code == 200
    for response, status in ((accepted, "succeeded"), (outside, "failed")):
        rid = response.json()["request_id"]
        age(slow_fake, rid, 30)
        assert rc_get(slow_fake, client, rid, "result").json()["status"] == status
    failed = rc_get(slow_fake, client, outside.json()["request_id"], "result").json()
    assert "download" in failed["error"]["message"]


# --- WaveSpeed --------------------------------------------------------------------------


def test_wavespeed_submit_envelope(slow_fake, client):
    response = ws_submit(
        slow_fake, client, body={"prompt": "a", "aspect_ratio": "21:9", "duration": 10, "seed": -1}
    )
    assert response.status_code == 200
    envelope = response.json()
    assert (envelope["code"], envelope["message"]) == (200, "success")
    data = envelope["data"]
    assert data["status"] == "created" and data["model"] == f"{WS}/text-to-video-720p"
    assert data["urls"] == {"get": f"{slow_fake.base_url}/api/v3/predictions/{data['id']}/result"}
    assert (data["outputs"], data["has_nsfw_contents"], data["error"]) == ([], [], "")
    assert data["created_at"].endswith("Z") and "timings" in data


@pytest.mark.parametrize("suffix", ["/result", ""])
def test_wavespeed_lifecycle_on_both_poll_paths(slow_fake, client, suffix):
    data = ws_submit(slow_fake, client, model="bytedance/dreamina-v3.0-pro/text-to-video").json()["data"]
    seen = []
    for elapsed in (1, 15, 25):
        age(slow_fake, data["id"], elapsed)
        seen.append(ws_get(slow_fake, client, data["id"], suffix).json()["data"]["status"])
    assert seen == ["created", "processing", "completed"]
    done = ws_get(slow_fake, client, data["id"], suffix).json()["data"]
    assert done["outputs"] == [f"{slow_fake.base_url}/files/out/{data['id']}.mp4"]
    assert done["has_nsfw_contents"] == [False]
    assert done["timings"]["inference"] == 10_000


@pytest.mark.parametrize(
    ("outcome", "code", "words"),
    [
        ("moderation", 1200, "moderation"),
        ("unreachable_input", 1402, "Failed to download image"),
        ("failed", 1403, "failed"),
    ],
)
def test_wavespeed_failures_arrive_inside_http_200(slow_fake, client, outcome, code, words):
    slow_fake.next_outcome(outcome)
    job_id = ws_submit(slow_fake, client).json()["data"]["id"]
    age(slow_fake, job_id, 30)
    response = ws_get(slow_fake, client, job_id)
    assert response.status_code == 200 and response.json()["code"] == 200
    data = response.json()["data"]
    assert (data["status"], data["code"], data["outputs"]) == ("failed", code, [])
    assert words in data["error"]


def test_wavespeed_image_must_be_a_url_the_fake_serves(slow_fake, client):
    image_url = slow_fake.serve_file(Path(__file__), "frame.png")
    ids = []
    for image in (image_url, "https://example.com/frame.png", base64.b64encode(b"raw").decode()):
        body = {"prompt": "a", "image": image, "duration": 5}
        ids.append(
            ws_submit(slow_fake, client, model=f"{WS}/image-to-video-1080p", body=body).json()["data"]["id"]
        )
    for job_id in ids:
        age(slow_fake, job_id, 30)
    results = [ws_get(slow_fake, client, job_id).json()["data"] for job_id in ids]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("completed", None),
        ("failed", 1402),
        ("failed", 1402),
    ]


def test_wavespeed_bad_key_and_unknown_prediction(fake_providers, client):
    response = ws_submit(fake_providers, client, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "invalid authentication", "data": None}
    assert ws_get(fake_providers, client, "f" * 32).status_code == 404


@pytest.mark.parametrize(
    ("model", "body", "code", "field"),
    [
        (f"{WS}/text-to-video-720p", {"aspect_ratio": "16:9"}, 1400, "prompt"),
        (f"{WS}/text-to-video-720p", {"prompt": "a", "aspect_ratio": "9:21"}, 1401, "aspect_ratio"),
        (f"{WS}/text-to-video-1080p", {"prompt": "a", "duration": 7}, 1401, "duration"),
        (f"{WS}/image-to-video-1080p", {"prompt": "a", "image": "u", "duration": 10}, 1401, "duration"),
        (f"{WS}/image-to-video-720p", {"prompt": "a"}, 1400, "image"),
        (
            f"{WS}/image-to-video-720p",
            {"prompt": "a", "image": "u", "aspect_ratio": "16:9"},
            1401,
            "aspect_ratio",
        ),
        ("bytedance/dreamina-v3.0-pro/text-to-video", {"prompt": "a", "seed": -2}, 1401, "seed"),
        ("bytedance/dreamina-v3.0-pro/text-to-video", {"prompt": "a", "frames": 121}, 1401, "frames"),
        ("bytedance/dreamina-v3.0-pro/image-to-video", {"prompt": "y" * 801, "image": "u"}, 1401, "prompt"),
    ],
)
def test_wavespeed_validation_errors_are_400_naming_the_field(
    fake_providers, client, model, body, code, field
):
    response = ws_submit(fake_providers, client, model=model, body=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["data"]) == (code, None)
    assert field in error["message"]
    assert fake_providers.jobs == {}


def test_wavespeed_has_no_cancel_endpoint(slow_fake, client):
    job_id = ws_submit(slow_fake, client).json()["data"]["id"]
    response = client.post(f"{slow_fake.base_url}/api/v3/predictions/{job_id}/cancel", headers=WS_AUTH)
    assert response.status_code == 404
    assert not slow_fake.jobs[job_id].cancelled


def test_wavespeed_multipart_upload(fake_providers, client):
    png = make_image(400, 400)
    response = client.post(
        f"{fake_providers.base_url}/api/v3/media/upload/binary",
        headers=WS_AUTH,
        files={"file": ("frame.png", png, "image/png")},
    )
    data = response.json()["data"]
    assert (data["type"], data["filename"], data["size"]) == ("image", "frame.png", len(png))
    assert client.get(data["download_url"]).content == png
    assert fake_providers.requests[0].op == "upload"


def test_wavespeed_ticket_upload_then_unauthenticated_put(fake_providers, client):
    payload = b"\x89PNG fake bytes"
    ticket = client.post(
        f"{fake_providers.base_url}/api/v3/media/uploads",
        headers=WS_AUTH,
        json={"filename": "a.png", "size": len(payload), "content_type": "image/png"},
    ).json()["data"]
    assert ticket["upload"]["method"] == "PUT"
    assert client.get(ticket["download_url"]).status_code == 404  # nothing there before the PUT
    wrong_size = client.put(
        ticket["upload"]["url"], content=payload + b"!", headers=ticket["upload"]["headers"]
    )
    assert wrong_size.status_code == 400
    put = client.put(ticket["upload"]["url"], content=payload, headers=ticket["upload"]["headers"])
    assert put.status_code == 200
    assert client.get(ticket["download_url"]).content == payload
    assert fake_providers.requests[-2].op == "upload_put"
    assert fake_providers.requests[-2].header("Authorization") is None


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
