"""What a fresh page asks of the server (ui/page_load.py), read from the page's config as the
browser receives it: one load event with few outputs, each of which the server pays for."""

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


def test_a_fresh_page_sends_one_load_event_with_four_outputs(tmp_path: Path) -> None:
    config = _config(tmp_path)
    loads = _on_load(config)
    assert len(loads) == 1  # the running-jobs gr.render is not among them: it waits for its rows
    (load,) = loads
    assert load["queue"] is not False  # Gradio's page runs states' change events after a queued event
    kinds = {c["id"]: c["type"] for c in config["components"]}
    assert sorted(kinds[i] for i in load["outputs"]) == ["column", "state", "state", "timer"]
    assert not [d for d in config["dependencies"] if d.get("trigger_after") == load["id"]]


def test_with_an_allow_list_the_load_also_tells_each_form_why_it_waits(tmp_path: Path) -> None:
    (load,) = _on_load(_config(tmp_path, STUDIO_ALLOWED_USERS="alice"))
    assert len(load["outputs"]) == 4 + 2  # the sign-in hint in both forms' status lines
