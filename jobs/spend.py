"""Spend figures from ledger entries: today, this month and all time, by provider and by
model. USD counts what was or may have been billed (charged, unknown, still reserved);
refunded entries show apart."""

from __future__ import annotations

from collections.abc import Iterable

from jobs.ledger import COSTING, Entry, day_start, month_start


def summarize(entries: Iterable[Entry], now: float) -> dict[str, object]:
    today, month = day_start(now), month_start(now)
    total = today_usd = month_usd = refunded = 0.0
    by_provider: dict[str, float] = {}
    by_model: dict[str, float] = {}
    jobs = estimated = 0
    for entry in entries:
        jobs += 1
        if entry.state not in COSTING:
            refunded += entry.usd
            continue
        total += entry.usd
        if entry.created_at >= month:
            month_usd += entry.usd
        if entry.created_at >= today:
            today_usd += entry.usd
        if entry.price_source == "estimate":
            estimated += 1
        by_provider[entry.provider] = by_provider.get(entry.provider, 0.0) + entry.usd
        by_model[entry.model] = by_model.get(entry.model, 0.0) + entry.usd
    return {
        "today_usd": round(today_usd, 4),
        "month_usd": round(month_usd, 4),
        "total_usd": round(total, 4),
        "refunded_usd": round(refunded, 4),
        "by_provider": {k: round(v, 4) for k, v in sorted(by_provider.items())},
        "by_model": {k: round(v, 4) for k, v in sorted(by_model.items())},
        "jobs": jobs,
        "estimated_jobs": estimated,
    }
