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


def test_a_hidden_members_record_as_the_page_draws_it_names_no_model_or_provider() -> None:
    from jobs import job_words
    from jobs.group_blind import is_masked, masked_record
    from jobs.records import JobRecord
    from providers.base import ProviderError
    from providers.registry import builtin_registry
    from ui.format import details_html, status_html
    from ui.status import active_row
    from ui.stored_text import job_text

    registry = builtin_registry()
    model = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
    note = job_words.say("failing", provider="WaveSpeedAI", what="HTTP 502")
    error = ProviderError("job_failed", "WaveSpeedAI said no")
    record = JobRecord(
        id="j1", owner="alice", kind="t2v", model=model, provider="wavespeed", prompt="A boat", state="running",
        request_id="ws-req-1", options={"duration": 5, "aspect_ratio": "16:9"}, created_at=1.0, group_id="g1",
        note=note, note_code=note.code, note_params=dict(note.params), error_message=error.message,
        error_code=error.message.code, error_params=dict(error.message.params),
    )  # fmt: skip
    names = [model, "wavespeed", "WaveSpeedAI", "Dreamina 3.0 720p"]
    seen = masked_record(record, "B", names)
    assert is_masked(seen) and not is_masked(record) and seen.model == "Model B"
    for lang in ("en", "fr", "zh"):
        drawn = " ".join(
            [
                status_html(seen, 30.0, 10.0, registry=registry, lang=lang),
                details_html(seen.copy(state="failed"), registry=registry, lang=lang),
                repr(active_row(seen, lang)),
                job_text(lang, seen, "note"),
                job_text(lang, seen, "error"),
            ]
        )
        assert "Model B" in drawn, lang
        for name in ("wavespeed", "720p", "ws-req-1", "duration"):
            assert name not in drawn.lower(), (lang, name)
    # Unmasked, the same drawing names them: the check above can fail.
    assert "WaveSpeedAI" in status_html(record, 30.0, 10.0, registry=registry, lang="en")
