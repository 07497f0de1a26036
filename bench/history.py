"""History at scale: 10,000 jobs (each with a small WebP poster) against 10 jobs.

Both histories are written straight through jobs.store.JobStore into two data folders.
Measured side by side, interleaved: the first history page through the Studio facade (the
engine on its own thread, as the web layer calls it), the `/history` endpoint through
gradio_client, and the page load in Chromium (Playwright + /usr/bin/chromium): from
navigation to the history gallery showing its poster images, which covers GET /, the
page's load events and the history fill they trigger. Memory: the RSS of the app serving
10,000 jobs minus the RSS of the app serving 10, after the same requests.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import time
from pathlib import Path
from typing import Any

from bench import history_grouped
from bench.harness import (
    App,
    BenchResult,
    Figure,
    fmt_list,
    gradio_client,
    launch_app,
    log,
    median,
    rss_mb,
    temp_dir,
)
from bench.store_timing import OWNER, time_lists

BIG = 10_000
SMALL = 10
MODELS = (
    "simulator/dreamina-3-0/text-to-video",
    "runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
    "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
)
CHROMIUM = Path("/usr/bin/chromium")
UI_PAGE = 12  # what the history panel asks for


def poster_bytes() -> bytes:
    from PIL import Image

    image = Image.linear_gradient("L").resize((480, 270)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=60)
    return buffer.getvalue()


def populate(data_dir: Path, count: int, store_module: Any = None) -> float:
    """`count` finished jobs with posters, inserted through JobStore; returns seconds.
    `store_module`: another version of jobs/store.py (its JobStore and JobRecord) to write
    the same rows with, in that version's own schema (default: today's)."""
    from jobs import store as store_now
    from jobs.download import unguessable_name
    from jobs.settings import Settings

    module = store_module or store_now
    JobStore, JobRecord = module.JobStore, module.JobRecord  # noqa: N806 (classes)
    settings = Settings(data_dir=data_dir)
    for folder in settings.media_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.db_path)
    store.open()
    poster = poster_bytes()
    rng = random.Random(count)
    start = time.perf_counter()
    now = time.time() - count * 60
    try:
        for n in range(count):
            model = MODELS[n % len(MODELS)]
            state = "failed" if n % 10 == 9 else "succeeded"
            poster_path = None
            if state == "succeeded":
                poster_path = settings.posters_dir / unguessable_name(".webp")
                poster_path.write_bytes(poster)
            created = now + n * 60
            store.insert(
                JobRecord(
                    id=f"bench{n:06d}{rng.randrange(16**6):06x}",
                    owner=OWNER,
                    kind="t2v",
                    model=model,
                    provider=model.split("/")[0],
                    prompt=f"Bench history job {n}: a paper boat on a rainy street, take {rng.randrange(1000)}",
                    options={"aspect_ratio": "16:9", "seed": n},
                    request_id=f"req-{n}",
                    state=state,  # type: ignore[arg-type]
                    error_kind="job_failed" if state == "failed" else None,
                    error_message="Video generation failed." if state == "failed" else None,
                    video_path=str(settings.videos_dir / f"missing-{n}.mp4")
                    if state == "succeeded"
                    else None,
                    poster_path=str(poster_path) if poster_path else None,
                    video_duration=5.0,
                    video_width=1280,
                    video_height=720,
                    video_bytes=2_000_000,
                    video_codec="h264",
                    seed=n,
                    created_at=created,
                    submitted_at=created + 0.2,
                    started_at=created + 3,
                    finished_at=created + 40,
                    saved_at=created + 41,
                    simulated=model.startswith("simulator"),
                )
            )
    finally:
        store.close()
    return time.perf_counter() - start


def engine_history_times(small: Path, big: Path, reps: int) -> tuple[dict[str, list[float]], str]:
    """First page through Studio.history (facade -> engine thread -> store), interleaved."""
    from jobs.records import HistoryQuery
    from jobs.service import Studio
    from jobs.settings import Settings

    studios = {"small": Studio(Settings(data_dir=small), {}), "big": Studio(Settings(data_dir=big), {})}
    for studio in studios.values():
        studio.start()
    queries = {
        # Pages of equal length in both histories (the small one holds 10 jobs, 9 succeeded),
        # so the ratio is what the history's size costs; then the real first pages.
        "ui-equal": HistoryQuery(limit=9, state="succeeded"),
        "api-equal": HistoryQuery(limit=10),
        "ui": HistoryQuery(limit=UI_PAGE, state="succeeded"),  # the panel's first page
        "api": HistoryQuery(limit=24),  # /history's default
    }
    times: dict[str, list[float]] = {f"{q}-{s}": [] for q in queries for s in studios}
    totals = ""

    async def measure() -> None:
        nonlocal totals
        for r in range(reps):
            order = ("small", "big") if r % 2 == 0 else ("big", "small")
            for name in order:
                for qname, query in queries.items():
                    start = time.perf_counter()
                    page = await studios[name].history(OWNER, query)
                    times[f"{qname}-{name}"].append(time.perf_counter() - start)
                    if r == 0 and qname == "api":
                        totals += f"{name}: total {page.total}, {len(page.items)} items; "

    try:
        asyncio.run(measure())
    finally:
        for studio in studios.values():
            studio.stop()
    return times, totals


STORE_BEFORE = "2a911dd"  # jobs/store.py before history totals came from job_counts


def store_before() -> Any:
    """jobs/store.py as of STORE_BEFORE, as a module, built on the jobs/records.py of the
    same commit (so its JobRecord has exactly the columns of its own schema, v1), or None
    outside a git clone. Today's databases (schema v3) are newer than it understands, so
    the baseline writes and reads databases of its own."""
    import subprocess
    import sys
    import types

    def source(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{STORE_BEFORE}:{path}"], capture_output=True, text=True, check=False
        ).stdout

    records_source, store_source = source("jobs/records.py"), source("jobs/store.py")
    if not (records_source and store_source):
        return None
    records = types.ModuleType("records_before")
    sys.modules["records_before"] = records  # dataclasses look their module up by name
    exec(compile(records_source, f"jobs/records.py@{STORE_BEFORE}", "exec"), records.__dict__)
    store = types.ModuleType("store_before")
    today = sys.modules["jobs.records"]
    sys.modules["jobs.records"] = records  # its `from jobs.records import ...` gets the old one
    try:
        exec(compile(store_source, f"jobs/store.py@{STORE_BEFORE}", "exec"), store.__dict__)
    finally:
        sys.modules["jobs.records"] = today
    return store


def store_before_after(small: Path, big: Path, tmp: Path, reps: int) -> str:
    """JobStore.list of today's store and of STORE_BEFORE, each on the same rows (10 and
    10,000) written by its own code into its own schema."""
    from jobs import store as store_now
    from jobs.records import HistoryQuery

    before = store_before()
    if before is None:
        return f"(jobs/store.py@{STORE_BEFORE} is not in this clone: no before/after figure)"
    folders = {"after": {"small": small, "big": big}, "before": {}}
    for name, count in (("small", SMALL), ("big", BIG)):
        folders["before"][name] = tmp / f"{name}-before"
        populate(folders["before"][name], count, before)
    query = HistoryQuery(limit=9, state="succeeded")
    stores = {}
    for version, module in (("before", before), ("after", store_now)):
        for name, folder in folders[version].items():
            stores[f"{version}-{name}"] = module.JobStore(folder / "studio.sqlite3")
            stores[f"{version}-{name}"].open()
    try:
        samples, pages = time_lists(stores, query, reps)
    finally:
        for store in stores.values():
            store.close()
    result = {key: median(values) * 1000 for key, values in samples.items()}
    if pages["before-big"] != pages["after-big"] or pages["before-small"] != pages["after-small"]:
        raise RuntimeError(f"the two stores count different histories: {pages}")
    return (
        f"Fix (jobs/store.py): the page's `total` was a COUNT(*) walking every matching index entry. "
        f"JobStore.list, 9 succeeded per page ({pages['after-big']} and {pages['after-small']} match), "
        f"same run: before ({STORE_BEFORE}, on the same rows written by its own code in its own schema, "
        f"v1) {result['before-big']:.3f} ms with {BIG} jobs vs {result['before-small']:.3f} ms with {SMALL} "
        f"({result['before-big'] / result['before-small']:.2f}x); after {result['after-big']:.3f} ms vs "
        f"{result['after-small']:.3f} ms ({result['after-big'] / result['after-small']:.2f}x)."
    )


def api_history_times(apps: dict[str, App], tmp: Path, reps: int) -> dict[str, list[float]]:
    clients = {name: gradio_client(app.url, tmp / f"hist-client-{name}") for name, app in apps.items()}
    for client in clients.values():
        client.predict(limit=24, api_name="/history")  # session set-up, first-call imports
    times: dict[str, list[float]] = {name: [] for name in apps}
    for r in range(reps):
        order = ("small", "big") if r % 2 == 0 else ("big", "small")
        for name in order:
            start = time.perf_counter()
            result = clients[name].predict(limit=24, api_name="/history")
            times[name].append(time.perf_counter() - start)
            if not result.get("items"):
                raise RuntimeError(f"/history on {name} returned no items")
    return times


GALLERY_READY = """(want) => {
  const gallery = document.querySelector('#history-gallery');
  if (!gallery) return false;
  const images = [...gallery.querySelectorAll('img')];
  return images.length >= want && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def page_load_times(apps: dict[str, App], wants: dict[str, int], reps: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in apps}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        try:
            for r in range(reps + 1):  # round 0 warms both apps and the browser
                order = ("small", "big") if r % 2 == 0 else ("big", "small")
                for name in order:
                    context = browser.new_context(viewport={"width": 1320, "height": 1000})
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(apps[name].url, wait_until="commit")
                    page.wait_for_function(GALLERY_READY, arg=wants[name], timeout=60_000, polling=20)
                    elapsed = time.perf_counter() - start
                    context.close()
                    if r:
                        times[name].append(elapsed)
        finally:
            browser.close()
    return times


def run(quick: bool = False) -> BenchResult:
    engine_reps = 30 if quick else 300
    api_reps = 10 if quick else 30
    page_reps = 3 if quick else 11
    figures: list[Figure] = []
    notes: list[str] = []
    load_start = os.getloadavg()[0]
    with temp_dir("bench-history-") as tmp:
        small, big = tmp / "small", tmp / "big"
        log(f"history: inserting {SMALL} and {BIG} jobs through JobStore")
        populate(small, SMALL)
        seconds = populate(big, BIG)
        notes.append(f"Inserting {BIG} jobs one by one through JobStore.insert took {seconds:.1f} s.")

        times, totals = engine_history_times(small, big, engine_reps)

        def ms(key: str) -> str:
            return f"{median(times[key]) * 1000:.3f}"

        for qname, label in (("ui", "succeeded, 9 per page"), ("api", "all states, 10 per page")):
            key = f"{qname}-equal"
            ratio = median(times[f"{key}-big"]) / median(times[f"{key}-small"])
            full = "12 (state=succeeded)" if qname == "ui" else "24"
            figures.append(
                Figure(
                    "history",
                    f"Studio.history first page ({label}): {BIG} jobs / {SMALL} jobs",
                    ratio,
                    "x",
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"median ms {BIG}: {ms(key + '-big')}, {SMALL}: {ms(key + '-small')} ({engine_reps} calls "
                    f"each, interleaved); real first page of {full}: {BIG}: {ms(qname + '-big')} ms, {SMALL}: "
                    f"{ms(qname + '-small')} ms",
                )
            )
        notes.append(f"Pages returned: {totals.strip()}")
        notes.append(store_before_after(small, big, tmp, engine_reps))
        log("history: an owner with comparisons, before and after")
        grouped_figures, grouped_notes = history_grouped.measure(tmp, engine_reps)
        figures += grouped_figures
        notes += grouped_notes

        with launch_app(small) as app_small, launch_app(big) as app_big:
            apps = {"small": app_small, "big": app_big}
            rss_start = {name: rss_mb(app.pid) for name, app in apps.items()}
            api = api_history_times(apps, tmp, api_reps)
            ratio = median(api["big"]) / median(api["small"])
            figures.append(
                Figure(
                    "history",
                    f"/history endpoint (gradio_client, limit 24): {BIG} jobs / {SMALL} jobs",
                    ratio,
                    "x",
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"ms {BIG}: {fmt_list([t * 1000 for t in api['big']])}; {SMALL}: "
                    f"{fmt_list([t * 1000 for t in api['small']])}",
                )
            )
            if CHROMIUM.exists():
                wants = {"small": min(UI_PAGE, SMALL - SMALL // 10), "big": UI_PAGE}
                pages = page_load_times(apps, wants, page_reps)
                ratio = median(pages["big"]) / median(pages["small"])
                figures.append(
                    Figure(
                        "history",
                        f"page load to history gallery with posters (Chromium): {BIG} jobs / {SMALL} jobs",
                        ratio,
                        "x",
                        "<= 1.5x",
                        ratio <= 1.5,
                        f"s {BIG}: {fmt_list(pages['big'])}; {SMALL}: {fmt_list(pages['small'])}",
                    )
                )
            else:
                notes.append(f"{CHROMIUM} is missing: the page-load figure was not measured.")
            rss_end = {name: rss_mb(app.pid) for name, app in apps.items()}
        growth = rss_end["big"] - rss_end["small"]
        figures.append(
            Figure(
                "history",
                f"app memory with {BIG} jobs minus with {SMALL} (RSS after the same requests)",
                growth,
                "MB",
                "<= 50 MB",
                growth <= 50,
                f"RSS MB at start {BIG}: {rss_start['big']:.0f}, {SMALL}: {rss_start['small']:.0f}; after "
                f"{BIG}: {rss_end['big']:.0f}, {SMALL}: {rss_end['small']:.0f}",
            )
        )
    how = (
        f"Two data folders, {SMALL} and {BIG} finished jobs (9 in 10 succeeded with a 480x270 WebP poster "
        "file each, 1 in 10 failed), inserted through `JobStore.insert`. Engine: two `Studio` facades "
        "(engine thread each, no providers) called from one asyncio loop, small and big alternating, "
        f"{engine_reps} calls each. The figures use pages of equal length in both histories (9 succeeded, "
        "10 of all states: the small history holds no more), so the ratio is what the history's size "
        f"costs; the real first pages (the panel's {UI_PAGE}, /history's 24) are in the raw numbers. Endpoint: two `python app.py` processes, one gradio_client each, `/history` (limit 24) "
        f"{api_reps} times each, alternating, after one untimed call. Page load: Chromium via Playwright, a "
        "fresh browser context per load, from `page.goto` to the `#history-gallery` element holding its "
        f"poster images all decoded (12 for {BIG}, 9 for {SMALL}); one untimed round, then "
        f"{page_reps} each, alternating. Ratios are of medians. Memory: VmRSS of the two app processes after "
        "the same requests. Owner with comparisons (bench/history_grouped.py): 10000 jobs of which 300 are "
        "the members of 100 comparisons (every fourth blind, no pick) and 10 jobs of which 3 are one, "
        f"`JobStore.list` of today's store and of the store at {history_grouped.GROUPED_BEFORE} (loaded "
        "from git) on the same rows, four stores interleaved, pages as long as the small history's total."
    )
    notes.append(f"Machine load average (1 min) {load_start:.1f} before, {os.getloadavg()[0]:.1f} after.")
    return BenchResult(figures, how, notes)


if __name__ == "__main__":
    for fig in run(quick=True).figures:
        print(fig)
