"""The blind rule's mask (jobs/group_blind.masked): what a hidden member's view keeps."""

from __future__ import annotations

from jobs.group_blind import MASKED_FIELDS, masked


def test_a_hidden_members_view_names_no_model_or_provider_even_in_its_words() -> None:
    view = {
        "id": "j1",
        "model": "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
        "provider": "wavespeed",
        "request_id": "ws-123",
        "locator": {"url": "https://api.wavespeed.ai/x"},
        "options": {"duration": 5},
        "video_codec": "h264",
        "provider_seconds": 12.5,
        "simulated": False,
        "remote_url": "https://cdn.wavespeed.ai/v.mp4",
        "download_name": "dreamina_ws-720p_20260101-1200_a-boat_seed1.mp4",
        "error_message": "WaveSpeedAI could not make this video: wavespeed says no (Dreamina 3.0 720p).",
        "note": "WaveSpeedAI is failing to answer (HTTP 502); the studio keeps asking.",
        "prompt": "A boat",
        "seed": 1,
    }
    names = [view["model"], "wavespeed", "WaveSpeedAI", "Dreamina 3.0 720p"]
    out = masked(dict(view), "B", "g1", names)
    assert all(out[name] in (None, {}) for name in MASKED_FIELDS)
    assert out["error_message"] == "Model B could not make this video: Model B says no (Model B)."
    assert out["note"].startswith("Model B is failing to answer")
    assert out["download_name"] == "dreamina_compare-g1-B.mp4" and out["blind_name"] == "Model B"
    assert (out["prompt"], out["seed"]) == ("A boat", 1)  # what every member shares stays
    assert not any(name.lower() in repr(out).lower() for name in ("wavespeed", "720p"))
