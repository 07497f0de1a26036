"""Thread hops per job: the studio (`python app.py`, fake providers, 4 s jobs) against
Gradio's floor (bench/floor_app.py), each run under bench/hop_counter.py, one raw HTTP/SSE
user (bench/raw_client.py) calling `/text_to_video` a few times in a row (issue #14).

Hops per job = (counts after the calls - counts before - the idle drift over as long) / calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path

from bench import raw_client
from bench.crowd import launch_floor
from bench.harness import (
    T2V_MODELS,
    BenchResult,
    Figure,
    fake_providers,
    launch_app,
    log,
    temp_dir,
)

QUEUE_SECONDS, RUN_SECONDS = 1.0, 3.0
KINDS = ("onto_loop", "to_pool", "to_anyio")
WORDS = {
    "onto_loop": "onto an event loop",
    "to_pool": "into a thread pool",
    "to_anyio": "into anyio's workers",
}


def read(path: Path) -> dict[str, int]:
    time.sleep(0.5)  # the counter writes every 0.2 s
    data: dict[str, int] = json.loads(path.read_text(encoding="utf-8"))
    return data


def counted_floor(video: Path, hops: Path) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """Gradio's floor (bench/floor_app.py) run under bench/hop_counter.py, counting into `hops`."""
    return launch_floor(
        video,
        QUEUE_SECONDS + RUN_SECONDS,
        env={"STUDIO_HOPS_FILE": str(hops)},
        runner=("-m", "bench.hop_counter"),
    )


async def _calls(endpoint: raw_client.Endpoint, hops: Path, count: int) -> dict[str, float]:
    client = raw_client.new_client()
    try:
        for i in range(2):  # warm-up (and the studio's ETA)
            await raw_client.call(client, endpoint, {"prompt": f"hops warm {i}", "model": T2V_MODELS[i % 2]})
        idle_start, started = read(hops), time.monotonic()
        await asyncio.sleep(QUEUE_SECONDS + RUN_SECONDS)
        idle_end, idle_seconds = read(hops), time.monotonic() - started
        before, started = read(hops), time.monotonic()
        for i in range(count):
            done = await raw_client.call(
                client, endpoint, {"prompt": f"hops {i}", "model": T2V_MODELS[i % 2]}
            )
            if done.error:
                raise RuntimeError(done.error)
        after, seconds = read(hops), time.monotonic() - started
    finally:
        await client.aclose()
    drift = {k: (idle_end[k] - idle_start[k]) / idle_seconds for k in KINDS}
    return {k: (after[k] - before[k] - drift[k] * seconds) / count for k in KINDS}


def run(quick: bool = False) -> BenchResult:
    from tests.fakes.media import sample_video

    count = 4 if quick else 8
    results: dict[str, dict[str, float]] = {}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(temp_dir("bench-hops-"))
        fake, _ = stack.enter_context(fake_providers(QUEUE_SECONDS, RUN_SECONDS))
        studio_hops, floor_hops = tmp / "studio.json", tmp / "floor.json"
        app = stack.enter_context(
            launch_app(
                tmp / "data",
                fake=fake,
                env={"STUDIO_HOPS_FILE": str(studio_hops)},
                argv=("-m", "bench.hop_counter", "app.py"),
            )
        )
        floor_url, _ = stack.enter_context(counted_floor(sample_video(), floor_hops))
        for name, url, path in (("studio", app.url, studio_hops), ("floor", floor_url, floor_hops)):
            endpoint = raw_client.Endpoint.discover(url, "text_to_video")
            results[name] = asyncio.run(_calls(endpoint, path, count))
            log(f"hops: {name} {results[name]}")
    total = {name: sum(r.values()) for name, r in results.items()}

    def parts(name: str) -> str:
        return ", ".join(f"{results[name][k]:.1f} {WORDS[k]}" for k in KINDS)

    figure = Figure(
        "hops",
        "thread hops per /text_to_video job (one user, 4 s fake jobs): the studio (the floor in the raw numbers)",
        total["studio"],
        "",
        "reported",
        True,
        f"studio {total['studio']:.1f} ({parts('studio')}); floor {total['floor']:.1f} ({parts('floor')}); "
        f"{count} jobs each, idle drift subtracted",
    )
    how = (
        "`python -m bench.hop_counter app.py` (fake providers in their own process, queued "
        f"{QUEUE_SECONDS:g} s + running {RUN_SECONDS:g} s) and `python -m bench.hop_counter -m "
        "bench.floor_app` side by side; bench/hop_counter.py counts every call_soon_threadsafe from "
        "another thread than the loop's, every ThreadPoolExecutor.submit and every anyio "
        f"to_thread.run_sync. One raw HTTP/SSE user runs {count} jobs in a row on each app (after two "
        "warm-up jobs); hops per job = the counts' difference, less the idle drift over as long, / jobs."
    )
    return BenchResult([figure], how, [])


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv)
    for fig in result.figures:
        print(f"{fig.name}: {fig.value_text()}\n  {fig.raw}")
