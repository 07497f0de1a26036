"""Numbers in the page follow the page's language: a decimal comma and French size units
('4,7 Mo') in French, a decimal comma in Spanish (the catalogue is Spain's), unchanged in
English, Chinese and Japanese. Sizes, durations and ratios; nothing else in a sentence.
Dollars too, each language's way ('0,50 $ US' in French, 'US$0.50' in Chinese)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from jobs.images import preflight
from jobs.records import JobRecord
from providers.catalog import IMAGE_RULES
from providers.registry import builtin_registry
from ui import image_words
from ui.format import decimal, details_html, number_text, size_text
from ui.image_check import rules_text

WRITTEN = {  # lang -> (4.7 MB, 1,234 megapixels, a 4.2:1 ratio, 5.04 s)
    "en": ("4.7 MB", "1,234", "4.2:1", "5.0"),
    "fr": ("4,7 Mo", "1\u202f234", "4,2:1", "5,0"),
    "es": ("4,7 MB", "1.234", "4,2:1", "5,0"),
    "zh": ("4.7 MB", "1,234", "4.2:1", "5.0"),
    "ja": ("4.7 MB", "1,234", "4.2:1", "5.0"),
}


@pytest.mark.parametrize("lang", list(WRITTEN))
def test_sizes_counts_ratios_and_decimals_are_written_the_languages_way(lang: str) -> None:
    size, count, ratio, seconds = WRITTEN[lang]
    assert size_text(4_700_000, lang) == size
    assert number_text("4.7 MB", lang) == size
    assert number_text("1,234", lang) == count
    assert number_text("4.2:1", lang) == ratio
    assert decimal(5.04, 1, lang) == seconds
    assert size_text(None, lang) == "–"


def test_only_a_number_on_its_own_is_rewritten() -> None:
    for english in ("Dreamina 3.0", "PNG", "1.5x", "4.7 MB or less", ""):
        assert number_text(english, "fr") == english
    assert number_text("1280", "fr") == "1280"  # a width: no mark to change
    assert size_text(48, "fr") == "1 Ko" and size_text(1_500_000_000, "fr") == "1,5 Go"


def test_a_french_page_writes_the_image_limit_and_a_videos_details_with_a_decimal_comma(
    tmp_path: Path,
) -> None:
    assert "moins de 4,7 Mo" in rules_text(IMAGE_RULES, "fr")
    assert "menos de 4,7 MB" in rules_text(IMAGE_RULES, "es")
    assert "under 4.7 MB" in rules_text(IMAGE_RULES, "en") and "4.7 MB 未満" in rules_text(IMAGE_RULES, "ja")
    wide = tmp_path / "wide.png"
    Image.new("RGB", (2100, 500), (200, 100, 50)).save(wide)
    report = preflight(wide)
    assert "4.2:1" in report.summary()  # jobs/ says it in English, as the API shows it
    assert image_words.summary("fr", report).startswith("L'image est en 4,2:1 (grand côté sur petit côté)")
    assert "4.2:1" in image_words.summary("zh", report)
    video = JobRecord(
        id="j1",
        owner="alice",
        kind="t2v",
        model="simulator/dreamina-3-0/text-to-video",
        provider="simulator",
        prompt="un phare à l'aube",
        created_at=1000.0,
        state="succeeded",
        video_width=1280,
        video_height=720,
        video_duration=5.04,
        video_bytes=4_700_000,
    )
    registry = builtin_registry()
    assert "1280×720 · 5,0 s · 4,7 Mo" in details_html(video, registry=registry, lang="fr")
    assert "1280×720 · 5.0 s · 4.7 MB" in details_html(video, registry=registry, lang="en")


MONEY = {  # lang -> (1234.5 dollars, a model's label with its price, a spend list's line)
    "en": ("$1,234.50", "$0.60/run", "RunComfy: $0.50"),
    "fr": ("1\u202f234,50\u00a0$\u00a0US", "0,60\u00a0$\u00a0US/vidéo", "RunComfy\u202f: 0,50\u00a0$\u00a0US"),
    "es": ("1.234,50\u00a0US$", "0,60\u00a0US$/vídeo", "RunComfy: 0,50\u00a0US$"),
    "zh": ("US$1,234.50", "US$0.60/次", "RunComfy：US$0.50"),
    "ja": ("US$1,234.50", "US$0.60/回", "RunComfy：US$0.50"),
}


@pytest.mark.parametrize("lang", list(MONEY))
def test_dollars_are_written_the_languages_way_in_prices_and_spend(lang: str) -> None:
    from ui.controls import model_label
    from ui.i18n import usd_text
    from ui.spend_panel import figures_html

    whole, label, spent = MONEY[lang]
    registry = builtin_registry()
    spec = next(s for s in registry.models(provider="wavespeed") if s.price_usd == 0.6)
    assert usd_text(1234.5, lang) == whole
    assert model_label(spec, lang).endswith(label)
    spend = {"today_usd": 0.5, "month_usd": 0.5, "total_usd": 0.5, "jobs": 1}
    spend |= {"by_provider": {"runcomfy": 0.5}, "by_model": {}}
    assert f"<li>{spent}</li>" in figures_html(spend, registry, lang)
