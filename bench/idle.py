"""Idle and busy CPU of `python app.py`, sampled from /proc/<pid>/stat.

Idle: after start-up settles, with no job, first with no page open, then with one Chromium
page open (Gradio's page keeps a connection and its own timers). Busy: 50 jobs in flight
(fake jobs of 60 s, submitted through gradio_client), without and then with the page open:
that page's owner is the jobs' owner, so it follows all 50 in its running-jobs list.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import (
    T2V_MODELS,
    BenchResult,
    Figure,
    cpu_percent,
    fake_providers,
    fmt_list,
    gradio_client,
    launch_app,
    log,
    temp_dir,
)

CHROMIUM = Path("/usr/bin/chromium")
JOBS = 50
QUEUE_SECONDS = 5.0
RUN_SECONDS = 55.0


@contextlib.contextmanager
def open_page(url: str) -> Iterator[Any]:
    """One Chromium page on `url` (Playwright), or None when Chromium is missing."""
    if not CHROMIUM.exists():
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_selector("#studio-header", timeout=30_000)
            yield page
        finally:
            browser.close()


def minimal_gradio_idle(tmp: Path, settle: float, window: float, quiet: bool) -> tuple[float, list[float]]:
    """Gradio's own floor: the idle CPU of gr.Blocks with one Textbox, launched as app.py is;
    `quiet`: with the same queue settings app.py applies (ui.layout.quiet_idle_queue)."""
    from bench.startup import MINIMAL_APP

    source = MINIMAL_APP
    if quiet:
        from ui.layout import quiet_idle_queue  # noqa: F401 - fails loudly if it is renamed

        source = source.replace(
            "    demo.block_thread()",
            "    from ui.layout import quiet_idle_queue\n\n    quiet_idle_queue(demo)\n    demo.block_thread()",
        )
    script = tmp / f"minimal_app_{'quiet' if quiet else 'stock'}.py"
    script.write_text(source)
    with launch_app(tmp / f"data-minimal-{quiet}", argv=(str(script),)) as minimal:
        time.sleep(settle)
        return cpu_percent(minimal.pid, window)


def run(quick: bool = False) -> BenchResult:
    settle = 3.0 if quick else 5.0
    window = 10.0 if quick else 25.0
    figures: list[Figure] = []
    notes: list[str] = []
    with (
        temp_dir("bench-idle-") as tmp,
        fake_providers(QUEUE_SECONDS, RUN_SECONDS) as (fake, _),
        launch_app(tmp / "data", fake=fake) as app,
    ):
        time.sleep(settle)
        log(f"idle: sampling the idle app for {window:.0f} s")
        idle, idle_steps = cpu_percent(app.pid, window)
        with open_page(app.url) as page:
            if page is not None:
                time.sleep(settle)
                log(f"idle: sampling with one page open for {window:.0f} s")
                idle_page, idle_page_steps = cpu_percent(app.pid, window)
            else:
                idle_page, idle_page_steps = float("nan"), []
        minimal, minimal_steps = minimal_gradio_idle(tmp, settle, window, quiet=False)
        floor, floor_steps = minimal_gradio_idle(tmp, settle, window, quiet=True)
        notes.append(
            "Cause of the earlier miss: Gradio 6's queue loop (gradio/queueing.py, start_processing) sleeps "
            "1 ms between checks while it has nothing to do, and its progress loop 10 ms: about 1,100 "
            f"wake-ups a second in any Gradio app with the queue on (the minimal app idles at {minimal:.2f}% "
            "in this run). Before 2224943 (proposal 2, now `ui.layout.quiet_idle_queue`: 20 ms and 100 ms) "
            "app.py idled at 3.52% with no page and 3.32% with one (full run of 11:18 the same day). What "
            "is left is Gradio's and uvicorn's own: `strace -c -f` on the idle app counted 688 epoll_wait "
            "wake-ups of the server loop in 5 s (the queue loop at 20 ms, progress at 100 ms, uvicorn's "
            "0.1 s tick, ...) and 50 sleeps of block_thread's 0.1 s loop, and py-spy found 4 samples of "
            "Python work in 8 s; sleeping the queue 100 ms and progress 500 ms changed nothing measurable "
            "(1.07-1.47% in an A/B). The quieted minimal app above is that floor."
        )
        figures.append(
            Figure(
                "idle",
                "idle app, no job, no page: CPU (% of one core)",
                idle,
                "%",
                "< 1%",
                idle < 1,
                f"per-second % {fmt_list(idle_steps, 2)}; in the same run a minimal gr.Blocks app (one Textbox, "
                f"queue on) idles at {minimal:.2f}%, and at {floor:.2f}% {fmt_list(floor_steps, 2)} with the "
                "same quieter queue settings as app.py: Gradio's own floor",
            )
        )
        if idle_page_steps:
            figures.append(
                Figure(
                    "idle",
                    "idle app, no job, one page open: CPU (% of one core)",
                    idle_page,
                    "%",
                    "< 1%",
                    idle_page < 1,
                    f"per-second % {fmt_list(idle_page_steps, 2)}",
                )
            )

        log(f"idle: submitting {JOBS} jobs of {QUEUE_SECONDS + RUN_SECONDS:.0f} s")
        # Every call stays open for its job's life, as 50 waiting clients would. (Gradio runs at
        # most `max_threads` events at once, 40 by default; app.py raises it since 2224943.
        # gradio_client runs at most 40 calls per Client, hence 5 clients.)
        clients = [gradio_client(app.url, tmp / f"client-{i}") for i in range(5)]
        calls = [
            clients[i % 5].submit(
                prompt=f"bench idle job {i}", model=T2V_MODELS[i % 2], api_name="/text_to_video"
            )
            for i in range(JOBS)
        ]
        deadline = time.monotonic() + 60
        while len(fake.jobs()) < JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
        submitted_at = time.monotonic()
        in_flight = len(fake.jobs())
        time.sleep(settle)
        busy, busy_steps = cpu_percent(app.pid, window / 2 if quick else 20.0)
        with open_page(app.url) as page:
            if page is not None:
                time.sleep(settle)
                busy_page, busy_page_steps = cpu_percent(app.pid, window / 2 if quick else 20.0)
            else:
                busy_page, busy_page_steps = float("nan"), []
        sampled_until = time.monotonic() - submitted_at
        for call in calls:  # the app stops with them; the fake jobs are forgotten with it
            with contextlib.suppress(Exception):
                call.cancel()
        states = [job["state"] for job in fake.jobs()]
        still_running = sum(state in ("queued", "running") for state in states)
        notes.append(
            f"{in_flight} jobs were in flight at the fake when sampling began; {still_running} still were "
            f"when it ended, {sampled_until:.0f} s after the last submit."
        )
        figures.append(
            Figure(
                "idle",
                f"{JOBS} jobs in flight, no page: CPU (% of one core)",
                busy,
                "%",
                "< 25%",
                busy < 25 and in_flight >= JOBS and still_running >= JOBS,
                f"per-second % {fmt_list(busy_steps, 3)}",
            )
        )
        if busy_page_steps:
            figures.append(
                Figure(
                    "idle",
                    f"{JOBS} jobs in flight, one page following them: CPU (% of one core)",
                    busy_page,
                    "%",
                    "< 25%",
                    busy_page < 25 and still_running >= JOBS,
                    f"per-second % {fmt_list(busy_page_steps, 3)}",
                )
            )
    how = (
        "`python app.py` against bench.fake_server; CPU = utime+stime of the app process (and any "
        "children) from /proc/<pid>/stat, sampled each second, averaged over the window, as a percent of "
        f"one core. Idle: {settle:g} s after the first 200, {window:.0f} s with no page, then {window:.0f} s "
        "with one headless Chromium page open (Playwright) after it loaded. Busy: "
        f"{JOBS} `/text_to_video` calls through 5 gradio_clients (fake jobs queued {QUEUE_SECONDS:g} s + "
        f"running {RUN_SECONDS:g} s; every call stays open), sampled once all {JOBS} exist at the fake, "
        "without and then with a "
        "page open (the page's owner is the jobs' owner, so its running-jobs timer ticks each second)."
    )
    return BenchResult(figures, how, notes)


if __name__ == "__main__":
    result = run(quick=True)
    for fig in result.figures:
        print(fig)
    for note in result.notes:
        print("-", note)
