"""Text for the simulator's frames: word wrap that fits the card, fitted sizes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from providers import render_text

TEXT = (
    "A paper boat drifts down a rain-soaked street at dusk, neon signs reflecting in the puddles, "
    "slow dolly shot following the boat, cinematic lighting"
)


@pytest.mark.parametrize("width", [200, 260, 480])
def test_wrapped_lines_fit_and_keep_every_word_in_order(width: int) -> None:
    font = render_text.font_for(24, TEXT)
    lines = render_text.wrap(TEXT, font, width)
    assert " ".join(lines) == TEXT
    assert all(font.getlength(line) <= width + 1 for line in lines)  # +1: kerning across a space
    # Greedy: the next line's first word would not have fitted on the line before.
    for line, after in zip(lines, lines[1:], strict=False):
        assert font.getlength(f"{line} {after.split()[0]}") > width


def test_a_word_longer_than_a_line_is_broken_anywhere() -> None:
    font = render_text.font_for(20, "x")
    url = "https://example.com/" + "x" * 80
    lines = render_text.wrap(f"see {url} now", font, 150)
    assert "".join(lines).replace(" ", "") == f"see{url}now"
    assert all(font.getlength(line) <= 151 for line in lines) and len(lines) > 3


def test_fit_text_keeps_the_largest_size_when_it_fits_and_shrinks_when_it_does_not() -> None:
    font, lines, line_h = render_text.fit_text(TEXT, 2000, 400, 40, 10)
    assert font.size == 40 and len(lines) == 2
    font, lines, line_h = render_text.fit_text(TEXT, 400, 200, 40, 10)
    assert 10 < font.size < 40
    assert len(lines) * line_h <= 200 and all(font.getlength(line) <= 401 for line in lines)
    assert " ".join(lines) == TEXT, "it fits whole, so nothing is cut"


def test_a_cjk_prompt_is_drawn_with_a_font_that_has_its_glyphs() -> None:
    if render_text.font_path(render_text.CJK_FONT_FILES) is None:
        if os.environ.get("STUDIO_REQUIRE_FONTS") == "1":
            pytest.fail("no CJK font installed (apt-get install fonts-wqy-microhei); CI installs one")
        pytest.skip("no CJK font installed: apt-get install fonts-wqy-microhei")
    font = render_text.font_for(24, "一只猫在屋顶上")
    assert Path(font.path).name in render_text.CJK_FONT_FILES
    # A missing glyph is drawn as the same empty box for every character.
    cat, roof, unassigned = (font.getmask(c).getbbox() for c in ("猫", "屋", "\U000f0000"))
    assert cat and roof and cat != unassigned
    assert bytes(font.getmask("猫")) != bytes(font.getmask("屋"))
