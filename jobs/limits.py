"""Spending limits as reservations: every limit is checked and the job's entry reserved in
one ledger transaction before the submit is sent, so no number of parallel submits can pass
a limit. Limits (all optional, all surviving a restart because they are read from the ledger):

- STUDIO_MAX_JOBS_PER_HOUR: jobs per person in the last hour (rolling);
- STUDIO_MAX_USD_PER_DAY: USD for the whole server per UTC day;
- STUDIO_MAX_USD_PER_PERSON_PER_DAY: USD per person per UTC day.

"Person" is the owner and, for public visitors whose owner id is cheap to renew, also their
address (`quota_key`): whichever has used more counts. A refused job says which limit, how
much is left and when it renews.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jobs.ledger import Entry, Ledger, Usage, day_start
from jobs.settings import Settings
from providers.base import StudioError
from providers.money import Price

HOUR = 3600.0
DAY = 86400.0


class QuotaError(StudioError):
    """A limit would be passed: `limit` names it (the environment variable). `code` and the
    parameters let a page say it in its own language (ui/i18n.py, `error.<code>`):
    `renew_at` (epoch seconds) and `wait_seconds` say when it renews, `videos` how many
    were asked for, `cost_usd` and `estimate` what they cost; the rest are the limit's own
    numbers (`per_hour`, `used`, `left`; `limit_usd`, `left_usd`)."""

    def __init__(self, limit: str, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message, code=code, **params)
        self.limit = limit


@dataclass(frozen=True)
class Reservation:
    """One job's share of a reservation: its id, where it goes and what it costs."""

    job_id: str
    provider: str
    model: str
    price: Price


@dataclass(frozen=True)
class Budget:
    """What is left for one person right now; None where no limit is set."""

    jobs_left: int | None
    usd_left_person: float | None
    usd_left_server: float | None

    def words(self) -> str:
        parts = []
        if self.jobs_left is not None:
            parts.append(f"{self.jobs_left} video{'s' if self.jobs_left != 1 else ''} left this hour")
        usd = [v for v in (self.usd_left_person, self.usd_left_server) if v is not None]
        if usd:
            parts.append(f"${max(min(usd), 0):.2f} left today")
        return " · ".join(parts)


def _in(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60 - 1e-9))
    if minutes <= 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _at(when: float, now: float) -> str:
    return f"{time.strftime('%H:%M', time.gmtime(when))} UTC (in {_in(when - now)})"


class Limits:
    """The three limits over one ledger. `reserve` is the only write path for new entries."""

    def __init__(self, settings: Settings, ledger: Ledger, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._ledger = ledger
        self._clock = clock

    def _person(
        self, since: float, owner: str, quota_hash: str | None, conn: object
    ) -> tuple[Usage, str, str]:
        """The person's usage since `since`: the larger of owner's and address's."""
        by_owner = self._ledger.usage(since, owner=owner, conn=conn)  # type: ignore[arg-type]
        if quota_hash is None:
            return by_owner, "owner", owner
        by_address = self._ledger.usage(since, quota_hash=quota_hash, conn=conn)  # type: ignore[arg-type]
        if by_address.jobs > by_owner.jobs or by_address.usd > by_owner.usd:
            return (
                Usage(max(by_owner.jobs, by_address.jobs), max(by_owner.usd, by_address.usd)),
                "quota",
                quota_hash,
            )
        return by_owner, "owner", owner

    def reserve(
        self, *, job_id: str, owner: str, quota_key: str | None, provider: str, model: str, price: Price
    ) -> None:
        """Check every limit and reserve the job's entry, atomically. Raises QuotaError."""
        self.reserve_many(owner=owner, quota_key=quota_key, items=[Reservation(job_id, provider, model, price)])

    def reserve_many(self, *, owner: str, quota_key: str | None, items: Sequence[Reservation]) -> None:
        """Check every limit against all `items` together and reserve one entry per item,
        in one transaction: either every job is reserved or none is (a comparison runs whole
        or is refused whole). Raises QuotaError naming the limit, what is left and the cost."""
        s = self.settings
        now = self._clock()
        quota_hash = self._ledger.hash_quota_key(quota_key)
        count = len(items)
        usd = sum(item.price.usd for item in items)
        what = "this video costs" if count == 1 else f"these {count} videos cost"
        cost = items[0].price.words() if count == 1 else f"${usd:.2f}"
        with self._ledger.transaction() as conn:
            if s.max_jobs_per_hour is not None:
                since = now - HOUR
                used, column, value = self._person(since, owner, quota_hash, conn)
                if used.jobs + count > s.max_jobs_per_hour:
                    oldest = self._ledger.oldest_since(
                        since,
                        owner=value if column == "owner" else None,
                        quota_hash=value if column == "quota" else None,
                        conn=conn,
                    )
                    renew = (oldest or now) + HOUR
                    jobs_left = max(s.max_jobs_per_hour - used.jobs, 0)
                    asked = "" if count == 1 else f" This asks for {count}."
                    raise QuotaError(
                        "STUDIO_MAX_JOBS_PER_HOUR",
                        f"Limit reached: this studio allows {s.max_jobs_per_hour} videos per hour per person, "
                        f"and you have made {used.jobs}; {jobs_left} left.{asked} The next one frees up at "
                        f"{_at(renew, now)}.",
                        code="limit_jobs_per_hour",
                        per_hour=s.max_jobs_per_hour,
                        used=used.jobs,
                        left=jobs_left,
                        videos=count,
                        renew_at=renew,
                        wait_seconds=renew - now,
                    )
            today = day_start(now)
            renew_day = _at(today + DAY, now)

            def money(limit_usd: float, left: float) -> dict[str, object]:
                return {
                    "limit_usd": limit_usd,
                    "left_usd": max(left, 0.0),
                    "videos": count,
                    "cost_usd": usd,
                    "estimate": any(item.price.estimated for item in items),
                    "renew_at": today + DAY,
                    "wait_seconds": today + DAY - now,
                }
            if s.max_usd_per_person_per_day is not None:
                used, _, _ = self._person(today, owner, quota_hash, conn)
                left = s.max_usd_per_person_per_day - used.usd
                if usd > left + 1e-9:
                    raise QuotaError(
                        "STUDIO_MAX_USD_PER_PERSON_PER_DAY",
                        f"Limit reached: this studio spends at most ${s.max_usd_per_person_per_day:.2f} a day per "
                        f"person; ${max(left, 0):.2f} is left today and {what} {cost}. "
                        f"It renews at {renew_day}.",
                        code="limit_usd_per_person",
                        **money(s.max_usd_per_person_per_day, left),
                    )
            if s.max_usd_per_day is not None:
                left = s.max_usd_per_day - self._ledger.server_usd_on(today, conn)
                if usd > left + 1e-9:
                    raise QuotaError(
                        "STUDIO_MAX_USD_PER_DAY",
                        f"Limit reached: this studio spends at most ${s.max_usd_per_day:.2f} a day for everyone; "
                        f"${max(left, 0):.2f} is left today and {what} {cost}. "
                        f"It renews at {renew_day}.",
                        code="limit_usd_per_day",
                        **money(s.max_usd_per_day, left),
                    )
            for item in items:
                self._ledger.reserve(
                    conn,
                    Entry(
                        job_id=item.job_id,
                        owner=owner,
                        quota_key=quota_hash,
                        provider=item.provider,
                        model=item.model,
                        usd=item.price.usd,
                        price_source=item.price.source,
                        state="reserved",
                        created_at=now,
                    ),
                )

    def budget(self, owner: str, quota_key: str | None) -> Budget:
        """What is left for this person now (for the form, next to the price)."""
        s = self.settings
        now = self._clock()
        quota_hash = self._ledger.hash_quota_key(quota_key)
        with self._ledger.transaction() as conn:
            jobs_left = person_left = server_left = None
            if s.max_jobs_per_hour is not None:
                used, _, _ = self._person(now - HOUR, owner, quota_hash, conn)
                jobs_left = max(s.max_jobs_per_hour - used.jobs, 0)
            today = day_start(now)
            if s.max_usd_per_person_per_day is not None:
                used, _, _ = self._person(today, owner, quota_hash, conn)
                person_left = round(s.max_usd_per_person_per_day - used.usd, 4)
            if s.max_usd_per_day is not None:
                server_left = round(s.max_usd_per_day - self._ledger.server_usd_on(today, conn), 4)
        return Budget(jobs_left, person_left, server_left)
