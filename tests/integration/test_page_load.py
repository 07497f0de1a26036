"""What a fresh page asks of the server (ui/page_load.py), read from the page's config as the
browser receives it: one unqueued load event with few outputs, each of which the server pays for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.service import Studio
from jobs.settings import Settings
from ui.gate import Guard
from ui.layout import build_demo


def _config(tmp_path: Path, **env: str) -> dict[str, Any]:
    settings = Settings.from_env({"STUDIO_DATA_DIR": str(tmp_path / "data"), **env})
    studio = Studio(settings)
    studio.start()
    try:
        return dict(build_demo(settings, studio, Guard(settings)).get_config_file())
    finally:
        studio.stop()


def _on_load(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in config["dependencies"] if any(t[1] == "load" for t in d.get("targets") or [])]


def test_a_fresh_page_sends_one_unqueued_load_event_that_draws_the_history(tmp_path: Path) -> None:
    config = _config(tmp_path)
    loads = _on_load(config)
    assert len(loads) == 1  # the running-jobs gr.render is not among them: it waits for its rows
    (load,) = loads
    # Not queued (half the server's cost), so nothing may wait for the states it sets: the
    # history's first page is among its outputs, not a `change` of a state it sets.
    assert load["queue"] is False
    kinds = {c["id"]: c["type"] for c in config["components"]}
    ids = {c["id"]: (c.get("props") or {}).get("elem_id") for c in config["components"]}
    assert sorted(kinds[i] for i in load["outputs"]) == sorted(
        ["state", "timer", "column", "gallery", "html", "html", "button"]
    )
    assert "history-gallery" in {ids[i] for i in load["outputs"]}
    # Each input read and output updated costs the server; the 'newer' button is built off
    # and stays off on the first page, and a fresh page's filters are as built.
    assert "history-prev" not in {ids[i] for i in load["outputs"]}
    assert sorted(kinds[i] for i in load["inputs"]) == ["state", "state"]
    owner = next(i for i in load["outputs"] if kinds[i] == "state")
    assert not [d for d in config["dependencies"] if [owner, "change"] in (d.get("targets") or [])]
    assert not [d for d in config["dependencies"] if d.get("trigger_after") == load["id"]]


def test_with_a_server_key_the_price_lines_follow_the_load(tmp_path: Path) -> None:
    # A server key may bring a provider's quote: each form's price line is asked again once
    # the owner is known, chained after the load (the owner's `change` would not run).
    config = _config(tmp_path, WAVESPEED_API_KEY="ws-test-key")
    (load,) = _on_load(config)
    ids = {c["id"]: (c.get("props") or {}).get("elem_id") for c in config["components"]}
    after = [d for d in config["dependencies"] if d.get("trigger_after") == load["id"]]
    assert sorted(ids[d["outputs"][0]] for d in after) == ["i2v-price", "t2v-price"]


def test_with_an_allow_list_the_load_also_tells_each_form_why_it_waits(tmp_path: Path) -> None:
    (load,) = _on_load(_config(tmp_path, STUDIO_ALLOWED_USERS="alice"))
    assert len(load["outputs"]) == 7 + 2  # the sign-in hint in both forms' status lines


def _parents(layout: dict[str, Any], parent: int | None = None) -> dict[int, int | None]:
    found = {layout["id"]: parent}
    for child in layout.get("children") or []:
        found.update(_parents(child, layout["id"]))
    return found


def test_the_named_endpoints_blocks_are_in_a_hidden_column_the_page_leaves_out(tmp_path: Path) -> None:
    # The page's script draws every block of the layout that is not inside something hidden;
    # gr.api makes one per parameter and answer of each named endpoint and MCP tool.
    config = _config(tmp_path, STUDIO_MCP="1")
    blocks = {c["id"]: c for c in config["components"]}
    parent_of = _parents(config["layout"])
    api_blocks = [i for i, c in blocks.items() if c["type"] == "api"]
    assert len(api_blocks) > 50  # /text_to_video's parameters, the compare endpoints, the MCP tools...
    holders = {parent_of[i] for i in api_blocks}
    assert len(holders) == 1
    (holder,) = holders
    assert blocks[holder]["type"] == "column"
    assert blocks[holder]["props"]["visible"] is False
    assert parent_of[holder] == config["layout"]["id"]
    # ...and nothing else is in it: a block the page shows must not land there
    assert {i for i, p in parent_of.items() if p == holder} == set(api_blocks)
    # ...which the page itself (GET /) leaves out: its script would set each one up
    page = config["page"][""]
    assert holder not in {child["id"] for child in page["layout"]["children"]}
    assert not set(page["components"]) & ({holder} | set(api_blocks))
    assert set(page["components"]) == set(blocks) - {holder} - set(api_blocks)
    # the endpoints are still offered
    named = {d["api_name"] for d in config["dependencies"] if all(blocks[i]["type"] == "api" for i in d["inputs"] + d["outputs"])}
    assert {"text_to_video", "image_to_video", "job", "cancel", "history", "spend"} <= named
