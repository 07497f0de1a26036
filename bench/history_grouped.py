"""History at scale for an owner with comparisons: 10,000 jobs of which 300 are the members
of 100 comparisons (a quarter of them blind, without a pick), against 10 jobs of which 3 are
one comparison. Part of bench/history.py (section 4).

Once an owner has any comparison, a history page's `total` was a COUNT(*) over every row of
the owner with a correlated subquery per row (the comparison's newest member). Measured
before and after in one run: JobStore.list of the store as of GROUPED_BEFORE (its own
jobs/records.py, store_schema.py, history_query.py and store.py, loaded from git) and of
today's, each on the same rows: the before code writes them in its own schema, today's
opens a copy of that file (and migrates it, as a studio updated in the field does).
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from bench.harness import Figure, fmt_list, median
from bench.store_timing import OWNER, time_lists

GROUPED_BEFORE = "668dc77"  # the start of the day: totals of grouped owners counted row by row
MODELS = (
    "simulator/dreamina-3-0/text-to-video",
    "runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
    "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
)
# (jobs, comparisons of 3 members) in the two histories
SIZES = {"big": (10_000, 100), "small": (10, 1)}
MEMBERS = 3
BEFORE_REPS = 11  # the before code's grouped page takes about a second with 10,000 jobs


def modules_at(commit: str, names: tuple[str, ...]) -> dict[str, types.ModuleType] | None:
    """jobs/<name>.py of `commit` as modules, loaded in order, each importing the ones before
    it (and today's for the rest); None outside a git clone that holds the commit."""
    import jobs

    saved: dict[str, tuple[Any, Any]] = {}
    loaded: dict[str, types.ModuleType] = {}
    try:
        for name in names:
            source = subprocess.run(
                ["git", "show", f"{commit}:jobs/{name}.py"], capture_output=True, text=True, check=False
            ).stdout
            if not source:
                return None
            module = types.ModuleType(f"jobs_{name}_at_{commit}")
            sys.modules[module.__name__] = module  # dataclasses look their module up by name
            exec(compile(source, f"jobs/{name}.py@{commit}", "exec"), module.__dict__)
            full = f"jobs.{name}"
            saved.setdefault(full, (sys.modules.get(full), getattr(jobs, name, None)))
            sys.modules[full] = module  # the next module's `from jobs.<name> import` gets this one
            setattr(jobs, name, module)
            loaded[name] = module
    finally:
        for full, (module, attribute) in saved.items():
            if module is not None:
                sys.modules[full] = module
            setattr(jobs, full.split(".", 1)[1], attribute)
    return loaded


def populate(db_path: Path, jobs_count: int, groups: int, store_module: Any) -> None:
    """`jobs_count` finished jobs, `groups` x 3 of them members of comparisons, written by
    `store_module` (its schema) in one transaction: the totals, not the inserts, are measured."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    store = store_module.JobStore(db_path)
    store.open()
    store.close()
    JobRecord = store_module.JobRecord  # noqa: N806 (a class)
    rng = random.Random(jobs_count)
    start = time.time() - jobs_count * 60
    rows, group_rows = [], []
    member_of: dict[int, str] = {}
    for first in (i * (jobs_count // groups) + jobs_count // groups // 2 for i in range(groups)):
        group_id = f"grp{first:06d}"
        blind = len(group_rows) % 4 == 0
        for k in range(MEMBERS):
            member_of[first + k] = group_id
        group_rows.append((group_id, OWNER, start + first * 60, f'{{"blind": {"true" if blind else "false"}}}'))
    for n in range(jobs_count):
        model = MODELS[n % len(MODELS)]
        state = "failed" if n % 10 == 9 else "succeeded"
        created = start + n * 60
        record = JobRecord(
            id=f"bench{n:06d}{rng.randrange(16**6):06x}",
            owner=OWNER,
            kind="t2v",
            model=model,
            provider=model.split("/")[0],
            prompt=f"Bench history job {n}: a paper boat on a rainy street",
            options={"seed": n},
            request_id=f"req-{n}",
            state=state,
            error_kind="job_failed" if state == "failed" else None,
            seed=n,
            created_at=created,
            finished_at=created + 40,
            group_id=member_of.get(n),
        )
        rows.append(record.to_dict())
    names = list(rows[0])
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.executemany(
                f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [[store_module._encode(name, row[name]) for name in names] for row in rows],
            )
            conn.executemany("INSERT INTO groups (id, owner, created_at, data) VALUES (?, ?, ?, ?)", group_rows)
    finally:
        conn.close()


def measure(tmp: Path, reps: int) -> tuple[list[Figure], list[str]]:
    """The grouped figures and their notes."""
    from jobs import store as store_now
    from jobs.records import HistoryQuery

    before = modules_at(GROUPED_BEFORE, ("records", "store_schema", "history_query", "store"))
    if before is None:
        return [], [f"(jobs/*.py@{GROUPED_BEFORE} is not in this clone: no grouped history figures)"]
    stores: dict[str, Any] = {}
    for size, (count, groups) in SIZES.items():
        written = tmp / f"grouped-{size}-before" / "studio.sqlite3"
        populate(written, count, groups, before["store"])
        copy = tmp / f"grouped-{size}-after" / "studio.sqlite3"
        copy.parent.mkdir(parents=True)
        shutil.copyfile(written, copy)
        for version, module, path in (("before", before["store"], written), ("after", store_now, copy)):
            stores[f"{version}-{size}"] = module.JobStore(path)
            stores[f"{version}-{size}"].open()
    queries = {
        "page": HistoryQuery(limit=12, state="succeeded", one_per_group=True),  # the history panel's
        "api": HistoryQuery(limit=24),  # /history's: members one by one, the blind ones hidden
    }
    figures: list[Figure] = []
    notes: list[str] = []
    try:
        for qname, query in queries.items():
            # Pages of equal length in both histories: what the small one holds.
            small_total = stores["after-small"].list(OWNER, query).total
            equal = dataclasses.replace(query, limit=small_total)
            samples, totals = time_lists(
                stores, equal, reps, skip=lambda key, r: key.startswith("before") and r >= BEFORE_REPS
            )
            if totals["before-big"] != totals["after-big"] or totals["before-small"] != totals["after-small"]:
                raise RuntimeError(f"the two stores count different grouped histories: {totals}")
            ms = {key: median(values) * 1000 for key, values in samples.items()}
            ratio = ms["after-big"] / ms["after-small"]
            before_ratio = ms["before-big"] / ms["before-small"]
            what = (
                "one entry per comparison, succeeded (the history panel's page)"
                if qname == "page"
                else "members one by one, blind ones hidden (/history's)"
            )
            figures.append(
                Figure(
                    "history",
                    f"JobStore.list for an owner with comparisons, {what}: 10000 jobs (300 in 100 "
                    f"comparisons) / 10 jobs (3 in 1)",
                    ratio,
                    "x",
                    "<= 1.5x",
                    ratio <= 1.5,
                    f"after median ms 10000: {ms['after-big']:.3f}, 10: {ms['after-small']:.3f}; before "
                    f"({GROUPED_BEFORE}, same rows, same run) 10000: {ms['before-big']:.3f}, 10: "
                    f"{ms['before-small']:.3f} ({before_ratio:.2f}x); pages of {small_total}, totals "
                    f"{totals['after-big']} and {totals['after-small']}; {reps} calls each (before: "
                    f"{min(reps, BEFORE_REPS)}), interleaved; "
                    f"after 10000 ms p90 {sorted(samples['after-big'])[int(reps * 0.9)] * 1000:.3f}",
                )
            )
            notes.append(
                f"Grouped history, {what}: before {ms['before-big']:.3f} ms with 10000 jobs, after "
                f"{ms['after-big']:.3f} ms ({ms['before-big'] / ms['after-big']:.1f}x faster); first samples "
                f"after {fmt_list([t * 1000 for t in samples['after-big'][:5]])} ms."
            )
    finally:
        for store in stores.values():
            store.close()
    return figures, notes
