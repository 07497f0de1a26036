"""Run the benchmarks and write BENCHMARKS.md.

    python -m bench                          # all of them (about 20 minutes)
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

# In the order of the targets in issue #5.
BENCHES: dict[str, str] = {
    "concurrency": "1. Concurrency: 32 clients at once vs one job alone",
    "overhead": "2. Overhead: end-to-end vs provider time, finish-to-client delay, requests per job",
    "download": "3. Download: 300 MB, memory and throughput",
    "history": "4. History at scale: 10,000 jobs vs 10",
    "startup": "5. Startup: python app.py vs a minimal Gradio app",
    "idle": "6. Idle and busy CPU",
    "simulator": "7. Simulator: render vs bare PyAV encode",
    "image_fit": "8. Image fit: 4096x4096 PNG under 4.7 MB",
}
OUTPUT = REPO / "BENCHMARKS.md"
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
                f"| {escape(fig.raw)} | `{fig.command}` | {entry['date']} |"
            )
    lines += ["", "## How each figure was measured", ""]
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
        data[name] = run_one(name, args.quick)
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
