"""Run the benchmarks and write BENCHMARKS.md.

    python -m bench                          # all of them (about 10 minutes here)
    python -m bench --only download,image_fit
    python -m bench --quick                  # fewer rounds: a smoke run, noisier figures

Benchmarks are not tests and never run in CI. Each measures a ratio side by side in one
run (baseline and candidate interleaved, medians compared), because this is a shared,
noisy 2-core machine. BENCHMARKS.md keeps the last result of every benchmark: a run with
--only replaces just those rows (the results live in a JSON comment at the end of the file).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.harness import REPO, BenchResult, Figure, log, machine

# In the order of the targets in issue #5, then those of later issues.
BENCHES: dict[str, str] = {
    "concurrency": "1. Concurrency: 32 clients at once vs one job alone",
    "overhead": "2. Overhead: end-to-end vs provider time, finish-to-client delay, requests per job",
    "download": "3. Download: 300 MB, memory and throughput",
    "history": "4. History at scale: 10,000 jobs vs 10",
    "startup": "5. Startup: python app.py vs a minimal Gradio app",
    "idle": "6. Idle and busy CPU",
    "simulator": "7. Simulator: render vs bare PyAV encode",
    "image_fit": "8. Image fit: 4096x4096 PNG under 4.7 MB",
    "side_by_side": "9. Side-by-side: three 5 s 720p clips vs bare PyAV encode (issue #12)",
    "reservation": "10. Reservation: what the spend limits add to a submit (issue #10)",
    "crowd": "11. Crowd: 16/64/128 raw HTTP/SSE users against Gradio's floor, stage budget (issue #14)",
    "page": "12. Page weight: a fresh page's server cost, first load in Chromium, blocks (issue #14)",
    "hops": "13. Thread hops per job: studio vs Gradio's floor (issue #14)",
    "finishing": "14. Finishing a job's video: remux, facts and poster, now vs before (issue #14)",
    "page_history": "15. A returning owner's fresh page: 30 jobs in the history (issue #14)",
}
OUTPUT = REPO / "BENCHMARKS.md"

# Causes found by profiling in files the benchmarks' author may not change, with the patch
# proposed to their owners. Kept here so every rewrite of BENCHMARKS.md keeps them.
PROPOSALS = """## Patches proposed for files outside bench/

Proposals 1 to 6 were applied by the files' owners in 2224943 (`ui.layout.quiet_idle_queue`,
`max_threads=400`, hourly pruning, the insert off the loop, httpx at WARNING, the architecture
notes), after the measurements quoted in them; the table above was measured with them in place
unless its date is earlier. The request-id update of proposal 5 went off the loop later, with
the engine split (jobs/submitter.py). Proposal 7 was taken in providers/render.py (render version 3).

**1. `ui/layout.py`, `launch_options`: raise Gradio's cap on events in progress** (concurrency, idle).
Gradio runs at most `max_threads` events at once (default 40) whatever their `concurrency_limit`
(`gradio/queueing.py`: `active_jobs = [None] * max_thread_count`), and a `/text_to_video` call holds
one for its job's whole life. Measured: 50 calls from 5 gradio_clients (fake jobs of 60 s): 40 jobs
reached the provider and it was still 40 after 20 s; the same with `max_threads=400` passed to launch
(through a wrapper script): all 50 within a second. Until then the 41st call and every page event
(status timer, history, page load) wait. (bench/idle.py closes each call once its job is at the
provider, so its 50 jobs are in flight either way.)

```diff
     options: dict[str, Any] = {
         "server_name": settings.server_name,
         "server_port": settings.server_port,
+        # Gradio runs at most max_threads events at once (default 40), whatever their
+        # concurrency_limit, and a generate call holds one for its job's whole life.
+        # The handlers that wait are async, so this is not a thread count in practice.
+        "max_threads": 400,
```

**2. `app.py`: Gradio's idle polling** (idle target < 1%). Gradio 6.31's queue loop sleeps 1 ms
between checks when idle, its progress loop 10 ms: a minimal `gr.Blocks` app idles at ~3% of a core,
the studio the same. The `idle` section shows app.py with this change, measured in the same run.
It sets private attributes (STYLE.md says to leave Gradio internals alone), so the alternatives are
to accept Gradio's floor and restate the target, or to take it upstream (an asyncio.Event instead
of polling).

```diff
         demo.queue(default_concurrency_limit=None)
+        # Gradio polls its queue every 1 ms while idle (~3% of a core); 20 ms delays an
+        # event's start by at most 20 ms. Private attributes: re-check on each Gradio upgrade.
+        demo._queue.sleep_when_free = 0.02
+        demo._queue.progress_update_sleep_when_free = 0.1
```

**3. `ui/result_panel.py`, `_prune_downloads`: not on every finished job** (concurrency).
`named_video` runs on Gradio's event loop and, for each new video, stats every folder in the
downloads directory (a day of jobs): 1,224 folders on this machine took 5 ms per finished job,
growing with use. Prune at most hourly, remembered by a marker file (no process-global state):

```diff
 def _prune_downloads(now: float) -> None:
+    marker = downloads_root() / ".pruned"
+    try:
+        if now - marker.stat().st_mtime < 3600:
+            return
+    except OSError:
+        pass
+    marker.touch()
     for folder in downloads_root().iterdir():
```

**4. `docs/architecture.md`: the store's durability changed** (jobs/store.py, 9ac4089).

```diff
-  store.py          SQLite (WAL, synchronous=FULL, migrations by user_version); history paging
+  store.py          SQLite (WAL; new rows, request ids and deletions fsynced), history paging with trigger-kept totals
-- SQLite runs in WAL mode with `synchronous=FULL`: a lost commit could be a lost request id.
+- SQLite runs in WAL mode. A new row, a request id and a deletion are fsynced before the call
+  returns (a lost request id is a billed job nobody knows about); progress and outcomes are
+  not: a power cut can roll back only the latest of them, and the engine re-derives them by
+  polling from the request id. A process crash loses nothing either way.
```

**5. `jobs/engine.py`, `submit`: the two fsyncs of a submit block the engine loop** (not measured
separately). The insert and the request-id update are still fsynced on the engine's event loop, so
a burst of submits delays every watcher by a few milliseconds each. Running the two writes in a
thread keeps the ordering (the submit awaits them) and frees the loop:

```diff
-        self._store.insert(record)
+        await asyncio.to_thread(self._store.insert, record)  # fsync off the event loop
```

**6. `app.py`: INFO logging of every httpx request.** `logging.basicConfig(level=logging.INFO)`
logs each provider poll (one line per request, ~1 a second per job); with 50 jobs that is 50 lines
a second of formatting and writing. `logging.getLogger("httpx").setLevel(logging.WARNING)`.

**7. The simulator's image-to-video target (taken).** Frames are drawn on a worker thread while
x264 encodes (providers/render.py), 13-26% less wall time in A/B runs on this machine, but the
Ken Burns zoom rescaled every frame with swscale, about half an ultrafast encode at 600x340 on
its own, so 1.3x could not hold for a zooming renderer. Image-to-video now pans without zooming:
the picture is scaled once, with four half-pixel-shifted copies, and a frame is window copies
(section 7 above has the before and after, measured side by side).
"""
DATA_MARK = "bench-data"


def load_previous(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    match = re.search(rf"<!-- {DATA_MARK}\n(.*?)\n-->", path.read_text(encoding="utf-8"), re.S)
    if not match:
        return {}
    try:
        return dict(json.loads(match.group(1)))
    except ValueError:
        return {}


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(data: dict[str, Any]) -> str:
    current = machine()
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (bench/, one module per benchmark; targets from issue #5). "
        "These are measurements, not tests: they never run in CI. The machine is a shared, noisy "
        "2-core box, so every figure is a ratio measured side by side in one run (baseline and "
        "candidate interleaved and repeated, medians compared) or an absolute bound with its raw samples.",
        "",
        f"Last written {time.strftime('%Y-%m-%d %H:%M %Z')} on nproc={current['nproc']}, "
        f"{current['cpu']}, Python {current['python']} ({current['platform']}).",
        "",
        "| benchmark | figure | value | target | result | raw numbers | command | measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in BENCHES:
        entry = data.get(name)
        if not entry:
            lines.append(f"| {name} | (not run yet) | | | | | `python -m bench --only {name}` | |")
            continue
        if entry.get("error"):
            lines.append(
                f"| {name} | (failed to run) | | | ERROR | {escape(entry['error'][-300:])} "
                f"| `{entry['command']}` | {entry['date']} |"
            )
            continue
        for raw in entry["figures"]:
            fig = Figure(**raw)
            verdict = "**pass**" if fig.passed else "**FAIL**"
            lines.append(
                f"| {name} | {escape(fig.name)} | {fig.value_text()} | {escape(fig.target)} | {verdict} "
                f"| {escape(fig.raw)} | `{fig.command}` | {fig.when or entry['date']} |"
            )
    lines += ["", PROPOSALS, "## How each figure was measured", ""]
    for name, title in BENCHES.items():
        entry = data.get(name)
        if not entry:
            continue
        info = entry["machine"]
        lines += [
            f"### {title}",
            "",
            f"`{entry['command']}`, {entry['date']}, nproc={info['nproc']}, {info['cpu']}, "
            f"Python {info['python']}, {entry['seconds']:.0f} s.",
            "",
        ]
        if entry.get("error"):
            lines += ["```", entry["error"], "```", ""]
            continue
        lines += [entry["how"], ""]
        for note in entry.get("notes", []):
            lines += [f"- {note}" if not note.startswith(("```", "    ")) else note]
        if entry.get("notes"):
            lines.append("")
    lines += [f"<!-- {DATA_MARK}", json.dumps(data, indent=1, sort_keys=True), "-->", ""]
    return "\n".join(lines)


def run_one(name: str, quick: bool) -> dict[str, Any]:
    command = f"python -m bench --only {name}" + (" --quick" if quick else "")
    started = time.monotonic()
    date = time.strftime("%Y-%m-%d %H:%M")
    log(f"=== {name} ===")
    try:
        module = importlib.import_module(f"bench.{name}")
        result: BenchResult = module.run(quick=quick)
    except Exception:
        error = traceback.format_exc()
        log(f"{name} failed:\n{error}")
        return {
            "error": error,
            "command": command,
            "date": date,
            "machine": machine(),
            "seconds": time.monotonic() - started,
        }
    for figure in result.figures:
        figure.command = command
        figure.when = date
        verdict = "pass" if figure.passed else "FAIL"
        log(f"{name}: {figure.name}: {figure.value_text()} (target {figure.target}) {verdict}")
    return {
        "figures": [f.to_dict() for f in result.figures],
        "how": result.how,
        "notes": result.notes,
        "command": command,
        "date": date,
        "machine": machine(),
        "seconds": time.monotonic() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHES))
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHES)}")
    data = load_previous(args.output)
    for name in names:
        previous = data.get(name, {})
        data[name] = run_one(name, args.quick)
        if args.quick and previous.get("figures") and data[name].get("figures"):
            # A quick run measures fewer rows (crowd: no 128 users, no size part): keep the
            # last full run's other rows, each with its own command and date.
            measured = {fig["name"] for fig in data[name]["figures"]}
            data[name]["figures"] += [f for f in previous["figures"] if f["name"] not in measured]
        args.output.write_text(render(data), encoding="utf-8")  # after each: a crash keeps the rest
    log(f"wrote {args.output}")
    failed = [
        f"{name}: {fig['name']}"
        for name in names
        for fig in data[name].get("figures", [])
        if not fig["passed"]
    ]
    errors = [name for name in names if data[name].get("error")]
    for line in failed:
        log(f"missed: {line}")
    for name in errors:
        log(f"error: {name}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
