"""The one import point of the benchmarks' shared plumbing (`from bench.harness import ...`);
each part lives in a module of its own:

- bench/figures.py: Figure and BenchResult, the statistics they share, the machine, the log line;
- bench/processes.py: free ports, the child environment, waiting for HTTP 200, stopping a child,
  `launch_module` (a bench module on a free port), temp dirs, a child's JSON answer;
- bench/servers.py: the fake providers and the studio as children (`fake_providers`, `launch_app`);
- bench/proc_stats.py: CPU time and RSS of a child through /proc;
- bench/api_calls.py: /text_to_video through gradio_client.

Benchmarks here measure ratios side by side in one run (a shared 2-core machine is noisy):
baseline and candidate are interleaved and repeated, and the medians are compared.
Nothing here talks to anything but 127.0.0.1, and every wait is bounded.
"""

from __future__ import annotations

from bench.api_calls import (
    T2V_MODELS,
    Generation,
    generate,
    generate_many,
    gradio_client,
    shared_ssl_context,
)
from bench.figures import (
    BenchResult,
    Figure,
    fmt_list,
    log,
    machine,
    median,
    percentile,
)
from bench.proc_stats import (
    CLK_TCK,
    PAGE_SIZE,
    RssSampler,
    children,
    cpu_percent,
    hwm_mb,
    proc_times,
    proc_tree_times,
    reset_peak_rss,
    rss_mb,
)
from bench.processes import (
    KEY_VARIABLES,
    REPO,
    child_env,
    free_port,
    launch_module,
    module_at,
    run_json,
    stop_process,
    strip_ansi,
    temp_dir,
    wait_http_200,
)
from bench.servers import (
    RC_KEY,
    WS_KEY,
    App,
    Fake,
    fake_providers,
    launch_app,
)

# Re-exported: every benchmark imports these from here.
__all__ = [
    "App",
    "BenchResult",
    "CLK_TCK",
    "Fake",
    "Figure",
    "Generation",
    "KEY_VARIABLES",
    "PAGE_SIZE",
    "RC_KEY",
    "REPO",
    "RssSampler",
    "T2V_MODELS",
    "WS_KEY",
    "child_env",
    "children",
    "cpu_percent",
    "fake_providers",
    "fmt_list",
    "free_port",
    "generate",
    "generate_many",
    "gradio_client",
    "hwm_mb",
    "launch_app",
    "launch_module",
    "log",
    "machine",
    "median",
    "module_at",
    "percentile",
    "proc_times",
    "proc_tree_times",
    "reset_peak_rss",
    "rss_mb",
    "run_json",
    "shared_ssl_context",
    "stop_process",
    "strip_ansi",
    "temp_dir",
    "wait_http_200",
]
