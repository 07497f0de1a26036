"""One timing loop for the history benchmarks: JobStore.list on several stores, interleaved
(the order turning each round), so every store's samples see the same machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

OWNER = "local"  # the owner every history benchmark writes its rows for


def time_lists(
    stores: Mapping[str, Any],
    query: Any,
    reps: int,
    skip: Callable[[str, int], bool] = lambda key, round_: False,
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Per store key: the seconds of each `store.list(OWNER, query)` over `reps` rounds, and the
    page's total it answered. `skip(key, round)` leaves a store out of a round (a slow baseline
    measured fewer times)."""
    samples: dict[str, list[float]] = {key: [] for key in stores}
    totals: dict[str, int] = {}
    for r in range(reps):
        keys = list(stores) if r % 2 == 0 else list(reversed(list(stores)))
        for key in keys:
            if skip(key, r):
                continue
            started = time.perf_counter()
            page = stores[key].list(OWNER, query)
            samples[key].append(time.perf_counter() - started)
            totals[key] = page.total
    return samples, totals
