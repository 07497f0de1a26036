"""The done signal's server side: a generated chime that browsers can play, and the hidden
element the page's script reads."""

from __future__ import annotations

import io
import wave

from ui import signals


def test_the_chime_is_a_short_playable_wav_made_here() -> None:
    data = signals.chime_wav()
    with wave.open(io.BytesIO(data)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
        assert sound.getnchannels() == 1 and sound.getsampwidth() == 2
        frames = sound.readframes(sound.getnframes())
    assert 0.2 < seconds < 1.0
    assert len(data) < 10_000  # small enough to sit in the page as a data URI
    peak = max(
        abs(int.from_bytes(frames[i : i + 2], "little", signed=True)) for i in range(0, len(frames), 2)
    )
    assert 3000 < peak < 32767  # audible, not clipped
    assert signals.chime_uri().startswith("data:audio/wav;base64,")


def test_the_signal_says_what_runs_and_what_just_ended() -> None:
    html = signals.signal_html(2, 0.4, [("abc", "succeeded"), ("def", "failed")])
    assert 'data-active="2"' in html and 'data-progress="40"' in html
    assert 'data-ended="abc:succeeded def:failed"' in html
    idle = signals.signal_html(0, None, [])
    assert 'data-active="0"' in idle and 'data-progress=""' in idle and 'data-ended=""' in idle


def test_the_controls_speak_the_page_language() -> None:
    french = signals.controls_html("fr")
    assert "Son activé" in french and "Me prévenir quand une vidéo est prête" in french
    assert "Votre vidéo est prête" in french
    assert 'id="done-sound"' in signals.audio_html()
