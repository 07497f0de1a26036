"""A returning owner's fresh page (issue #14): what a new session costs the server's event
loops when the owner has videos, so the load draws the history's first page of posters.

bench/page.py measures a fresh page on an empty data folder, as a first visit is. An owner
who has used the studio gets 12 poster tiles with every page (and every history redraw), and
Gradio handles each tile on its event loop. Here the same whole fresh page (GET /, GET
/config, the load event and what it chains, over raw HTTP with a new session hash) runs
against the studio with 30 finished jobs in its history, the same studio with none, and
(STUDIO_BENCH_BEFORE) another checkout with the same 30 jobs, alternating.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bench.harness import REPO, BenchResult, Figure, launch_app, log, temp_dir
from bench.history import populate
from bench.page import WHOLE_PAGES, loops_total, whole_pages, whole_side
from bench.page_threads import loop_threads

HISTORY_JOBS = 30  # three pages of 12 tiles; 9 in 10 succeeded, with a poster each

NOTES = [
    "Where a returning owner's page goes (py-spy at 1 kHz on Gradio's loop over 556 fresh pages with "
    "30 jobs in the history, 2026-12-04; about 10 ms of that loop a page against 4 ms on an empty "
    "history): for each of the 12 tiles Gradio checks whether the file lies in a static folder "
    "(gradio.utils.is_static_file, in processing_utils.async_move_files_to_cache, after every event "
    "with a file in its answer): Path.resolve of the file and of each static folder in turn, os.lstat "
    "by path component, about a quarter of the loop's time; the gallery's update builds the Gallery "
    "again and runs its postprocess on the loop, which starts a ThreadPoolExecutor per call (threads "
    "for 12 items); the studio's own tiles (a per-viewer link for each poster, ui/media_links.py) about "
    "a twentieth. Taken: the posters' folder is Gradio's first static folder (ui/layout."
    "serve_media_in_place), so a poster matches at the first check (one resolve of a link and its "
    "target, not two): 11.95 against 12.55 ms of the loops a page, 6 rounds of 100 pages in one run. "
    "Not taken: only an absolute http URL in a file's data skips the check, and building one needs the "
    "root URL Gradio derives per request from proxy headers (gradio.route_utils.get_root_url), which "
    "cannot be tried behind a real proxy here; the same for URLs without Gradio's file marker, which "
    "its page script then neither signs nor prefixes.",
]


def run(quick: bool = False) -> BenchResult:
    rounds = 3 if quick else 5
    before_repo = os.environ.get("STUDIO_BENCH_BEFORE")
    names = ["studio", "empty", *(["before"] if before_repo else [])]
    spent: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(temp_dir("bench-page-history-"))
        apps = {}
        for name in names:
            data = tmp / name
            if name != "empty":
                populate(data, HISTORY_JOBS)
            repo = Path(before_repo) if name == "before" and before_repo else REPO
            apps[name] = stack.enter_context(launch_app(data, repo=repo))
        loops = {name: loop_threads(app.pid) for name, app in apps.items()}
        for r in range(rounds):
            for name in names if r % 2 == 0 else list(reversed(names)):
                app = apps[name]
                for thread, ms in whole_pages(app.url, app.pid, WHOLE_PAGES, loops[name]).items():
                    spent[name].setdefault(thread, []).append(ms)
                log(f"page_history: round {r + 1} {name}: {loops_total(spent[name]):.2f} ms so far (median)")
    studio = loops_total(spent["studio"])
    raw = "; ".join(whole_side(name, spent[name]) for name in names)
    figures = [
        Figure(
            "page_history",
            f"a whole fresh page over raw HTTP for an owner with {HISTORY_JOBS} jobs in the history (the load "
            "draws its first 12 posters): CPU of the server's event loops a page (Gradio's and the engine's)",
            round(studio, 2),
            "ms",
            "<= 5 ms",
            studio <= 5,
            f"{raw}; {WHOLE_PAGES} whole pages a sample",
        ),
        Figure(
            "page_history",
            "the same page with an empty history (the studio of the row above, its data folder empty)",
            round(loops_total(spent["empty"]), 2),
            "ms",
            "reported",
            True,
            "in the same run as the row above",
        ),
    ]
    if before_repo:
        figures.append(
            Figure(
                "page_history",
                f"the same page with {HISTORY_JOBS} jobs, the studio before this change",
                round(loops_total(spent["before"]), 2),
                "ms",
                "reported",
                True,
                f"{before_repo}, in the same run as the rows above",
            )
        )
    how = (
        f"`python app.py` (simulator only) with {HISTORY_JOBS} finished jobs written through JobStore for the "
        "local owner (bench/history.populate: posters included), the same with an empty data folder"
        + (", and the studio before this change with the same jobs" if before_repo else "")
        + f"; apps alternating, {rounds} rounds of {WHOLE_PAGES} whole fresh pages each (GET /, GET /config, "
        "the load event and what it chains, a new session hash a page, as bench/page.py makes them). The "
        "loops are the app's threads blocked in epoll_wait while it is idle; their CPU from "
        "/proc/<pid>/task/<tid>/stat."
    )
    return BenchResult(figures, how, NOTES)


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv).show()
