"""The fake WaveSpeedAI behaves as providers.md describes it: the {code,message,data}
envelope, both poll paths, failures inside HTTP 200, keys, validation, no cancel, uploads.

Lifecycle tests move a job through its states by back-dating `created_at` instead of
sleeping, so they are exact and fast on a busy machine.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.fakes.media import make_image
from tests.integration.fake_kit import WS, WS_AUTH, age, ws_get, ws_submit


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
