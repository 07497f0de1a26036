"""Money facts every provider shares: a run's price and where it came from, a key check's
verdict, and the catalog's price (or an estimate) when no provider quote is available.

A price comes from one of three places, best first: the provider's own quote for exactly
this run (`quote`), the price the provider publishes for the model (`catalog`), or an
`estimate`: the provider's highest known price for the same kind and resolution, so a limit
counts an unknown price high rather than free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from providers import catalog

PriceSource = Literal["quote", "catalog", "estimate"]
# Where a price formula is published it scales with the video's length from a 5 s base
# (WaveSpeedAI's model list: `base_price * duration / 5`).
BASE_SECONDS = 5.0


@dataclass(frozen=True)
class Price:
    """What one run costs in USD and where that figure came from."""

    usd: float
    source: PriceSource

    @property
    def estimated(self) -> bool:
        return self.source == "estimate"

    def words(self) -> str:
        """'$0.30', or 'about $0.60 (estimate)' when the provider published no price."""
        if self.usd == 0:
            return "free"
        amount = f"${self.usd:.2f}"
        return f"about {amount} (estimate)" if self.estimated else amount


@dataclass(frozen=True)
class KeyCheck:
    """A key's verdict from a request that bills nothing. `works` is None when the
    provider could not be asked (unreachable, 5xx): neither accepted nor refused."""

    provider: str
    works: bool | None
    message: str
    balance_usd: float | None = None


def _length_factor(spec: catalog.ModelSpec, options: Mapping[str, catalog.Value]) -> float:
    return max(spec.seconds(options), BASE_SECONDS) / BASE_SECONDS


def _highest_known(spec: catalog.ModelSpec, resolution: str, models: Iterable[catalog.ModelSpec]) -> float | None:
    """The highest published price of a paid model like `spec`: same provider, kind and
    resolution first, then same provider and resolution, then any provider."""
    paid = [m for m in models if m.price_usd]
    tiers = (
        [m for m in paid if m.provider == spec.provider and m.kind == spec.kind],
        [m for m in paid if m.provider == spec.provider],
        [m for m in paid if m.kind == spec.kind],
        paid,
    )
    for tier in tiers:
        same_resolution = [m.price_usd or 0.0 for m in tier if m.resolution({}) == resolution]
        if same_resolution:
            return max(same_resolution)
    return None


def catalog_price(
    spec: catalog.ModelSpec,
    options: Mapping[str, catalog.Value],
    models: Iterable[catalog.ModelSpec] | None = None,
) -> Price:
    """The run's price from the catalog; an estimate where the provider published none, or
    where the run is longer than the published 5 s run. `models` are the ones the studio
    offers (default: the built-in ones), whose prices an estimate is taken from."""
    factor = _length_factor(spec, options)
    if spec.price_usd is not None:
        source: PriceSource = "catalog" if factor == 1 or spec.price_usd == 0 else "estimate"
        return Price(round(spec.price_usd * factor, 4), source)
    highest = _highest_known(spec, spec.resolution(options), catalog.models() if models is None else models)
    return Price(round((highest or 0.0) * factor, 4), "estimate")
