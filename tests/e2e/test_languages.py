"""The page in five languages: with Chromium set to zh-CN, ja-JP or fr-FR the tabs, form
labels, buttons, the status line and a refusal are in that language (labels translated by
the browser from gr.I18n, the status line and the refusal by the server from the request's
language); en-US stays English. A prompt in another script is shown and stored as typed.
A provider's failure and a money limit's refusal are said in the page's language too (the
provider's own words stay as sent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORT
from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.fakes import FakeProviders

# language -> what the page must say: tab, a form label, the Generate button, the status
# line when a job is done, the refusal of an empty prompt.
# The first words of the price line ("This video: …") in each language.
PRICE_WORD = {"zh-CN": "本视频", "ja-JP": "この動画", "fr-FR": "Cette vidéo", "en-US": "This video"}
EXPECTED = {
    "zh-CN": ("文生视频", "提示词", "生成", "✓ 已完成", "提示词：请描述你想要的视频（1 到 800 个字符）。"),
    "ja-JP": (
        "テキストから動画",
        "プロンプト",
        "生成",
        "✓ 完了",
        "プロンプト：作りたい動画を説明してください（1～800 文字）。",
    ),
    "fr-FR": (
        "Texte vers vidéo",
        "Prompt",
        "Générer",
        "✓ Terminé en",
        "Prompt : décrivez la vidéo souhaitée (1 à 800 caractères).",
    ),
    "en-US": (
        "Text to video",
        "Prompt",
        "Generate",
        "✓ Done in",
        "Prompt: describe the video you want (1 to 800 characters).",
    ),
}
PROMPTS = {
    "zh-CN": "一只纸船在雨夜的街道上漂流",
    "ja-JP": "雨の通りを紙の舟が流れていく",
    "fr-FR": "Un bateau en papier dérive",
    "en-US": "A paper boat drifts",
}


@pytest.fixture
def localized(browser: object, request: pytest.FixtureRequest) -> Iterator[Page]:
    ctx = browser.new_context(viewport=VIEWPORT, locale=request.param)  # type: ignore[attr-defined]
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()


@pytest.mark.parametrize("localized", list(EXPECTED), indirect=True)
def test_the_page_speaks_the_browsers_language(localized: Page, app: RunningApp) -> None:
    page = localized
    locale = page.evaluate("navigator.language")
    tab, prompt_label, generate, done, refusal = EXPECTED[locale]
    page.goto(app.url)
    expect(page.locator("#t2v-generate")).to_have_text(generate)
    expect(page.get_by_role("tab", name=tab)).to_be_visible()
    expect(page.locator("#t2v-prompt label, #t2v-prompt [data-testid='block-info']").first).to_contain_text(
        prompt_label
    )
    if locale != "en-US":
        # Nothing English is left in the form's main words.
        for english in ("Text to video", "Image to video", "Cancel", "Random seed"):
            expect(page.locator("#studio-main")).not_to_contain_text(english)
        # The server-drawn parts too: the header, the price line, the empty player (the page
        # asks for them in its language once it has loaded: ui/page_load.py).
        expect(page.locator("#studio-header .tagline")).not_to_contain_text("videos through")
        expect(page.locator("#t2v-price .price-line")).not_to_contain_text("This video")
        expect(page.locator("#t2v-price .price-line")).to_contain_text(PRICE_WORD[locale])

    # A refusal, in the status line under Generate, in the page's language, naming the field.
    page.locator("#t2v-generate").click()
    status = page.locator("#t2v-status")
    expect(status.locator(".refusal")).to_have_text(refusal)
    expect(status.locator("[data-field='prompt']")).to_be_visible()

    # A job: the status line follows it in the page's language; the prompt stays as typed.
    typed = PROMPTS[locale]
    page.locator("#t2v-prompt textarea").fill(typed)
    page.locator("#t2v-generate").click()
    expect(status.locator("[data-state='succeeded']")).to_contain_text(done, timeout=60_000)
    expect(page.locator("#result-details")).to_contain_text(typed)
    # The result's buttons keep their words on one line ('↓ Télécharger le MP4' broke in two).
    expect(page.locator("#result-download")).to_be_visible()
    lines = page.evaluate(
        """() => [...document.querySelectorAll('#result-actions button')].filter(b => b.offsetParent)
            .map(b => { const r = document.createRange(); r.selectNodeContents(b);
                        return [b.innerText, new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })"""
    )
    assert len(lines) >= 3 and all(count == 1 for _, count in lines), lines
    history = page.locator("#history-gallery")
    expect(history).to_contain_text(typed, timeout=30_000)


@pytest.mark.parametrize("localized", ["fr-FR"], indirect=True)
def test_switching_language_in_the_footer_moves_the_servers_words_too(
    localized: Page, app: RunningApp
) -> None:
    """The page mirrors <html lang> into the studio_lang cookie: a language picked in the
    footer's settings reaches the server's words from the next response on."""
    page = localized
    page.goto(app.url)
    expect(page.locator("#t2v-generate")).to_have_text("Générer")
    assert {"name": "studio_lang", "value": "fr"}.items() <= next(
        c for c in page.context.cookies() if c["name"] == "studio_lang"
    ).items()
    page.evaluate("document.documentElement.setAttribute('lang', 'es')")  # what the footer's menu does
    page.locator("#t2v-generate").click()
    expect(page.locator("#t2v-status .refusal")).to_have_text(
        "Prompt: describe el vídeo que quieres (de 1 a 800 caracteres)."
    )

    # Reloaded, the page starts again from the browser's language (Gradio keeps no footer
    # choice): the server must follow it, not the cookie the earlier switch left.
    page.reload()
    expect(page.locator("#t2v-generate")).to_have_text("Générer")
    page.locator("#t2v-generate").click()
    expect(page.locator("#t2v-status .refusal")).to_have_text(
        "Prompt : décrivez la vidéo souhaitée (1 à 800 caractères)."
    )


# language -> a provider's failure (the studio's words around the provider's own, which stay
# as sent), and a money limit's refusal.
FAILURES = {
    "zh-CN": (
        "✕ 失败",
        "WaveSpeedAI 未能生成这个视频。服务商原文：",
        "已达上限：本工作室每人每小时最多生成 1 个视频",
    ),
    "ja-JP": (
        "✕ 失敗",
        "WaveSpeedAI はこの動画を作成できませんでした。",
        "上限に達しました：このスタジオでは 1 人あたり 1 時間に 1 本まで",
    ),
    "fr-FR": (
        "✕ Échec",
        "WaveSpeedAI n'a pas pu produire cette vidéo. Message du fournisseur : ",
        "Limite atteinte : ce studio permet 1 vidéo par heure",
    ),
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.3, run_seconds=0.5) as running:
        yield running


@pytest.fixture
def limited_app(tmp_path: Path, fake: FakeProviders) -> Iterator[RunningApp]:
    """A studio with a WaveSpeedAI key (the fake) and one video per hour."""
    env = on_fake(fake.base_url, "wavespeed") | {"STUDIO_MAX_JOBS_PER_HOUR": "1"}
    with launch_app(tmp_path, env) as running:
        yield running


@pytest.mark.parametrize("localized", list(FAILURES), indirect=True)
def test_a_failed_job_and_a_money_refusal_are_in_the_pages_language(
    localized: Page, limited_app: RunningApp, fake: FakeProviders
) -> None:
    page = localized
    locale = page.evaluate("navigator.language")
    headline, failure, refusal = FAILURES[locale]
    page.goto(limited_app.url)
    page.locator("#t2v-prompt textarea").fill(PROMPTS[locale])
    fake.next_outcome("failed")
    page.locator("#t2v-generate").click()
    status = page.locator("#t2v-status")
    failed = status.locator("[data-state='failed']")
    expect(failed).to_contain_text(headline, timeout=60_000)
    expect(failed.locator(".status-message")).to_contain_text(failure)
    expect(failed.locator(".status-message")).not_to_contain_text(
        "Try again"
    )  # the next step is translated too

    page.locator("#t2v-generate").click()  # the hour's one video is spent
    expect(status.locator(".refusal")).to_contain_text(refusal)
    expect(status).not_to_contain_text("Limit reached")
