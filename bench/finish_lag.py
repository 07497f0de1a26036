"""Where "provider done -> engine sees it" goes, per job, from the fake's own records: from the
fake's finish to the first poll that reached it after (the schedule, and how late a busy loop
sent it), and from there to the job record's finish (the answer: the fake's reply, the loop
reading it, the record written). Requests per job count the status/result requests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.harness import median, percentile

POLL_OPS = ("status", "result")


def arrivals(requests: Iterable[dict[str, Any]]) -> dict[str, list[float]]:
    """Per request id, when each of its status/result requests reached the fake (sorted)."""
    found: dict[str, list[float]] = {}
    for request in requests:
        if request.get("op") in POLL_OPS:
            parts = str(request.get("path", "")).rstrip("/").split("/")
            if len(parts) >= 2:
                found.setdefault(parts[-2], []).append(float(request["at"]))
    return {rid: sorted(times) for rid, times in found.items()}


def split(calls: Iterable[Any], fake_jobs: dict[str, Any], polls: dict[str, list[float]]) -> dict[str, Any]:
    """Medians and p90s (seconds) of the two parts, and the mean poll requests per job."""
    reach, answer, counts = [], [], []
    for call in calls:
        job = getattr(call, "job", None) or {}
        fj = fake_jobs.get(job.get("request_id"))
        if getattr(call, "error", None) or not fj or job.get("finished_at") is None:
            continue
        done = fj["created_at"] + fj["queue_seconds"] + fj["run_seconds"]
        times = polls.get(fj["id"], [])
        after = [t for t in times if t >= done]
        counts.append(len(times))
        if after:
            reach.append(after[0] - done)
            answer.append(job["finished_at"] - after[0])
    if not reach:
        return {}
    return {
        "done->poll reaches provider": (median(reach), percentile(reach, 90)),
        "poll reaches provider->engine sees it": (median(answer), percentile(answer, 90)),
        "poll requests per job": sum(counts) / len(counts),
    }


def describe(parts: dict[str, Any]) -> str:
    if not parts:
        return "no jobs"
    text = [
        f"{name} {1000 * m:.0f} / {1000 * p:.0f} ms"
        for name, value in parts.items()
        if isinstance(value, tuple)
        for m, p in [value]
    ]
    return "; ".join(text) + f"; {parts['poll requests per job']:.2f} status/result requests per job"
