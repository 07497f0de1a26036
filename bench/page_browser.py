"""Pages loaded in Chromium (/usr/bin/chromium, Playwright) against a running app: how long to an
interactive form, and what a page costs the server's event loops, as a browser really asks
(the page, its ~70 frontend files, the theme, the heartbeat, the load event), for a new
visitor (an empty browser cache) and a returning one (the same browser profile again)."""

from __future__ import annotations

import json
import time
from typing import Any

from bench.figures import Figure, fmt_list, median
from bench.page_threads import loops_cpu

IDLE_SECONDS = 3.0  # the loops' CPU with nobody asking, measured before each series
SETTLE_SECONDS = 0.2  # no request in flight this long after the form is ready: the page is done
STREAMS = ("heartbeat", "queue/data")  # open as long as the page is: never "finished"
VIEWPORT = {"width": 1440, "height": 900}


# Stamps, in the page, the moment `selector` is first visible and enabled (performance.now(): ms
# since the navigation started), checked on every DOM change and every frame. Playwright's own
# wait polls at growing intervals (up to 500 ms here), which added 0-500 ms to each load, more
# than the difference being measured.
READY_STAMP = """(selector) => {
  const ready = () => {
    const element = document.querySelector(selector);
    if (!element || element.disabled) return false;
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden";
  };
  const check = () => {
    if (window.__studioReadyAt !== undefined) return;
    if (ready()) window.__studioReadyAt = performance.now();
    else requestAnimationFrame(check);
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
  requestAnimationFrame(check);
}"""


def first_interactive(browser: Any, url: str, selector: str) -> float:
    """Seconds from the start of navigation to `selector` visible and enabled, in a fresh
    context, as the page itself saw it (READY_STAMP)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(f"({READY_STAMP})({json.dumps(selector)})")
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(f"{selector}:not([disabled])", state="visible", timeout=60_000)
        stamp = page.wait_for_function("window.__studioReadyAt", timeout=10_000).json_value()
        return float(stamp) / 1000
    finally:
        context.close()


def _load(context: Any, url: str, selector: str) -> int:
    """One page in `context`, from navigation until its form is ready and nothing but its
    streams is in flight; returns how many requests reached the server (not the cache)."""
    page = context.new_page()
    in_flight: set[Any] = set()
    asked: set[str] = set()  # request ids, as Chromium's devtools name them
    cached: set[str] = set()  # ...of those Chromium answered from its memory or disk cache
    devtools = context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.on("Network.requestWillBeSent", lambda event: asked.add(event["requestId"]))
    devtools.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    devtools.on(
        "Network.responseReceived",
        lambda event: cached.add(event["requestId"]) if event["response"].get("fromDiskCache") else None,
    )

    def started(request: Any) -> None:
        if not any(stream in request.url for stream in STREAMS):
            in_flight.add(request)

    def ended(request: Any) -> None:
        in_flight.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_selector(f"{selector}:not([disabled])", state="visible", timeout=60_000)
        quiet_since, deadline = time.monotonic(), time.monotonic() + 15
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)
            if in_flight:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= SETTLE_SECONDS:
                break
        return len(asked - cached)
    finally:
        page.close()


def browser_pages(
    browser: Any, url: str, pid: int, loops: dict[int, str], selector: str, count: int, returning: bool
) -> tuple[float, float]:
    """(event-loop CPU ms a page, requests to the server a page) over `count` pages that
    Chromium loads: each in a new context (a new visitor), or all in one context that has
    loaded the page once before (a returning visitor, its cache warm). The loops' idle rate,
    measured just before, is taken off (Gradio's queue polls even when nobody asks)."""
    before, start = loops_cpu(pid, loops), time.monotonic()
    time.sleep(IDLE_SECONDS)
    idle_rate = (loops_cpu(pid, loops) - before) / (time.monotonic() - start)
    shared = browser.new_context(viewport=VIEWPORT) if returning else None
    try:
        if shared is not None:
            _load(shared, url, selector)
        requests = 0
        before, start = loops_cpu(pid, loops), time.monotonic()
        for _ in range(count):
            context = shared or browser.new_context(viewport=VIEWPORT)
            try:
                requests += _load(context, url, selector)
            finally:
                if shared is None:
                    context.close()
        spent = loops_cpu(pid, loops) - before - idle_rate * (time.monotonic() - start)
        return max(spent, 0.0) * 1000 / count, requests / count
    finally:
        if shared is not None:
            shared.close()


def browser_figure(
    visitor: str, pages: dict[str, list[tuple[float, float]]], count: int, machine: str
) -> Figure:
    """The figure for `visitor` ("new" or "returning"): the studio's event-loop ms a page in
    Chromium, against the other apps measured (name -> [(ms, requests)] per round)."""

    def side(name: str) -> str:
        samples = pages[name]
        return (
            f"{name} ms {fmt_list([ms for ms, _ in samples])} "
            f"({median([requests for _, requests in samples]):.0f} requests to the server a page)"
        )

    studio = median([ms for ms, _ in pages["studio"]])
    new = visitor == "new"
    return Figure(
        "page",
        f"a page in Chromium, {'new visitor (empty cache)' if new else 'returning visitor (its cache)'}: CPU of "
        "the server's event loops a page (Gradio's and the engine's, summed, their idle rate taken off)",
        round(studio, 2),
        "ms",
        "<= 5 ms" if new else "reported",
        studio <= 5 if new else True,
        f"{'; '.join(side(name) for name in pages)}; {count} pages a sample, "
        f"{'each in a new browser context' if new else 'in one browser context that loaded the page once'}, "
        f"each page until its form is ready and no request but its streams has been in flight for "
        f"{SETTLE_SECONDS * 1000:.0f} ms; {machine}",
    )
