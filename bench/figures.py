"""What every benchmark returns (a Figure per measured value, a BenchResult per run), the few
statistics they share, the machine they ran on, and the bench log line."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One measured figure: its value against a target, with the raw numbers behind it."""

    bench: str  # module name, e.g. "concurrency"
    name: str  # what is measured, in words
    value: float
    unit: str  # "x", "s", "MB", "%", ...
    target: str  # e.g. "<= 1.25x"
    passed: bool
    raw: str  # the raw numbers, short
    command: str = ""
    when: str = ""

    def value_text(self) -> str:
        if self.unit == "x":
            return f"{self.value:.3f}x"
        if self.unit == "%":
            return f"{self.value:.2f}%"
        if self.unit in ("MB", "s"):
            return (
                f"{self.value:.3g} {self.unit}" if abs(self.value) < 100 else f"{self.value:.0f} {self.unit}"
            )
        return f"{self.value:g} {self.unit}".strip()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchResult:
    figures: list[Figure]
    how: str  # "how measured", a short paragraph
    notes: list[str] = field(default_factory=list)  # profiles, before/after, offenders

    def show(self, notes: bool = False) -> None:
        """Print the figures (and with `notes`, the notes): a bench module run as a script."""
        for fig in self.figures:
            print(
                f"{fig.name}: {fig.value_text()} ({fig.target}) {'pass' if fig.passed else 'FAIL'}\n  {fig.raw}"
            )
        for note in self.notes if notes else []:
            print(note)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100), as numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmt_list(values: Sequence[float], digits: int = 3) -> str:
    return "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
