"""The studio's own words in the page's language: a job's stored notes and errors (stored
with their jobs/job_words.py codes), a classified error's next step, a provider's own words
shown as sent but introduced in the page's language, and the money limits' refusals (codes
and parameters from jobs/limits.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest

from jobs import job_words
from jobs.ledger import Ledger
from jobs.limits import Limits, QuotaError, Reservation
from jobs.recorder import Recorder
from jobs.settings import Settings
from jobs.store import JobStore
from jobs.updates import Updates
from jobs.write_lanes import WriteLanes
from providers.base import ErrorKind, ProviderError, Secret, Words, next_step
from providers.errors import failed_job_error
from providers.money import Price
from providers.scrub import Scrubber
from tests.unit.store_kit import make_job
from ui.i18n import LANGUAGES, catalogue, error_text, text
from ui.stored_text import job_text, said


def shown(lang: str, words: Words) -> str:
    """What a page in `lang` shows for words stored as the recorder stores them."""
    return said(lang, str(words), words.code, words.params)


@pytest.mark.parametrize("code", list(job_words.TEMPLATES))
def test_every_stored_sentence_carries_its_code_and_is_said_in_every_language(code: str) -> None:
    params = {name: f"<{name}>" for name in ("provider", "what", "minutes", "env", "words")}
    used = {k: v for k, v in params.items() if "{" + k + "}" in job_words.TEMPLATES[code]}
    words = job_words.say(code, **used)
    assert (words.code, dict(words.params)) == (code, used)
    assert catalogue("en")[f"job.{code}"] == job_words.TEMPLATES[code]
    assert shown("en", words) == words
    for lang in LANGUAGES:
        if lang != "en":
            assert shown(lang, words) == text(lang, f"job.{code}", **used), lang


@pytest.mark.parametrize("kind", get_args(ErrorKind))
def test_every_next_step_has_its_words_and_english_keeps_them(kind: str) -> None:
    assert catalogue("en")[f"kind.{kind}"] == next_step(kind)  # type: ignore[arg-type]


def test_a_providers_failure_keeps_its_words_introduced_in_the_pages_language() -> None:
    error = failed_job_error("WaveSpeedAI", None, "Task execution failed")
    assert error.message.code == "made_nothing_said"
    assert shown("en", error.message) == error.message
    french = shown("fr", error.message)
    assert french.startswith("WaveSpeedAI n'a pas pu produire cette vidéo. Message du fournisseur : ")
    assert "Task execution failed" in french and french.endswith(
        "Réessayez, ou modifiez le prompt ou l'image."
    )
    chinese = shown("zh", error.message)
    assert "Task execution failed" in chinese and "请重试" in chinese and "Try again" not in chinese
    # Words the studio did not write are shown as sent, introduced in the page's language.
    unknown = ProviderError("server", "Upstream exploded")
    assert shown("ja", unknown.message).startswith("プロバイダーからのメッセージ：Upstream exploded")
    assert said("es", "Something else entirely", None, {}) == "Mensaje del proveedor: Something else entirely"


def test_notes_and_cancel_outcomes_are_said_in_each_language() -> None:
    note = job_words.say("key_wait", provider="WaveSpeedAI")
    for lang in LANGUAGES:
        words = shown(lang, note)
        assert "WaveSpeedAI" in words
        assert (words == note) == (lang == "en")
    cancel = job_words.say("cannot_cancel.running.free", provider="Simulator (offline)")
    assert shown("fr", cancel).startswith("Non annulée : selon Simulateur (hors ligne),")
    timeout = ProviderError("timeout", job_words.say("timed_out", minutes=45))
    assert shown("fr", timeout.message).startswith("Toujours pas terminée après 45 minutes.")
    field = ProviderError("validation", "bad ratio", field="aspect_ratio")
    assert shown("fr", field.message).endswith("Modifiez « Format d'image » et réessayez.")


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[JobStore, Recorder]]:
    store = JobStore(tmp_path / "studio.sqlite3")
    store.open()
    scrubber = Scrubber([Secret("sk-live-123456789")])
    yield store, Recorder(store, Updates(), scrubber, time.time, lambda _: None, WriteLanes(off_loop=False))
    store.close()


async def test_a_job_keeps_its_words_code_so_a_changed_english_template_changes_no_other_language(
    recorder: tuple[JobStore, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, record = recorder
    monkeypatch.setitem(job_words.TEMPLATES, "timed_out", "Gave up waiting after {minutes} min.")
    store.insert(make_job("j1", state="running"))
    error = ProviderError("timeout", job_words.say("timed_out", minutes="45"))
    await record.save("j1", state="failed", error_kind=error.kind, error_message=error.message)
    stored = store.get("j1")
    assert stored is not None and stored.error_code == "timed_out"
    assert stored.error_params == {"minutes": "45", "next_step": "timeout"}
    assert job_text("en", stored, "error").startswith("Gave up waiting after 45 min.")  # the English as stored
    assert job_text("fr", stored, "error").startswith("Toujours pas terminée après 45 minutes.")
    assert job_text("zh", stored, "error") == text("zh", "job.timed_out", minutes="45") + text("zh", "kind.timeout")


async def test_a_note_changes_with_its_code_and_a_providers_words_are_scrubbed_in_both(
    recorder: tuple[JobStore, Recorder],
) -> None:
    store, record = recorder
    store.insert(make_job("j2", state="running"))
    await record.save("j2", note=job_words.say("key_wait", provider="WaveSpeedAI"))
    noted = store.get("j2")
    assert noted is not None and (noted.note_code, noted.note_params) == ("key_wait", {"provider": "WaveSpeedAI"})
    await record.save("j2", note="a plain note")  # text with no code clears the code
    plain = store.get("j2")
    assert plain is not None and (plain.note_code, plain.note_params) == (None, {})
    leaked = failed_job_error("WaveSpeedAI", None, "bad key sk-live-123456789 used")
    await record.save("j2", state="failed", error_kind=leaked.kind, error_message=leaked.message)
    failed = store.get("j2")
    assert failed is not None and failed.note is None and failed.note_code is None  # a finished job's note is over
    assert "sk-live" not in repr(failed) and failed.error_code == "made_nothing_said"
    assert "***" in failed.error_params["words"] and "***" in job_text("fr", failed, "error")


@pytest.fixture
def limits(tmp_path: Path) -> Iterator[Limits]:
    settings = Settings(
        data_dir=tmp_path, max_jobs_per_hour=2, max_usd_per_day=1.0, max_usd_per_person_per_day=0.5
    )
    ledger = Ledger(tmp_path / "spend.sqlite3")
    ledger.open()
    clock = [86400 * 1000 + 12 * 3600.0]  # noon UTC
    yield Limits(settings, ledger, clock=lambda: clock[0])
    ledger.close()


def _refusal(limits: Limits, *prices: float, owner: str = "alice") -> QuotaError:
    items = [
        Reservation(f"job-{owner}-{i}", "wavespeed", "m", Price(usd, "catalog"))
        for i, usd in enumerate(prices)
    ]
    with pytest.raises(QuotaError) as refused:
        limits.reserve_many(owner=owner, quota_key=None, items=items)
    return refused.value


def test_money_limits_are_refused_with_codes_the_page_says_in_its_language(limits: Limits) -> None:
    person = _refusal(limits, 0.3, 0.3)
    assert person.code == "limit_usd_per_person" and person.limit == "STUDIO_MAX_USD_PER_PERSON_PER_DAY"
    assert error_text("en", person) == person.message  # the English catalogue says what jobs/ says
    french = error_text("fr", person)
    assert french == (
        "Limite atteinte : ce studio dépense au plus 0,50\u00a0$\u00a0US par jour et par personne ; il reste 0,50\u00a0$\u00a0US "
        "aujourd'hui et ces 2 vidéos coûtent 0,60\u00a0$\u00a0US. La limite se renouvelle à 00:00 UTC (dans 12 h)."
    )
    assert "12 小时" in error_text("zh", person) and "12 時間" in error_text("ja", person)

    for n in (1, 2):
        limits.reserve_many(
            owner="alice",
            quota_key=None,
            items=[Reservation(f"a{n}", "wavespeed", "m", Price(0.1, "catalog"))],
        )
    hourly = _refusal(limits, 0.1)
    assert hourly.code == "limit_jobs_per_hour"
    assert error_text("en", hourly) == hourly.message
    assert error_text("es", hourly).startswith("Límite alcanzado: este estudio permite 2 vídeos por hora")
    assert "(dentro de 60 min)" in error_text("es", hourly)

    limits.reserve_many(
        owner="bob", quota_key=None, items=[Reservation("b1", "wavespeed", "m", Price(0.45, "catalog"))]
    )
    server = _refusal(limits, 0.45, owner="carol")  # 0.2 + 0.45 + 0.45 passes the server's 1.00
    assert server.code == "limit_usd_per_day" and error_text("en", server) == server.message
    assert error_text("fr", server).startswith(
        "Limite atteinte : ce studio dépense au plus 1,00\u00a0$\u00a0US par jour pour tout le monde ; il reste 0,35\u00a0$\u00a0US "
        "aujourd'hui et cette vidéo coûte 0,45\u00a0$\u00a0US."
    )


# --- the image check and the fit (jobs/image_words.py, ui/image_words.py) ------------------


def test_image_findings_and_fit_changes_are_said_in_the_pages_language(tmp_path: Path) -> None:
    from PIL import Image

    from jobs.image_fit import planned_changes
    from jobs.images import preflight
    from providers.catalog import IMAGE_RULES
    from ui import image_words

    wide = tmp_path / "wide.png"
    Image.new("RGBA", (2000, 400), (200, 100, 50, 100)).save(wide)
    report = preflight(wide)
    changes = planned_changes(wide, IMAGE_RULES)
    assert image_words.summary("en", report) == report.summary()  # English as jobs/ says it
    french = image_words.summary("fr", report)
    assert french.startswith("L'image est en 5:1 (grand côté sur petit côté) ; la limite est 3:1.")
    assert "Activez « Adapter l'image »" in french
    verdict = image_words.fit_verdict("ja", report, changes)
    assert "5:1 から 3:1 に切り抜き" in verdict and "透明部分を白で塗りつぶし" in verdict
    small = tmp_path / "small.gif"
    Image.new("RGB", (100, 100)).save(small)
    chinese = image_words.summary("zh", preflight(small))
    assert "服务商只接受 JPEG 或 PNG" in chinese and "最短边至少需要 320 像素" in chinese
    assert not any(word in chinese for word in ("image", "Image", "choose"))


def test_every_image_sentence_carries_its_code_and_is_said_in_another_language() -> None:
    from jobs import image_words
    from ui import image_words as page_words
    from ui.format import number_text

    for code, template in image_words.TEMPLATES.items():
        names = [part.split("}")[0] for part in template.split("{")[1:]]
        params = {name: 1234 if "width" in name or "height" in name else f"<{name}>" for name in names}
        said = image_words.say(code, **params)
        assert str(said) == template.format(**params) and said.code == code and dict(said.params) == params
        french = page_words.sentence("fr", said)
        assert french != str(said), code
        for value in params.values():  # each parameter in its place; figures as French writes them
            assert (value if isinstance(value, str) else number_text("1234", "fr")) in french, code
    # Words without a code (a plain sentence, or an edited one) are shown as they are.
    plain = "The image is fine."
    assert page_words.sentence("fr", plain) == plain
    assert page_words.sentence("fr", image_words.say("cmyk").upper()) == image_words.say("cmyk").upper()


def test_the_history_tile_of_a_failed_job_is_worded_in_the_pages_language() -> None:
    from PIL import Image

    from ui.history_panel import placeholder

    english, chinese = placeholder("failed", "en"), placeholder("failed", "zh")
    assert english != chinese and Path(english).name == "failed-en.png"
    # Different words draw different pixels (a CJK font draws 失败, not boxes of one shape).
    with Image.open(english) as a, Image.open(chinese) as b:
        assert a.size == b.size == (480, 270) and a.tobytes() != b.tobytes()


def test_a_click_that_needs_a_sign_in_is_told_so_in_the_pages_language(tmp_path: Path) -> None:
    import gradio as gr

    from ui import owners

    chinese = gr.Request(headers={"accept-language": "zh-CN,zh;q=0.9"})
    loading = Settings(data_dir=tmp_path, public=True)
    with pytest.raises(owners.SignInRequired) as refused:
        owners.require(None, loading, chinese)
    assert refused.value.message == "页面仍在加载；请稍后再试。"
    allow_list = Settings(data_dir=tmp_path, allowed_users=("alice",))
    with pytest.raises(owners.SignInRequired) as refused:
        owners.require(None, allow_list, gr.Request(headers={"accept-language": "fr"}))
    assert str(refused.value.message).startswith("Ce studio a une liste d'utilisateurs autorisés")
    with pytest.raises(owners.SignInRequired) as refused:  # no request: English, as before
        owners.require(None, loading)
    assert refused.value.message == "The page is still loading; try again in a moment."


def test_words_survive_copies_and_pickling_with_their_code() -> None:
    import copy
    import pickle

    words = job_words.say("key_wait", provider="WaveSpeedAI")
    for twin in (copy.copy(words), copy.deepcopy(words), pickle.loads(pickle.dumps(words))):
        assert twin == words and isinstance(twin, Words)
        assert (twin.code, dict(twin.params)) == ("key_wait", {"provider": "WaveSpeedAI"})
    record = make_job("j", note=words)
    assert record.to_dict()["note"].code == "key_wait"  # dataclasses.asdict deep-copies
