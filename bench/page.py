"""Page weight (issue #14): what a fresh page costs the server, how long Chromium takes to
an interactive form, and how many blocks the page has; the studio against Gradio's floor
(bench/floor_app.py with its form shown), interleaved in one run.

A fresh page, over raw HTTP as a browser makes it: GET /, GET /config, then every `load`
event of the page with a new session hash, waited to completion. The server's cost is the
app process's CPU time (all threads: an upper bound on its event loop's share) over a
series of fresh pages, divided by their count, with the app otherwise idle.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.crowd import launch_floor
from bench.harness import (
    BenchResult,
    Figure,
    fmt_list,
    launch_app,
    log,
    median,
    proc_times,
    temp_dir,
)

CHROMIUM = Path("/usr/bin/chromium")
PAGES = 20  # fresh pages per CPU sample


def fresh_page(client: httpx.Client, url: str, events: bool = True) -> int:
    """One new browser session's requests (without `events`: only the page and its config);
    returns the number of load events it ran."""
    assert client.get(url).status_code == 200
    config = client.get(f"{url}config").json()
    if not events:
        return 0
    values = {c["id"]: (c.get("props") or {}).get("value") for c in config["components"]}
    deps = config["dependencies"]
    loads = [d for d in deps if any(t[1] == "load" for t in d.get("targets") or [])]
    # ...and what the page chains after them (.then), as the browser runs it
    for dep in loads:
        loads += [d for d in deps if d.get("trigger_after") == dep["id"] and d not in loads]
    session = uuid.uuid4().hex[:11]
    for dep in loads:
        body = {
            "data": [values.get(i) for i in dep["inputs"]],
            "fn_index": dep["id"],
            "trigger_id": None,
            "session_hash": session,
            "event_data": None,
        }
        if dep.get("queue") is False:
            client.post(f"{url}gradio_api/run/predict", json=body)
            continue
        client.post(f"{url}gradio_api/queue/join", json=body).raise_for_status()
        with client.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as s:
            for line in s.iter_lines():
                if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                    break
    return len(loads)


def _pages(url: str, pid: int, count: int, events: bool = True) -> tuple[float, int]:
    """(server CPU ms per fresh page, load events per page)."""
    with httpx.Client(timeout=60, verify=False) as client:
        fresh_page(client, url)  # warm: first-request imports and caches
        before = proc_times(pid)
        loads = 0
        for _ in range(count):
            loads = fresh_page(client, url, events)
        return (proc_times(pid) - before) * 1000 / count, loads


def block_count(url: str) -> int:
    return len(httpx.get(f"{url}config", timeout=30).json()["components"])


def first_interactive(browser: Any, url: str, selector: str) -> float:
    """Seconds from navigation to `selector` visible and enabled, in a fresh context."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(f"{selector}:not([disabled])", state="visible", timeout=60_000)
        return time.perf_counter() - start
    finally:
        context.close()


def run(quick: bool = False) -> BenchResult:
    from playwright.sync_api import sync_playwright

    from tests.fakes.media import sample_video

    rounds = 3 if quick else 5
    cpu: dict[str, list[float]] = {"studio": [], "floor": []}
    shell: dict[str, list[float]] = {"studio": [], "floor": []}  # GET / and /config only
    loads: dict[str, int] = {}
    first: dict[str, list[float]] = {"studio": [], "floor": []}
    before_repo = os.environ.get("STUDIO_BENCH_BEFORE")  # another checkout, measured alongside
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(temp_dir("bench-page-"))
        app = stack.enter_context(launch_app(tmp / "data"))
        floor_url, floor_pid = stack.enter_context(launch_floor(sample_video(), 4.0, visible=True))
        urls = {"studio": (app.url, app.pid), "floor": (floor_url, floor_pid)}
        selectors = {"studio": "#t2v-generate", "floor": "#floor-generate", "before": "#t2v-generate"}
        if before_repo:
            before = stack.enter_context(launch_app(tmp / "before", repo=Path(before_repo)))
            urls["before"] = (before.url, before.pid)
            for bucket in (cpu, shell, first):
                bucket["before"] = []
        playwright = stack.enter_context(sync_playwright())
        blocks = {name: block_count(url) for name, (url, _) in urls.items()}
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            for name, (url, _) in urls.items():  # warm: the browser's own first start
                first_interactive(browser, url, selectors[name])
            for r in range(rounds):
                for name in list(urls) if r % 2 == 0 else list(reversed(urls)):
                    url, pid = urls[name]
                    per_page, loads[name] = _pages(url, pid, PAGES)
                    cpu[name].append(per_page)
                    shell[name].append(_pages(url, pid, PAGES, events=False)[0])
                    first[name].append(first_interactive(browser, url, selectors[name]))
                    log(f"page: round {r + 1} {name}: {per_page:.1f} ms CPU a page, {first[name][-1]:.2f} s")
        finally:
            browser.close()
    ratio = median(first["studio"]) / median(first["floor"])
    events = [c - s for c, s in zip(cpu["studio"], shell["studio"], strict=True)]
    figures = [
        Figure(
            "page",
            "a fresh page's load events and what they chain (new session): server CPU a page",
            round(median(events), 2),
            "ms",
            "<= 5 ms",
            median(events) <= 5,
            f"studio: whole page ms {fmt_list(cpu['studio'])}, of which GET / and /config (Gradio's "
            f"copy of the page config, on worker threads) {fmt_list(shell['studio'])}, load events "
            f"{fmt_list(events)} ({loads.get('studio')} events); floor whole page {fmt_list(cpu['floor'])}, "
            f"GET / and /config {fmt_list(shell['floor'])}; {PAGES} pages a sample",
        ),
        Figure(
            "page",
            "first load to an interactive form in Chromium: studio / minimal Gradio app",
            ratio,
            "x",
            "<= 1.2x",
            ratio <= 1.2,
            f"studio s {fmt_list(first['studio'])}; floor s {fmt_list(first['floor'])}",
        ),
        Figure(
            "page",
            "blocks on the page (components in /config)",
            blocks["studio"],
            "",
            "reported",
            True,
            f"studio {blocks['studio']}; floor {blocks['floor']}",
        ),
    ]
    how = (
        "`python app.py` (simulator only) and bench/floor_app.py (its form shown) side by side. Server "
        f"cost: {PAGES} fresh pages in a row over raw HTTP (GET /, GET /config, every load event with a "
        "new session hash, each waited to completion), the app process's CPU time (/proc, all threads) "
        f"divided by {PAGES}; {rounds} samples, apps alternating. First load: a fresh Chromium context "
        "(/usr/bin/chromium, Playwright) from navigation to the Generate button visible and enabled, "
        "after one warm load each."
    )
    notes = []
    if "before" in urls:
        notes.append(
            f"The studio before the issue #14 changes ({before_repo}), in the same run: whole page ms "
            f"{fmt_list(cpu['before'])}, GET / and /config {fmt_list(shell['before'])}, load events "
            f"{fmt_list([c - s for c, s in zip(cpu['before'], shell['before'], strict=True)])}; first load s "
            f"{fmt_list(first['before'])} (after: {fmt_list(first['studio'])})."
        )
    return BenchResult(figures, how, notes)


if __name__ == "__main__":
    import sys

    for fig in run(quick="--quick" in sys.argv).figures:
        print(
            f"{fig.name}: {fig.value_text()} ({fig.target}) {'pass' if fig.passed else 'FAIL'}\n  {fig.raw}"
        )
