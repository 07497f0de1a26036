"""A page that follows a blind comparison's running member (a refreshed page attaches to the
owner's running jobs, members included): its status line and running-jobs list draw the
member through ui/page_records.py, so they name the cell, never the model or provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobs.group_plan import CompareRequest
from jobs.service import Studio
from jobs.settings import Settings
from ui import status
from ui.gate import Guard
from ui.session import Context, Watch

SIM = "simulator/dreamina-3-0/text-to-video"


@dataclass
class Panel:  # what status.look reads of a generate panel
    kind: str


async def test_a_page_following_a_blind_member_names_its_cell_not_its_model(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_SIM_QUEUE_SECONDS": "60"}
    )
    studio = Studio(settings)
    studio.start()
    try:
        ctx = Context(settings, studio, Guard(settings))
        drawn = {}
        for blind in (True, False):
            view = await studio.compare(
                "local", CompareRequest(kind="t2v", prompt=f"Two lighthouses {blind}", models=(SIM,), takes=2, blind=blind)
            )
            watch = Watch()
            status.attach(watch, [job for job in view.jobs if job])  # as a refreshed page does
            statuses, rows, *_ = await status.look(ctx, "local", watch, [Panel("t2v")], "fr")  # type: ignore[list-item]
            drawn[blind] = f"{statuses} {rows}"
            for job in view.jobs:
                if job:
                    await studio.cancel("local", job.id)
        assert "Modèle A" in drawn[True] or "Modèle B" in drawn[True]  # the cell, in the page's words
        for name in ("simulator", "Simulateur", "Simulator", SIM):
            assert name not in drawn[True], name
        assert "Simulat" in drawn[False]  # the same look names the model of a comparison that is not blind
    finally:
        studio.stop()
