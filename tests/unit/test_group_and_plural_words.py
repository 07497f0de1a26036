"""The last English on a translated page: a comparison member's refusal (its image check,
its options), plural words that agree with a count, the History pager's words, and the
sign-in refusal of every handler that needs an owner (ui/i18n.py, jobs/group_*.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PIL import Image

from jobs import group_media, media
from jobs.group_plan import CompareRequest, member_label, plan_members
from providers import catalog
from providers.base import ValidationError
from providers.registry import builtin_registry
from ui import i18n, image_words

UI = Path(__file__).resolve().parents[2] / "ui"
REGISTRY = builtin_registry()


def _i2v():  # type: ignore[no-untyped-def]
    return next(spec for spec in REGISTRY.models("i2v"))


def test_a_members_bad_image_is_said_in_the_pages_language(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (1600, 200), "gray").save(path)  # 8:1, past every model's ratio limit
    spec = _i2v()
    with pytest.raises(ValidationError) as caught:
        group_media.check_image(path, spec, False, member_label(spec))
    error = caught.value
    report = media.preflight(path, spec.image_rules or catalog.IMAGE_RULES)
    assert error.field == "image"
    assert error.message == f"{member_label(spec)} ({spec.id}): {report.summary()}"  # English as before
    french = i18n.error_text("fr", error)
    assert spec.id in french and image_words.summary("fr", report) in french
    assert report.summary() not in french and "choose" not in french.lower()
    japanese = i18n.error_text("ja", error)
    assert image_words.summary("ja", report) in japanese and report.summary() not in japanese


def test_a_members_bad_option_keeps_its_code_and_reads_in_the_pages_language() -> None:
    spec = next(s for s in REGISTRY.models("t2v") if s.accepts("duration"))
    asked = CompareRequest(kind="t2v", prompt="", models=(spec.id,), takes=2)
    with pytest.raises(ValidationError) as caught:
        plan_members(REGISTRY, asked)
    error = caught.value
    assert error.message.startswith(f"{member_label(spec)} ({spec.id}): ")
    english_reason = error.message.split(": ", 1)[1]
    spanish = i18n.error_text("es", error)
    assert spec.id in spanish and english_reason not in spanish and "Prompt" in spanish


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [("fr", "permet 1 vidéo par heure", "permet 2 vidéos par heure"),
     ("es", "permite 1 vídeo por hora", "permite 2 vídeos por hora"),
     ("en", "allows 1 video per hour", "allows 2 videos per hour")],
)
def test_a_count_in_a_sentence_takes_the_singular_or_plural(lang: str, one: str, many: str) -> None:
    said = {n: i18n.text(lang, "error.limit_jobs_per_hour", per_hour=n, used=n, left=0, asked="", at="12:00",
                         wait="5 min") for n in (1, 2)}
    assert one in said[1] and many in said[2]
    assert "1 minute." in i18n.text("fr", "job.timed_out", minutes=1)
    assert "2 minutes." in i18n.text("fr", "job.timed_out", minutes=2)
    assert i18n.text("fr", "compare.finished_some", done=1, total=3) == "1 sur 3 terminée"
    assert i18n.text("es", "compare.finished_some", done=2, total=3) == "2 de 3 terminados"


def test_the_history_pager_counts_entries_not_jobs() -> None:
    """A comparison of three videos is one entry of the history, so 'jobs' would be wrong."""
    said = {lang: i18n.text(lang, "history.page", number=1, pages=1, total=1, count=1) for lang in i18n.LANGUAGES}
    assert said["en"] == "Page 1 of 1 · 1 entry"
    assert said["fr"] == "Page 1 sur 1 · 1 élément"
    assert said["es"] == "Página 1 de 1 · 1 elemento"
    assert "ジョブ" not in said["ja"] and "任务" not in said["zh"]
    assert i18n.text("en", "history.page", number=2, pages=3, total=25, count=25) == "Page 2 of 3 · 25 entries"


def test_every_handler_that_needs_an_owner_passes_its_request() -> None:
    """owners.require words its refusal in the request's language; without the request it
    can only say it in English."""
    bare = []
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            named = node.func.attr == "require" and getattr(node.func.value, "id", None) == "owners"
            if named and len(node.args) + len(node.keywords) < 3:
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []


def test_a_comparisons_own_refusals_read_in_the_pages_language() -> None:
    t2v = [s.id for s in REGISTRY.models("t2v")]
    i2v = [s.id for s in REGISTRY.models("i2v")]
    asks = {
        "1 modèle × 1 prise font 1": CompareRequest("t2v", "a", (t2v[0],), 1),
        "choisissez au moins un modèle": CompareRequest("t2v", "a", (), 1),
        "est choisi deux fois": CompareRequest("t2v", "a", (t2v[0], t2v[0]), 1),
        "aucun modèle « nope »": CompareRequest("t2v", "a", ("nope", t2v[0]), 1),
        "n'est pas un modèle texte vers vidéo": CompareRequest("t2v", "a", (i2v[0], t2v[0]), 1),
        "un nombre entier de 1 à 6 ; reçu 9": CompareRequest("t2v", "a", (t2v[0],), 9),
    }
    for french, asked in asks.items():
        with pytest.raises(ValidationError) as caught:
            plan_members(REGISTRY, asked)
        assert french in i18n.error_text("fr", caught.value), caught.value.message
    with pytest.raises(ValidationError) as caught:
        plan_members(REGISTRY, CompareRequest("t2v", "a", (t2v[0], t2v[1]), 4))
    assert "2 modelos × 4 tomas son 8" in i18n.error_text("es", caught.value)


def test_a_failed_members_cell_says_its_error_in_the_pages_language() -> None:
    from jobs.group_store import GroupRecord, Member
    from jobs.records import JobRecord
    from providers.base import ProviderError, next_step
    from ui import compare_grid

    t2v = [s for s in REGISTRY.models("t2v")][:2]
    group = GroupRecord(id="g1", owner="alice", kind="t2v", prompt="a kite", created_at=100.0,
                        members=[Member("j1", t2v[0].id, seed=5), Member("j2", t2v[1].id, seed=5)])
    error = ProviderError("moderation", "Refused.")  # stored with its code, as jobs/recorder.py does
    failed = JobRecord(id="j2", owner="alice", kind="t2v", model=t2v[1].id, provider=t2v[1].provider, prompt="a kite",
                       state="failed", created_at=100.0, error_kind="moderation", error_message=error.message,
                       error_code=error.message.code, error_params=dict(error.message.params))
    head = compare_grid.cell_head(REGISTRY, group, 1, failed, now=120.0, lang="fr")
    assert "Le filtre de contenu du fournisseur a refusé" in head and next_step("moderation") not in head


def test_an_image_to_video_model_without_an_image_says_the_rules_in_the_pages_language() -> None:
    from jobs import rules

    spec = next(iter(REGISTRY.models("i2v")))
    with pytest.raises(ValidationError) as caught:
        rules.check_request(REGISTRY, rules.build_request(REGISTRY, "i2v", spec.id, "a kite", {}, None, False))
    assert "JPEG or PNG" in caught.value.message
    french = i18n.error_text("fr", caught.value)
    assert "JPEG ou PNG" in french and "JPEG or PNG" not in french and "each side" not in french


def test_the_compare_forms_choices_after_a_kind_change_are_page_markers_not_english() -> None:
    """The browser translates a marker; an English label would stay English on a French page."""
    from ui import compare_form, controls

    i2v = [s.id for s in REGISTRY.models("i2v")][:2]
    form = compare_form.CompareForm(*[None] * 9, {}, {}, None, None, None, None)  # type: ignore[arg-type]
    plan_param = next(p for p in REGISTRY.model(i2v[0]).params if p.name == "frames")
    form.shared["frames"] = object()  # type: ignore[assignment]
    updates = compare_form.option_updates(form, REGISTRY, "i2v", i2v)
    labels = [label for label, _ in updates[form.shared["frames"]]["choices"]]
    assert labels == [label for label, _ in controls.option_choices(plan_param)]
    assert not any("121 frames" in label for label in labels)
