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
