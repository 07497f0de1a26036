"""The fake RunComfy behaves as providers.md describes it: submit, status and result in
their own words, cancel, keys, validation, and the image checks.

Lifecycle tests move a job through its states by back-dating `created_at` instead of
sleeping, so they are exact and fast on a busy machine.
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from tests.fakes import FakeProviders
from tests.fakes.media import data_uri, make_image
from tests.integration.fake_kit import RC, RC_AUTH, age, rc_get, rc_submit


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
