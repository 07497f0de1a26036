"""Page weight (issue #14): what a fresh page costs the server, how long Chromium takes to
an interactive form, and how many blocks the page has; the studio against Gradio's floor
(bench/floor_app.py with its form shown), interleaved in one run.

A fresh page, over raw HTTP as a browser makes it: GET /, GET /config, then every `load`
event of the page with a new session hash, waited to completion (and, as a second figure,
every event their answers set off). The server's cost is the app process's CPU time (all
threads: an upper bound on its event loop's share) over a series of fresh pages or
sessions, divided by their count, with the app otherwise idle.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
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
    launch_module,
    log,
    median,
    proc_times,
    temp_dir,
)
from bench.page_browser import browser_figure, browser_pages, first_interactive
from bench.page_notes import NOTES
from bench.page_threads import loop_threads, thread_times

CHROMIUM = Path("/usr/bin/chromium")

PAGES = 20  # fresh pages per CPU sample of GET / and /config
WHOLE_PAGES = 40  # whole fresh pages per sample of the event loops' CPU (thread times tick at 10 ms)
SESSIONS = 50  # new sessions per CPU sample of the load events
BROWSER_PAGES = 8  # pages Chromium loads per sample of the loops' CPU
BROWSER_ROUNDS = 3
FIRST_LOADS = 3  # first loads per app a round: one was too few (the minimal app's spread 0.55-1.19 s)


def fresh_page(client: httpx.Client, url: str, events: bool = True, follow: bool = False) -> int:
    """One new browser session's requests (without `events`: only the page and its config);
    returns the number of events it ran."""
    assert client.get(url).status_code == 200
    config = client.get(f"{url}config").json()
    return session_events(client, url, config, follow) if events else 0


def load_events(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's load events and what it chains after them (.then), as the browser runs them."""
    deps = config["dependencies"]
    loads = [d for d in deps if any(t[1] == "load" for t in d.get("targets") or [])]
    for dep in loads:
        loads += [d for d in deps if d.get("trigger_after") == dep["id"] and d not in loads]
    return loads


def session_events(client: httpx.Client, url: str, config: dict[str, Any], follow: bool = False) -> int:
    """A new session (its own session hash) runs the page's load events, as a fresh page
    does; with `follow`, also what their answers set off in a browser: the `change` events
    of every state they changed and every component given a new value, and what those chain,
    in turn. Returns how many events ran."""
    values = {c["id"]: (c.get("props") or {}).get("value") for c in config["components"]}
    states = {c["id"] for c in config["components"] if c["type"] == "state"}
    deps = config["dependencies"]
    session = uuid.uuid4().hex[:11]
    pending = [(dep, None) for dep in load_events(config)]
    ran = 0
    while pending:
        dep, trigger = pending.pop(0)
        if not dep.get("backend_fn", True):
            continue
        ran += 1
        answer = _run(client, url, dep, values, session, trigger)
        if not follow:
            continue
        changed = set(answer.get("changed_state_ids") or [])
        for output, data in zip(dep["outputs"], answer.get("data") or [], strict=False):
            if output in states:
                continue
            value = data.get("value", values.get(output)) if _is_update(data) else data
            if value != values.get(output):
                values[output] = value
                changed.add(output)
        for component in sorted(changed):
            pending += [(d, component) for d in deps if [component, "change"] in d.get("targets", [])]
        pending += [(d, trigger) for d in deps if d.get("trigger_after") == dep["id"]]
    return ran


def _is_update(data: Any) -> bool:
    return isinstance(data, dict) and data.get("__type__") == "update"


def _run(
    client: httpx.Client,
    url: str,
    dep: dict[str, Any],
    values: dict[int, Any],
    session: str,
    trigger: int | None,
) -> dict[str, Any]:
    """One event, waited to completion; its answer (data, changed_state_ids)."""
    body = {
        "data": [values.get(i) for i in dep["inputs"]],
        "fn_index": dep["id"],
        "trigger_id": trigger,
        "session_hash": session,
        "event_data": None,
    }
    if dep.get("queue") is False:
        return dict(client.post(f"{url}gradio_api/run/predict", json=body).json())
    client.post(f"{url}gradio_api/queue/join", json=body).raise_for_status()
    with client.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as s:
        for line in s.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return dict(message.get("output") or {})
    return {}


def _pages(url: str, pid: int, count: int) -> float:
    """Server CPU ms per fresh page's GET / and GET /config."""
    with httpx.Client(timeout=60, verify=False) as client:
        fresh_page(client, url, events=False)  # warm: first-request imports and caches
        before = proc_times(pid)
        for _ in range(count):
            fresh_page(client, url, events=False)
        return (proc_times(pid) - before) * 1000 / count


def whole_pages(url: str, pid: int, count: int, loops: dict[int, str]) -> dict[str, float]:
    """CPU ms per whole fresh page (GET /, GET /config, the load events and what they chain),
    of each event-loop thread in `loops` and of the process, over `count` fresh pages."""
    with httpx.Client(timeout=60, verify=False) as client:
        fresh_page(client, url)  # warm
        before, threads = proc_times(pid), thread_times(pid)
        for _ in range(count):
            fresh_page(client, url)
        after = thread_times(pid)
        spent = {
            name: (after.get(tid, 0.0) - threads.get(tid, 0.0)) * 1000 / count for tid, name in loops.items()
        }
        spent["all threads"] = (proc_times(pid) - before) * 1000 / count
        return spent


def _sessions(url: str, pid: int, count: int, follow: bool) -> tuple[float, int, float]:
    """(server CPU ms per new session's events, events per session, the busiest thread's
    CPU ms per session): the config is read once, so only the events are counted. The
    event loop is one of the threads, so the busiest thread's time bounds the loop's."""
    with httpx.Client(timeout=60, verify=False) as client:
        config = client.get(f"{url}config").json()
        session_events(client, url, config, follow)  # warm
        before, threads = proc_times(pid), thread_times(pid)
        ran = 0
        for _ in range(count):
            ran = session_events(client, url, config, follow)
        after = thread_times(pid)
        busiest = max((after[t] - threads.get(t, 0.0) for t in after), default=0.0)
        return (proc_times(pid) - before) * 1000 / count, ran, busiest * 1000 / count


def launch_floor_of(blocks: int) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """bench/page_floor.py (Gradio's floor with `blocks` blocks) on a free port: (URL, pid)."""
    return launch_module("bench.page_floor", {"STUDIO_FLOOR_BLOCKS": str(blocks)})


def block_count(url: str) -> int:
    """The blocks of the page's own config (what GET / carries for its script to set up;
    /config may hold more: ui/gradio_internals.page_without)."""
    html = httpx.get(url, timeout=30, headers={"accept-encoding": "identity"}).text
    found = re.search(r"window\.gradio_config = (\{.*?\});</script>", html, re.S)
    if found is None:
        raise RuntimeError(f"no page config in {url}")
    return len(json.loads(found.group(1))["components"])


def loops_total(spent: dict[str, list[float]]) -> float:
    """The event loops' summed CPU ms a whole page, the median over samples."""
    samples = [list(values) for thread, values in spent.items() if thread != "all threads"]
    return median([sum(round_values) for round_values in zip(*samples, strict=True)]) if samples else 0.0


def whole_side(name: str, spent: dict[str, list[float]]) -> str:
    parts = ", ".join(f"{thread} ms {fmt_list(values)}" for thread, values in sorted(spent.items()))
    return f"{name}: loops summed {loops_total(spent):.2f} ms ({parts})"


def run(quick: bool = False) -> BenchResult:
    from playwright.sync_api import sync_playwright

    from tests.fakes.media import sample_video

    rounds = 3 if quick else 5
    names = ["studio", "floor"]
    before_repo = os.environ.get("STUDIO_BENCH_BEFORE")  # another checkout, measured alongside
    if before_repo:
        names.append("before")
    names.append("floor_n")
    shell: dict[str, list[float]] = {name: [] for name in names}  # GET / and /config
    loads: dict[str, list[float]] = {name: [] for name in names}  # the load events
    fills: dict[str, list[float]] = {name: [] for name in names}  # ...and what they set off
    loops_busiest: dict[str, list[float]] = {name: [] for name in names}  # the load events' busiest thread
    counts: dict[str, tuple[int, int]] = {}
    first: dict[str, list[float]] = {name: [] for name in names}
    whole: dict[str, dict[str, list[float]]] = {name: {} for name in names}  # thread -> ms a whole page
    browsed: dict[str, dict[str, list[tuple[float, float]]]] = {"new": {}, "returning": {}}  # (ms, requests)
    load_start = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(temp_dir("bench-page-"))
        app = stack.enter_context(launch_app(tmp / "data"))
        floor_url, floor_pid = stack.enter_context(launch_floor(sample_video(), 4.0, visible=True))
        urls = {"studio": (app.url, app.pid), "floor": (floor_url, floor_pid)}
        selectors = {"studio": "#t2v-generate", "floor": "#floor-generate", "before": "#t2v-generate"}
        if before_repo:
            before = stack.enter_context(launch_app(tmp / "before", repo=Path(before_repo)))
            urls["before"] = (before.url, before.pid)
        studio_blocks = block_count(app.url)
        # Gradio's floor for a page as big as the studio's: first load only
        urls["floor_n"] = stack.enter_context(launch_floor_of(studio_blocks))
        selectors["floor_n"] = "#floor-generate"
        playwright = stack.enter_context(sync_playwright())
        blocks = {name: block_count(url) for name, (url, _) in urls.items()}
        loops = {name: loop_threads(pid) for name, (_, pid) in urls.items()}
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            for name, (url, _) in urls.items():  # warm: the browser's own first start
                first_interactive(browser, url, selectors[name])
            for r in range(rounds):
                for name in names if r % 2 == 0 else list(reversed(names)):
                    url, pid = urls[name]
                    if name == "floor_n":  # its one queued load event, and its first load
                        for thread, ms in whole_pages(url, pid, WHOLE_PAGES, loops[name]).items():
                            whole[name].setdefault(thread, []).append(ms)
                        per_load, _, per_loop = _sessions(url, pid, SESSIONS, follow=False)
                        loads[name].append(per_load)
                        loops_busiest[name].append(per_loop)
                        first[name] += [first_interactive(browser, url, selectors[name]) for _ in range(FIRST_LOADS)]
                        log(
                            f"page: round {r + 1} {name}: load event {loads[name][-1]:.1f} ms, {first[name][-1]:.2f} s"
                        )
                        continue
                    shell[name].append(_pages(url, pid, PAGES))
                    for thread, ms in whole_pages(url, pid, WHOLE_PAGES, loops[name]).items():
                        whole[name].setdefault(thread, []).append(ms)
                    per_load, ran_loads, per_loop = _sessions(url, pid, SESSIONS, follow=False)
                    per_fill, ran_fills, _ = _sessions(url, pid, SESSIONS, follow=True)
                    loads[name].append(per_load)
                    loops_busiest[name].append(per_loop)
                    fills[name].append(per_fill)
                    counts[name] = (ran_loads, ran_fills)
                    first[name] += [first_interactive(browser, url, selectors[name]) for _ in range(FIRST_LOADS)]
                    log(
                        f"page: round {r + 1} {name}: shell {shell[name][-1]:.1f} ms, load events "
                        f"{per_load:.1f} ms, with what they set off {per_fill:.1f} ms, {first[name][-1]:.2f} s"
                    )
            # Chromium's pages as a browser asks for them: new visitors, then returning ones
            in_browser = [name for name in names if name != "floor_n"]
            for r in range(BROWSER_ROUNDS):
                for name in in_browser if r % 2 == 0 else list(reversed(in_browser)):
                    url, pid = urls[name]
                    for visitor in ("new", "returning"):
                        sample = browser_pages(
                            browser,
                            url,
                            pid,
                            loops[name],
                            selectors[name],
                            BROWSER_PAGES,
                            visitor == "returning",
                        )
                        browsed[visitor].setdefault(name, []).append(sample)
                        log(
                            f"page: browser round {r + 1} {name} {visitor}: {sample[0]:.1f} ms, {sample[1]:.0f} requests"
                        )
        finally:
            browser.close()
    load_end = os.getloadavg()[0]
    ratio = median(first["studio"]) / median(first["floor"])
    machine = f"machine load average (1 min) {load_start:.1f} before, {load_end:.1f} after"

    def side(name: str) -> str:
        ran_loads, ran_fills = counts.get(name, (0, 0))
        return (
            f"{name}: load events ms {fmt_list(loads[name])} ({ran_loads} events); with the events their "
            f"answers set off ms {fmt_list(fills[name])} ({ran_fills} events); GET / and /config (Gradio's "
            f"copy of the page config, on worker threads) ms {fmt_list(shell[name])}"
        )

    loop_ms = loops_total(whole["studio"])
    figures = [
        Figure(
            "page",
            "a whole fresh page over raw HTTP (GET /, GET /config, the load event and what it chains; not the "
            "frontend files, which the browser figures below include): CPU of the server's event loops a page "
            "(Gradio's and the engine's, summed)",
            round(loop_ms, 2),
            "ms",
            "reported",
            True,
            f"{'; '.join(whole_side(name, whole[name]) for name in names if whole[name])}; {WHOLE_PAGES} whole "
            f"pages a sample, each thread's CPU from /proc/<pid>/task/<tid>/stat; the loops are the threads "
            f"blocked in epoll_wait while the app is idle (wchan), named by py-spy dump; {machine}",
        ),
        browser_figure("new", browsed["new"], BROWSER_PAGES, machine),
        browser_figure("returning", browsed["returning"], BROWSER_PAGES, machine),
        Figure(
            "page",
            "a fresh page's load events and what they chain (new session): CPU of the server's busiest thread a "
            "page (bounds its event loop's share)",
            round(median(loops_busiest["studio"]), 2),
            "ms",
            "reported",
            True,
            f"{'; '.join(f'{name} ms {fmt_list(loops_busiest[name])}' for name in names)}; the busiest of the app "
            f"process's threads (/proc/<pid>/task) over {SESSIONS} sessions a sample: the event loop that runs "
            f"the load is one of them; {machine}",
        ),
        Figure(
            "page",
            "a fresh page's load events and what they chain (new session): server CPU a page (all threads)",
            round(median(loads["studio"]), 2),
            "ms",
            "reported",
            True,
            f"{'; '.join(side(name) for name in names if name != 'floor_n')}; Gradio's floor for one queued load "
            f"event setting one State (bench/page_floor.py) ms {fmt_list(loads['floor_n'])}; {SESSIONS} sessions, "
            f"{PAGES} pages a sample; {machine}",
        ),
        Figure(
            "page",
            "a fresh page's load events and every event their answers set off (the first fills): server CPU a page",
            round(median(fills["studio"]), 2),
            "ms",
            "reported",
            True,
            f"studio ms {fmt_list(fills['studio'])} ({counts['studio'][1]} events); floor ms "
            f"{fmt_list(fills['floor'])}"
            + (
                f"; before ms {fmt_list(fills['before'])} ({counts['before'][1]} events)"
                if before_repo
                else ""
            ),
        ),
        Figure(
            "page",
            "first load to an interactive form in Chromium: studio / minimal Gradio app",
            ratio,
            "x",
            "<= 1.2x",
            ratio <= 1.2,
            f"{'; '.join(f'{name} s {fmt_list(first[name])}' for name in names)}; {machine}",
        ),
        Figure(
            "page",
            "first load in Chromium: studio / Gradio's floor for a page of as many blocks (bench/page_floor.py)",
            median(first["studio"]) / median(first["floor_n"]),
            "x",
            "reported",
            True,
            f"studio s {fmt_list(first['studio'])}; floor of {blocks['floor_n']} blocks s {fmt_list(first['floor_n'])}; "
            f"minimal app ({blocks['floor']} blocks) s {fmt_list(first['floor'])}",
        ),
        Figure(
            "page",
            "blocks on the page (components in the config GET / carries)",
            blocks["studio"],
            "",
            "reported",
            True,
            "; ".join(f"{name} {blocks[name]}" for name in names),
        ),
    ]
    how = (
        "`python app.py` (simulator only) and bench/floor_app.py (its form shown) side by side"
        + (f", and the studio before this change ({before_repo})" if before_repo else "")
        + f", apps alternating, {rounds} rounds. Server CPU (the app process's, /proc, all threads: an "
        f"upper bound on its event loop's share): {PAGES} fresh pages' GET / and GET /config; then "
        f"{SESSIONS} new sessions (a new session hash each) running the page's load events and what they "
        "chain (.then), each waited to completion, over raw HTTP as the browser sends them; then as many "
        "again also running every event the answers set off in a browser (the `change` of each state "
        "changed and each component given a new value, and their chains, in turn). First load: a fresh "
        "Chromium context (/usr/bin/chromium, Playwright) from the start of navigation to the Generate button "
        "visible and enabled, as the page stamps it (performance.now() on every DOM change and frame; "
        "bench/page_browser.READY_STAMP), "
        f"{FIRST_LOADS} a round, after one warm load each; also for bench/page_floor.py, Gradio's floor for a page "
        "of as many blocks as the studio's (its form, and plain blocks in a tab not shown). Browser pages: "
        f"{BROWSER_ROUNDS} more rounds of {BROWSER_PAGES} pages each app, as a new visitor (a new Chromium "
        "context a page) and as a returning one (one context, warmed by a first load), the event-loop threads' "
        "CPU over the series less their idle rate measured over the 3 s before; requests counted to the "
        "server, not those Chromium answered from its cache."
    )
    return BenchResult(figures, how, NOTES)


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv).show()
