"""Startup: `python app.py` to its first HTTP 200, against a minimal Gradio app (gr.Blocks
with one Textbox) launched the same way on the same machine; the two alternate.

Also: `python -X importtime app.py` (what is imported before the page answers, and what
costs most), and, when py-spy is installed (requirements-bench.txt), where the start-up
time goes, sampled from launch to the first 200.
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import (
    REPO,
    BenchResult,
    Figure,
    child_env,
    fmt_list,
    free_port,
    log,
    median,
    stop_process,
    temp_dir,
    wait_http_200,
)

MINIMAL_APP = """
import os

import gradio as gr

with gr.Blocks() as demo:
    gr.Textbox(label="Text")

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=None)
    demo.launch(
        server_name="127.0.0.1",
        server_port=int(os.environ["GRADIO_SERVER_PORT"]),
        ssr_mode=False,
        prevent_thread_lock=True,
    )
    demo.block_thread()
"""
# Modules that should not be imported before they are needed (first job, first image).
HEAVY = (
    "av",
    "numpy",
    "PIL.WebPImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PngImagePlugin",
    "PIL.TiffImagePlugin",
)


def time_to_200(argv: list[str], data_dir: Path, stderr: Path | None = None) -> float:
    port = free_port()
    env = child_env(
        {"STUDIO_DATA_DIR": str(data_dir), "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    )
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        start = time.monotonic()
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            ready = wait_http_200(f"http://127.0.0.1:{port}/", 120, process, interval=0.02)
        finally:
            stop_process(process)
    finally:
        if stderr:
            err.close()  # type: ignore[union-attr]
    return ready - start


def parse_importtime(text: str) -> list[tuple[int, int, int, str]]:
    """[(depth, self us, cumulative us, module)] in the order -X importtime prints them."""
    rows: list[tuple[int, int, int, str]] = []
    for line in text.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            depth = len(match.group(3)) // 2
            rows.append((depth, int(match.group(1)), int(match.group(2)), match.group(4)))
    return rows


def importtime_report(tmp: Path) -> list[str]:
    log_path = tmp / "importtime.txt"
    seconds = time_to_200([sys.executable, "-X", "importtime", "app.py"], tmp / "data-importtime", log_path)
    rows = parse_importtime(log_path.read_text(errors="replace"))
    imported = {module for _, _, _, module in rows}
    # A package's cost is the cumulative time of its first import (the outermost line).
    packages: dict[str, int] = {}
    for _, _, cumulative, module in rows:
        if "." not in module:
            packages[module] = max(packages.get(module, 0), cumulative)
    top = sorted(packages.items(), key=lambda item: -item[1])[:12]
    own_roots = ("app", "ui", "jobs", "providers")
    project = sorted(
        ((own, module) for _, own, _, module in rows if module.split(".")[0] in own_roots), reverse=True
    )[:6]
    heavy = [m for m in HEAVY if m in imported]
    probe = "import sys, gradio; print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    by_gradio = subprocess.run(
        [sys.executable, "-c", probe, *heavy], capture_output=True, text=True, check=False, env=child_env()
    ).stdout.split()
    plugins = sorted(m for m in imported if m.startswith("PIL.") and m.endswith("Plugin"))
    return [
        f"`python -X importtime app.py` (first 200 after {seconds:.2f} s; importtime slows it). Top "
        "offenders by package (cumulative time of its first import, nested packages counted in their "
        "importer too): " + ", ".join(f"{m} {c / 1e6:.2f} s" for m, c in top) + ". The project's own "
        "modules, self time: " + ", ".join(f"{m} {own / 1e3:.1f} ms" for own, m in project) + ".",
        "Heavy modules loaded before the page answers: "
        + (", ".join(heavy) if heavy else "none")
        + f" ({len(plugins)} PIL plugins); of these, `import gradio` alone already loads: "
        + (", ".join(by_gradio) or "none")
        + ". `av` is "
        + (
            "imported at start-up."
            if "av" in imported
            else "not: PyAV is imported only where video is probed, re-encoded or rendered."
        ),
    ]


def pyspy_phases(tmp: Path) -> str | None:
    """Where the start-up time goes: py-spy samples `python app.py` until its first 200."""
    pyspy = shutil.which("py-spy")
    if pyspy is None:
        return None
    port = free_port()
    out = tmp / "startup-profile.txt"
    env = child_env({"STUDIO_DATA_DIR": str(tmp / "data-pyspy"), "GRADIO_SERVER_PORT": str(port)})
    process = subprocess.Popen(
        [pyspy, "record", "-r", "200", "-f", "raw", "-o", str(out), "--", sys.executable, "app.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http_200(f"http://127.0.0.1:{port}/", 120, process, interval=0.05)
    finally:
        # py-spy forwards nothing: end the app itself (the child of py-spy, by its own pid).
        with contextlib.suppress(OSError, ValueError):
            for child in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
                subprocess.run(["kill", "-TERM", child], check=False)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_process(process)
    if not out.exists():
        return None
    phases: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] for f in stack.split(";")]
        phase = "other (threads, interpreter start)"
        if "main" in frames:
            after = frames[frames.index("main") + 1 :]
            phase = "main: " + (after[0] if after else "itself")
        elif "<module>" in frames:
            phase = "imports at module level (app.py -> ui.layout -> gradio, ...)"
        phases[phase] += n
    if not total:
        return None
    parts = [f"{name} {100 * n / total:.0f}%" for name, n in phases.most_common(8)]
    return f"py-spy, launch to first 200 ({total} samples at 200 Hz): " + "; ".join(parts) + "."


def run(quick: bool = False) -> BenchResult:
    runs = 3 if quick else 6
    app_times: list[float] = []
    minimal_times: list[float] = []
    notes: list[str] = []
    with temp_dir("bench-startup-") as tmp:
        minimal = tmp / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        # One untimed launch of each: disk caches and .pyc files warm for both.
        time_to_200([sys.executable, "app.py"], tmp / "data-warm")
        time_to_200([sys.executable, str(minimal)], tmp / "data-warm-min")
        for r in range(runs):
            order = ("app", "minimal") if r % 2 == 0 else ("minimal", "app")
            for which in order:
                if which == "app":
                    app_times.append(time_to_200([sys.executable, "app.py"], tmp / f"data-{r}"))
                else:
                    minimal_times.append(time_to_200([sys.executable, str(minimal)], tmp / f"data-min-{r}"))
            log(f"startup: round {r + 1}: app.py {app_times[-1]:.2f} s, minimal {minimal_times[-1]:.2f} s")
        notes += importtime_report(tmp)
        phases = pyspy_phases(tmp)
        if phases:
            notes.append(phases)
    ratio = median(app_times) / median(minimal_times)
    figure = Figure(
        "startup",
        "python app.py to first HTTP 200 / minimal gr.Blocks app to first 200",
        ratio,
        "x",
        "<= 1.3x",
        ratio <= 1.3,
        f"app.py s {fmt_list(app_times)} (median {median(app_times):.2f}); minimal s "
        f"{fmt_list(minimal_times)} (median {median(minimal_times):.2f})",
    )
    how = (
        "Each launch is a fresh process (`python app.py` with no provider keys, so the simulator is on, "
        "and a fresh empty STUDIO_DATA_DIR; the minimal app is `gr.Blocks()` with one Textbox, "
        "`queue()` and `launch(server_name, server_port, ssr_mode=False, prevent_thread_lock=True)` then "
        "`block_thread()`, as app.py does). Timed from Popen to the first 200 on GET / (polled every "
        f"20 ms). One untimed launch of each first, then {runs} of each, alternating which goes first; "
        "ratio of medians."
    )
    return BenchResult([figure], how, notes)


if __name__ == "__main__":
    result = run(quick=True)
    for fig in result.figures:
        print(fig)
    for note in result.notes:
        print("-", note)
