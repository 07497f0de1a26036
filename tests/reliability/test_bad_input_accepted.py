"""Input that looks odd but is fine, or fixable: prompts with markup, emoji and other scripts accepted
and kept verbatim and shown as text in the page, an EXIF-rotated photo sent upright, an API caller
accepting the offer to fit an image, the engine fitting every fixable image when asked, and a phone
photo with a preview frame sent as a plain JPEG."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image

import tests.images as odd
from jobs.records import GenerationRequest
from tests.fakes import FakeProviders
from tests.reliability.bad_input_support import (  # noqa: F401 (the *_fixture names are fixtures)
    image_folder_fixture,
    make_image,
)
from tests.reliability.engine_kit import run_async, settings_for, started_engine
from tests.reliability.harness import MODELS

ACCEPTED_PROMPTS = {
    "emoji": "🎬 a robot dances 🤖🕺🏽 under fireworks 🎆",
    "hebrew": "מצלמה איטית מעל העיר בלילה",
    "arabic": "كاميرا بطيئة فوق المدينة ليلاً",
    "bidi override inside text": "a sign that reads \u202eNEPO\u202c in neon",
    "zero-width inside words": "light\u200bhouse at da\u200dwn",
    "combining accents": "cafe\u0301 terrace, nai\u0308ve painting style",
    "html": "<b>bold</b> & <i>italic</i> &amp; &lt;tags&gt;",
    "script": "<script>window.__pwned = 'script'</script> a fox in the snow",
    "img onerror": '<img src="x" onerror="window.__pwned = \'img\'"> a kite',
    "quotes and backslashes": "she said \"cut!\" \\ then 'action' \\n stays literal",
    "newlines": "first line\nsecond line\n\nthird after a blank",
    "exactly 800 characters": "a" * 799 + "z",
    "800 emoji": "🌊" * 800,
}


def test_odd_prompts_are_accepted_and_kept_verbatim(canary_studio: Any) -> None:
    """Stored, returned by /job and /history, and sent to the provider exactly as typed."""
    fake, client = canary_studio.fake, canary_studio.app.client()
    jobs = {
        name: client.submit(prompt=prompt, model=MODELS["rc_t2v"], api_name="/text_to_video")
        for name, prompt in ACCEPTED_PROMPTS.items()
    }
    sent = {}
    for name, job in jobs.items():
        video, record = job.result(timeout=120)
        prompt = ACCEPTED_PROMPTS[name]
        assert record["state"] == "succeeded" and video, (name, record)
        assert record["prompt"] == prompt, name
        assert client.predict(job_id=record["id"], api_name="/job")["prompt"] == prompt, name
        sent[record["request_id"]] = prompt
    history = {
        item["request_id"]: item["prompt"] for item in client.predict(limit=200, api_name="/history")["items"]
    }
    assert all(history.get(rid) == prompt for rid, prompt in sent.items())
    submitted = {job["id"]: job["payload"]["prompt"] for job in fake.jobs()}
    assert all(submitted[rid] == prompt for rid, prompt in sent.items()), (
        "a prompt reached the provider altered"
    )


def test_markup_in_a_prompt_is_shown_as_text_in_the_page(canary_studio: Any, tmp_path: Path) -> None:
    """The page lists the job and shows its details; the prompt's markup stays text."""
    from tests.reliability.browser import run_in_browser

    client = canary_studio.app.client()
    prompt = "xss-marker-7 " + ACCEPTED_PROMPTS["img onerror"] + " " + ACCEPTED_PROMPTS["script"]
    _, record = client.predict(prompt=prompt, model=MODELS["rc_t2v"], api_name="/text_to_video")

    def look(page: Any) -> dict[str, Any]:
        page.goto(canary_studio.app.url)
        page.locator(".pager-text[data-total]").wait_for(state="attached", timeout=60_000)
        page.locator("#history-search input, #history-search textarea").first.fill("xss-marker-7")
        tile = page.locator("#history-gallery button.thumbnail-item").first
        page.wait_for_function(
            "() => document.querySelector('#history-gallery')?.textContent.includes('xss-marker-7')",
            timeout=30_000,
        )
        gallery_text = page.locator("#history-gallery .caption-label").first.text_content() or ""
        tile.click()
        details = page.locator(f"#result-details .details-table[data-job='{record['id']}']")
        details.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "escaped.png"), full_page=True)
        return {
            "gallery": gallery_text,
            "details": details.inner_text(),
            "details_html": details.inner_html(),
            "pwned": page.evaluate("() => window.__pwned ?? null"),
            "injected": page.evaluate(
                "() => document.querySelectorAll('img[onerror], #result-details script, #history-gallery script').length"
            ),
        }

    seen = run_in_browser(look)
    assert seen["pwned"] is None, "markup from a prompt ran in the page"
    assert seen["injected"] == 0
    assert "<img src=" in seen["details"] and "<script>" in seen["details"], seen["details"]
    assert "&lt;script&gt;" in seen["details_html"]
    assert seen["gallery"].startswith("xss-marker-7 <img src="), seen["gallery"]


def _sent_image_size(fake: Any, request_id: str) -> tuple[int, int]:
    job = next(j for j in fake.jobs() if j["id"] == request_id)
    uri = job["payload"]["image_urls"][0]
    data = base64.b64decode(uri.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_an_exif_rotated_photo_is_sent_upright(canary_studio: Any, image_folder: Path) -> None:
    from gradio_client import handle_file

    fake, client = canary_studio.fake, canary_studio.app.client()
    photo = odd.exif_rotated_jpeg(image_folder, orientation=6)  # stored 800×600, upright 600×800
    _, record = client.predict(
        prompt="turn to camera",
        image=handle_file(str(photo)),
        model=MODELS["rc_i2v"],
        api_name="/image_to_video",
    )
    assert record["state"] == "succeeded"
    assert _sent_image_size(fake, record["request_id"]) == (600, 800)


def test_an_api_caller_can_accept_the_offer_to_fit_an_image(canary_studio: Any, image_folder: Path) -> None:
    """The refusal offers 'Fit image'; /image_to_video takes fit_image=True to accept it."""
    from gradio_client import handle_file

    client = canary_studio.app.client()
    wide = handle_file(str(make_image("too_wide", image_folder / "fit")))
    _, record = client.predict(
        prompt="pan across", image=wide, fit_image=True, model=MODELS["rc_i2v"], api_name="/image_to_video"
    )
    assert record["state"] == "succeeded"
    width, height = _sent_image_size(canary_studio.fake, record["request_id"])
    assert (width, height) == (1200, 400), "the 1600×400 picture was cropped to 3:1 before sending"


def test_the_engine_fits_every_fixable_image_when_asked(tmp_path: Path) -> None:
    """The other half of the offer: with fit_image the engine repairs each fixable kind, and
    what reaches the provider passes the provider's own checks (the fake applies them)."""
    fixable = list(odd.FIXABLE)

    async def scenario() -> list[str]:
        problems = []
        with FakeProviders(queue_seconds=0, run_seconds=0.05) as fake:
            engine = await started_engine(settings_for(tmp_path / "data", fake.base_url))
            try:
                records = []
                for name in fixable:
                    request = GenerationRequest(
                        kind="i2v",
                        model=MODELS["rc_i2v"],
                        prompt=f"fit {name}",
                        image=str(make_image(name, tmp_path / name)),
                        fit_image=True,
                    )
                    records.append((name, await engine.submit("alice", request)))
                for name, record in records:
                    final = await engine.wait("alice", record.id, timeout=60)
                    if final.state != "succeeded":
                        problems.append(f"{name}: {final.state} {final.error_message}")
            finally:
                await engine.close()
        return problems

    assert not run_async(scenario, timeout=300)
    print(f"\nfixable images fitted through the engine: {len(fixable)}")


def test_a_phone_photo_with_a_preview_frame_is_sent_as_a_plain_jpeg(
    canary_studio: Any, image_folder: Path
) -> None:
    from gradio_client import handle_file

    client = canary_studio.app.client()
    photo = handle_file(str(odd.mpo_jpeg(image_folder)))
    _, record = client.predict(
        prompt="a phone photo", image=photo, model=MODELS["rc_i2v"], api_name="/image_to_video"
    )
    assert record["state"] == "succeeded"
