"""What the Compare tab says: a cell's head in each state, the group's price against the
limits, and the form's options following the chosen models (ui/compare_grid.py,
ui/compare_form.py over jobs/group_plan.py)."""

from __future__ import annotations

from jobs.group_plan import GroupQuote, MemberPrice, option_plan
from jobs.group_store import GroupRecord, Member
from jobs.limits import Budget
from jobs.records import JobRecord
from providers.base import ValidationError
from providers.registry import builtin_registry
from ui import compare_form, compare_grid

RC_PRO = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
WS_1080 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-1080p"
REGISTRY = builtin_registry()


def group(**changes: object) -> GroupRecord:
    values: dict[str, object] = {
        "id": "g1", "owner": "alice", "kind": "t2v", "prompt": "a kite", "created_at": 100.0,
        "members": [Member("j1", RC_PRO, seed=5, price_usd=0.6, price_source="estimate"),
                    Member("j2", WS_720, seed=5, price_usd=0.3)],
    }
    values.update(changes)
    return GroupRecord(**values)  # type: ignore[arg-type]


def job(state: str, **changes: object) -> JobRecord:
    values: dict[str, object] = {"id": "j2", "owner": "alice", "kind": "t2v", "model": WS_720,
                                 "provider": "wavespeed", "prompt": "a kite", "state": state, "created_at": 100.0}
    values.update(changes)
    return JobRecord(**values)  # type: ignore[arg-type]


def test_a_cell_head_says_state_queue_position_elapsed_then_time_to_result_and_price() -> None:
    queued = compare_grid.cell_head(REGISTRY, group(), 1, job("queued", queue_position=3), now=112.0)
    assert "WaveSpeedAI" in queued and "Queued · #3 in line" in queued and "12 s so far" in queued
    assert "$0.30" in queued and 'data-state="queued"' in queued
    done = compare_grid.cell_head(REGISTRY, group(pick="j2"), 1, job("succeeded", finished_at=148.0), now=500.0)
    assert "48 s to result" in done and "so far" not in done and "★ Pick" in done
    failed = compare_grid.cell_head(REGISTRY, group(), 1, job("failed", error_message="Refused <bad>"), now=120.0)
    assert "Failed" in failed and "Refused &lt;bad&gt;" in failed
    estimate = compare_grid.cell_head(REGISTRY, group(), 0, None, now=120.0)
    assert "about $0.60" in estimate and "Sending" in estimate
    never = compare_grid.cell_head(REGISTRY, group(members=[Member("j1", RC_PRO, error="No key")]), 0, None)
    assert 'data-state="failed"' in never and "No key" in never


def test_the_price_line_lists_each_member_and_warns_before_a_limit_would_refuse_the_group() -> None:
    quote = GroupQuote((MemberPrice(RC_PRO, 1, 0.6, "estimate", "about $0.60"), MemberPrice(WS_720, 1, 0.3, "quote", "$0.30")))
    fine = compare_form.price_html(quote, None, REGISTRY, Budget(None, 5.0, None))
    assert "2 videos: $0.90" in fine and "(estimate)" in fine and "$5.00 left today" in fine and "Over" not in fine
    over = compare_form.price_html(quote, None, REGISTRY, Budget(None, None, 0.5))
    assert "Over the limit: $0.50 left today, this comparison costs $0.90." in over
    jobs = compare_form.price_html(quote, None, REGISTRY, Budget(1, None, None))
    assert "Over your limit: 1 video left this hour, this comparison makes 2." in jobs
    refused = compare_form.price_html(None, ValidationError("duration", "WaveSpeedAI …: Duration 7"), REGISTRY)
    assert "refused" in refused and "Duration 7" in refused


def test_options_shared_by_every_chosen_model_get_one_control_and_the_rest_one_per_model() -> None:
    both = option_plan(REGISTRY, [WS_720, WS_1080])
    assert list(both.shared) == ["aspect_ratio", "duration"] and both.per_model == {WS_720: [], WS_1080: []}
    mixed = option_plan(REGISTRY, [RC_PRO, WS_720])
    assert list(mixed.shared) == ["aspect_ratio"]
    assert [p.name for p in mixed.per_model[RC_PRO]] == ["frames"]
    assert [p.name for p in mixed.per_model[WS_720]] == ["duration"]
    one = option_plan(REGISTRY, [RC_PRO])  # takes of one model: all of its options are shared
    assert set(one.shared) == {"aspect_ratio", "frames"}


def test_the_grid_and_price_lines_follow_the_requests_language() -> None:
    queued = compare_grid.cell_head(REGISTRY, group(takes=2), 1, job("queued", queue_position=3), now=112.0, lang="fr")
    assert "n° 3 dans la file" in queued and "12 s écoulées" in queued and "prise 1" in queued
    done = compare_grid.cell_head(REGISTRY, group(pick="j2"), 1, job("succeeded", finished_at=148.0), now=500.0, lang="es")
    assert "resultado en 48 s" in done and "★ Elegida" in done
    blind = group(blind=True)
    assert "模型 B" in compare_grid.cell_head(REGISTRY, blind, 1, None, lang="zh")
    assert "WaveSpeedAI" not in compare_grid.cell_head(REGISTRY, blind, 1, None, lang="zh")
    quote = GroupQuote((MemberPrice(RC_PRO, 1, 0.6, "estimate", "about $0.60"), MemberPrice(WS_720, 1, 0.3, "quote", "$0.30")))
    over = compare_form.price_html(quote, None, REGISTRY, Budget(1, None, None), lang="fr")
    assert "2 vidéos : 0,90\u00a0$\u00a0US" in over and "(estimation)" in over
    assert "il vous reste 1 vidéo cette heure-ci, cette comparaison en fait 2." in over
    html = compare_grid.controls_html("ja")
    assert "すべて再生" in html and "<svg" in html and "⏸" not in html
